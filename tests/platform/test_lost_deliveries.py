"""Work whose queue message was lost is sent again; work merely waiting its turn is left alone.

These run against the configured broker (the file-system one, or Redis in CI)."""
from datetime import timedelta

import pytest
from django.utils import timezone

from platform_api.datasets.services import DATASET_IMPORTS, create_dataset
from platform_api.work.leased_work import LostDeliveries, queue_depth
from platform_api.training.lifecycle import TRAINING_JOBS as lease
from platform_api.training.models import Job
from platform_api.training.services import submit_job
from tests.conftest import _purge_queues
from tests.factories import classification_zip
from tests.platform.flows import FAST_FAI_CLS, import_in_process, upload_dataset, wait_dataset, wait_job

pytestmark = pytest.mark.django_db(transaction=True)

recover_stale_jobs = lease.recover


def job_deliveries() -> LostDeliveries:
    return LostDeliveries(lease)


def import_deliveries() -> LostDeliveries:
    return LostDeliveries(DATASET_IMPORTS)


@pytest.fixture
def dataset(user, tmp_path):
    return import_in_process(user, classification_zip(tmp_path / "d.zip"))


@pytest.fixture
def empty_queues():
    _purge_queues()
    yield
    _purge_queues()


def test_a_queued_job_whose_message_was_lost_is_sent_again_after_two_checks(user, templates, dataset, empty_queues):
    job = submit_job(user, "fai-cls", dataset.pk, {})
    assert queue_depth("training") == 1
    _purge_queues()  # a worker fetched the message and died before taking the lease
    deliveries = job_deliveries()
    assert deliveries.check() == []  # short once: maybe a worker is taking it right now
    assert deliveries.check() == [job.pk]
    assert queue_depth("training") == 1
    assert deliveries.check() == []  # the queue holds it again


def test_jobs_waiting_their_turn_are_not_sent_again(user, templates, dataset, empty_queues):
    jobs = [submit_job(user, "fai-cls", dataset.pk, {}) for _ in range(3)]
    assert lease.acquire(jobs[0].pk, "w") and lease.release(jobs[0].pk, "w")  # handed back
    deliveries = job_deliveries()
    assert queue_depth("training") == 3
    assert [deliveries.check() for _ in range(3)] == [[], [], []]
    assert queue_depth("training") == 3


def test_a_job_that_stopped_waiting_between_checks_is_not_sent_again(user, templates, dataset, empty_queues):
    job = submit_job(user, "fai-cls", dataset.pk, {})
    _purge_queues()
    deliveries = job_deliveries()
    assert deliveries.check() == []
    assert lease.acquire(job.pk, "w")  # the worker that fetched it was only slow
    assert deliveries.check() == []
    assert queue_depth("training") == 0


def test_an_import_whose_message_was_lost_is_sent_again(user, tmp_path, empty_queues):
    zip_path = classification_zip(tmp_path / "d.zip")
    dataset = create_dataset(user, "colours", "classification_folder", zip_path, zip_path.stat().st_size)
    assert queue_depth("default") == 1
    _purge_queues()
    deliveries = import_deliveries()
    assert deliveries.check() == []
    assert deliveries.check() == [dataset.pk]
    assert queue_depth("default") == 1


def test_a_handed_back_job_waiting_long_is_not_counted_as_a_dead_worker(user, templates, dataset, settings):
    job = submit_job(user, "fai-cls", dataset.pk, {})
    assert lease.acquire(job.pk, "leaving-worker") and lease.release(job.pk, "leaving-worker")
    for _ in range(settings.JOB_MAX_ATTEMPTS + 1):  # it waits behind other jobs for many lease periods
        Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
        assert recover_stale_jobs() == []
    job.refresh_from_db()
    assert job.status == "queued" and job.lease_owner == "" and job.lost_leases == 0


@pytest.mark.slow
@pytest.mark.worker
def test_a_worker_delivers_an_import_and_a_job_whose_messages_were_lost(api, templates, start_worker, tmp_path):
    dataset_id = upload_dataset(api, classification_zip(tmp_path / "colours.zip")).json()["id"]
    _purge_queues()  # lost before any worker ran
    worker = start_worker()
    assert wait_dataset(api, dataset_id)["status"] == "ready"

    worker.stop()
    job_id = api.post("/api/v1/jobs/", {"template": "fai-cls", "dataset": dataset_id, "hyperparameters": FAST_FAI_CLS}, format="json").json()["id"]
    _purge_queues()
    worker = start_worker()
    job = wait_job(api, job_id, timeout=120, worker=worker)
    assert job["status"] == "succeeded", job
    assert job["attempts"] == 1
