"""Imports are leased like jobs: a dead importer's dataset is imported by the next worker."""
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from platform_api.datasets import services
from platform_api.datasets.models import Dataset
from tests.factories import classification_zip
from tests.queueing import IMPORT_DATASET, queued

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queue():
    with queued(IMPORT_DATASET) as delay:
        yield delay


@pytest.fixture
def uploaded(user, tmp_path, queue):
    zip_path = classification_zip(tmp_path / "d.zip")
    dataset = services.create_dataset(user, "colours", "classification_folder", zip_path, zip_path.stat().st_size)
    queue.reset_mock()
    return dataset


def die_while_importing(dataset, worker="dead-worker"):
    """A worker took the import, then vanished: its lease has lapsed."""
    assert services.DATASET_IMPORTS.acquire(dataset.pk, worker)
    Dataset.objects.filter(pk=dataset.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))


def test_a_second_delivery_does_not_import_a_dataset_another_worker_is_importing(uploaded):
    assert services.DATASET_IMPORTS.acquire(uploaded.pk, "busy-worker")
    services.import_dataset(uploaded.pk)
    uploaded.refresh_from_db()
    assert uploaded.status == "importing" and uploaded.lease_owner == "busy-worker"


def test_a_dead_importer_s_dataset_is_queued_again_and_then_imported(uploaded, queue):
    die_while_importing(uploaded)
    assert services.DATASET_IMPORTS.recover() == [uploaded.pk]
    queue.assert_called_once_with(uploaded.pk)
    assert services.DATASET_IMPORTS.recover() == []  # not queued twice while waiting for a worker
    services.import_dataset(uploaded.pk)
    uploaded.refresh_from_db()
    assert uploaded.status == "ready" and uploaded.splits == {"train": 16, "valid": 8}
    assert uploaded.lease_owner == "" and uploaded.lost_leases == 1


def test_an_import_whose_workers_keep_dying_fails_with_a_message(uploaded, settings):
    Dataset.objects.filter(pk=uploaded.pk).update(lost_leases=settings.JOB_MAX_ATTEMPTS - 1)
    die_while_importing(uploaded)
    services.DATASET_IMPORTS.recover()
    uploaded.refresh_from_db()
    assert uploaded.status == "failed" and "died" in uploaded.error


def test_a_finished_import_releases_its_lease(uploaded):
    services.import_dataset(uploaded.pk)
    uploaded.refresh_from_db()
    assert uploaded.status == "ready" and uploaded.lease_owner == "" and uploaded.lease_expires_at is None
    assert services.DATASET_IMPORTS.recover() == []


def test_an_importer_that_lost_its_lease_does_not_publish_its_copy(uploaded, settings):
    import time

    settings.JOB_HEARTBEAT_SECONDS = 0.05
    real_import = services.import_archive

    def slow_import_stolen_midway(*args, **kwargs):
        Dataset.objects.filter(pk=uploaded.pk).update(lease_owner="thief")  # lease taken over
        time.sleep(0.5)  # the heartbeat notices
        return real_import(*args, **kwargs)

    with mock.patch.object(services, "import_archive", side_effect=slow_import_stolen_midway):
        services.import_dataset(uploaded.pk)
    uploaded.refresh_from_db()
    assert uploaded.status == "importing" and uploaded.lease_owner == "thief"
    assert uploaded.content_key == ""


def test_an_importer_whose_lease_was_taken_before_its_heartbeat_noticed_publishes_nothing(uploaded):
    from platform_api.storage import get_storage

    real_import = services.import_archive
    calls = []

    def first_worker(*args, **kwargs):
        calls.append(1)
        result = real_import(*args, **kwargs)
        if len(calls) == 1:  # the first worker, stalled: its lease lapses and the next one imports
            Dataset.objects.filter(pk=uploaded.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
            services.import_dataset(uploaded.pk)
            winner = get_storage().local_dir(Dataset.objects.get(pk=uploaded.pk).content_key)
            (winner / "read-by-a-running-job").write_text("must survive")
        return result

    with mock.patch.object(services, "import_archive", side_effect=first_worker):
        services.import_dataset(uploaded.pk)
    uploaded.refresh_from_db()
    assert uploaded.status == "ready" and len(calls) == 2
    folders = sorted(p.name for p in get_storage().path(f"datasets/{uploaded.pk}").iterdir())
    assert folders == ["archive.zip", uploaded.content_key.rsplit("/", 1)[1]]  # only the winner's files
    assert (get_storage().local_dir(uploaded.content_key) / "read-by-a-running-job").exists()  # untouched
    assert uploaded.lost_leases == 1  # the stalled worker was counted when its lapsed lease was taken


def test_recovery_leaves_an_import_whose_worker_renewed_after_being_listed(uploaded, settings):
    Dataset.objects.filter(pk=uploaded.pk).update(lost_leases=settings.JOB_MAX_ATTEMPTS - 1)
    die_while_importing(uploaded, "slow-worker")
    real_filter = Dataset.objects.filter

    def renew_right_after_listing(*args, **kwargs):
        rows = real_filter(*args, **kwargs)
        if kwargs.get("lease_owner") == "slow-worker":  # recovery builds its update for the row ...
            real_filter(pk=uploaded.pk).update(lease_expires_at=timezone.now() + timedelta(seconds=60))  # ... renewed
        return rows

    with mock.patch.object(Dataset.objects, "filter", side_effect=renew_right_after_listing):
        services.DATASET_IMPORTS.recover()
    uploaded.refresh_from_db()
    assert uploaded.status == "importing" and uploaded.lease_owner == "slow-worker"
