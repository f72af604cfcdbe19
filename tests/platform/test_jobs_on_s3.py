"""With S3 storage a job can resume on another machine, and a finished job leaves no checkpoint behind."""
import shutil
from unittest import mock

import boto3
import torch
import pytest
from moto import mock_aws

from platform_api.registry.models import ModelVersion
from platform_api.storage import get_storage
from platform_api.training import callbacks, registration, runner
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
    assert job.status == "queued" and job.lease_owner == ""  # handed back
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
    with mock.patch.object(callbacks, "cancel_requested", side_effect=lambda job_id: s3.exists(checkpoint_key(job_id))):
        run_job(job.pk)
    assert Job.objects.get(pk=job.pk).status == "cancelled"
    assert not s3.exists(checkpoint_key(job.pk))
    assert not job_work_dir(job.pk).exists()


def test_a_job_back_on_a_machine_it_left_resumes_from_s3_not_its_older_local_checkpoint(
    user, templates, tmp_path, s3, no_queue, settings
):
    dataset = import_in_process(user, classification_zip(tmp_path / "d.zip"))
    job = submit_job(user, "fai-cls", dataset.pk, {"backbone": "tiny_test", "resolution": 32, "epochs": 4})
    machine_1, machine_2 = tmp_path / "machine1", tmp_path / "machine2"
    for machine in (machine_1, machine_2):  # each stops after its first checkpoint upload
        settings.WORK_DIR = machine
        try:
            with stop_worker_after_first_upload(s3):
                run_job(job.pk)
        finally:
            runner.worker_stopping.clear()
    left_behind = torch.load(machine_1 / "jobs" / str(job.pk) / "checkpoints" / "last.pt", weights_only=True)
    assert left_behind["state"]["epoch"] == 1  # machine 1's own copy, now stale

    settings.WORK_DIR = machine_1
    run_job(job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded", job.error_message
    assert job.resumed_from_epoch >= 2  # from S3's checkpoint, written on machine 2
    assert [entry.epoch for entry in job.metrics_history.order_by("epoch")] == [1, 2, 3, 4]


def test_a_worker_that_lost_its_lease_while_saving_the_model_leaves_no_files(user, templates, tmp_path, s3, no_queue):
    dataset = import_in_process(user, classification_zip(tmp_path / "d.zip"))
    job = submit_job(user, "fai-cls", dataset.pk, {"backbone": "tiny_test", "resolution": 32, "epochs": 1})
    finish = registration.finish  # training ends the job and records its model in one transaction

    def lease_lost_at_registration(job_id, owner, status, **fields):
        if status == Job.Status.SUCCEEDED:
            return False  # another worker owns the job now
        return finish(job_id, owner, status, **fields)

    with mock.patch.object(registration, "finish", side_effect=lease_lost_at_registration):
        run_job(job.pk)
    assert not ModelVersion.objects.filter(job=job).exists()
    assert not s3.exists(f"models/job-{job.pk}") and not any(
        obj["Key"].startswith(f"tests/models/job-{job.pk}-")
        for obj in boto3.client("s3").list_objects_v2(Bucket="platform").get("Contents", [])
    )
