"""With S3 storage a job can resume on another machine, and a finished job leaves no checkpoint behind."""
import shutil
from unittest import mock

import boto3
import pytest
from moto import mock_aws

from platform_api.registry.models import ModelVersion
from platform_api.storage import get_storage
from platform_api.training import runner
from platform_api.training.models import Job
from platform_api.training.runner import checkpoint_key, job_work_dir, run_job
from platform_api.training.services import submit_job
from tests.factories import classification_zip
from tests.platform.flows import import_in_process

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def s3(settings, monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    settings.STORAGE_BACKEND, settings.S3_BUCKET, settings.S3_PREFIX = "s3", "platform", "tests"
    with mock_aws():
        boto3.client("s3").create_bucket(Bucket="platform")
        get_storage.cache_clear()
        yield get_storage()
    get_storage.cache_clear()


@pytest.fixture
def no_queue():
    with mock.patch("workers.tasks.train_job_task.delay") as train, mock.patch("workers.tasks.import_dataset_task.delay"):
        yield train


def stop_worker_after_first_upload(storage):
    """The machine goes away right after its first checkpoint reached S3."""
    upload = storage.save_file

    def upload_then_stop(key, src, move=False):
        upload(key, src, move)
        if key.endswith("last.pt"):
            runner.worker_stopping.set()

    return mock.patch.object(storage, "save_file", side_effect=upload_then_stop)


def test_a_job_resumes_on_another_machine_from_its_checkpoint_on_s3(user, templates, tmp_path, s3, no_queue):
    dataset = import_in_process(user, classification_zip(tmp_path / "d.zip"))
    job = submit_job(user, "fai-cls", dataset.pk, {"backbone": "tiny_test", "resolution": 32, "epochs": 3})
    try:
        with stop_worker_after_first_upload(s3):
            run_job(job.pk)
    finally:
        runner.worker_stopping.clear()
    job.refresh_from_db()
    assert job.status == "running" and job.lease_owner == ""  # handed back
    assert s3.exists(checkpoint_key(job.pk))

    shutil.rmtree(job_work_dir(job.pk))  # the next worker runs on another machine
    run_job(job.pk)

    job.refresh_from_db()
    assert job.status == "succeeded", job.error_message
    assert job.resumed_from_epoch == 1
    assert [entry.epoch for entry in job.metrics_history.order_by("epoch")] == [1, 2, 3]
    assert not s3.exists(checkpoint_key(job.pk))  # finished: nothing left to resume from
    assert s3.exists(ModelVersion.objects.get(job=job).artifact_key)


def test_a_cancelled_job_leaves_no_checkpoint_on_s3(user, templates, tmp_path, s3, no_queue):
    dataset = import_in_process(user, classification_zip(tmp_path / "d.zip"))
    job = submit_job(user, "fai-cls", dataset.pk, {"backbone": "tiny_test", "resolution": 32, "epochs": 3})
    with mock.patch.object(runner, "_cancel_requested", side_effect=lambda job_id: s3.exists(checkpoint_key(job_id))):
        run_job(job.pk)
    assert Job.objects.get(pk=job.pk).status == "cancelled"
    assert not s3.exists(checkpoint_key(job.pk))
    assert not job_work_dir(job.pk).exists()
