"""Deletes are idempotent: parallel or retried deletes of one dataset (or weights) free its
files once, answer one 204 and then 404s, and never a 500; storage removal of a key
someone else is removing, or has removed, is not an error (local disk and S3)."""
from __future__ import annotations

import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from django.db import connection
from moto import mock_aws
from rest_framework.authtoken.models import Token

from platform_api.datasets.models import Dataset
from platform_api.registry.models import PretrainedWeights
from platform_api.registry.services import delete_weights
from platform_api.storage import LocalStorage, S3Storage, get_storage

PARALLEL = 4


def write_tree(root: Path, folders: int = 20, files: int = 50) -> Path:
    for folder in range(folders):
        (root / f"class{folder}").mkdir(parents=True)
        for n in range(files):
            (root / f"class{folder}" / f"{n}.png").write_bytes(b"x")
    return root


def in_parallel(call, times: int = PARALLEL) -> list:
    """`call()` from `times` threads released at once; their results (or exceptions)."""
    start = threading.Barrier(times)

    def run():
        start.wait()
        try:
            return call()
        except Exception as exc:  # the test asserts there are none
            return exc
        finally:
            connection.close()  # each thread's own database connection

    with ThreadPoolExecutor(times) as pool:
        return list(pool.map(lambda _: run(), range(times)))


def stored_dataset(owner, tmp_path: Path) -> Dataset:
    dataset = Dataset.objects.create(owner=owner, name="d", format="classification_folder", task="classification",
                                     status="ready", classes=["a", "b"])
    dataset.archive_key = f"datasets/{dataset.pk}/archive.zip"
    dataset.content_key = f"datasets/{dataset.pk}/content-abc"
    dataset.save()
    (tmp_path / "archive.zip").write_bytes(b"PK")
    get_storage().save_file(dataset.archive_key, tmp_path / "archive.zip")
    get_storage().save_dir(write_tree(tmp_path / f"content-{dataset.pk}"), dataset.content_key)
    return dataset


def test_parallel_local_deletes_of_one_folder_all_succeed(tmp_path):
    storage = LocalStorage(tmp_path / "root")
    for round_ in range(3):
        write_tree(storage.path(f"datasets/{round_}"))
        results = in_parallel(lambda: storage.delete(f"datasets/{round_}"))
        assert results == [None] * PARALLEL
        assert not storage.exists(f"datasets/{round_}")


def test_deleting_a_key_already_gone_is_not_an_error(tmp_path):
    storage = LocalStorage(tmp_path / "root")
    storage.delete("datasets/404")
    storage.delete("weights/404.pt")


@pytest.fixture
def s3_storage(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        boto3.client("s3").create_bucket(Bucket="models")
        yield S3Storage("models", "platform", tmp_path / "cache")


def test_parallel_s3_deletes_of_one_folder_all_succeed(s3_storage, tmp_path):
    s3_storage.save_dir(write_tree(tmp_path / "artifact", folders=4, files=10), "models/job-1")
    s3_storage.local_dir("models/job-1")
    assert in_parallel(lambda: s3_storage.delete("models/job-1")) == [None] * PARALLEL
    assert not s3_storage.exists("models/job-1") and not (tmp_path / "cache" / "models" / "job-1").exists()


def test_an_s3_store_that_answers_no_such_key_to_a_delete_is_taken_at_its_word(s3_storage):
    """Some S3-compatible stores answer 404 to deleting an object another delete removed."""
    with Stubber(s3_storage.client) as stub:
        stub.add_response("list_objects_v2", {"Contents": [{"Key": "platform/weights/1.pt"}], "KeyCount": 1},
                          {"Bucket": "models", "Prefix": "platform/weights/1.pt"})
        stub.add_client_error("delete_object", service_error_code="NoSuchKey", http_status_code=404)
        s3_storage.delete("weights/1.pt")
        stub.assert_no_pending_responses()


@pytest.mark.django_db(transaction=True)
def test_four_parallel_deletes_of_a_dataset_answer_one_204_and_404s_and_free_its_files(live_server, user, tmp_path):
    token = Token.objects.create(user=user).key
    datasets = [stored_dataset(user, tmp_path) for _ in range(4)]

    def delete(dataset_id: int) -> int:
        request = urllib.request.Request(f"{live_server.url}/api/v1/datasets/{dataset_id}/", method="DELETE",
                                         headers={"Authorization": f"Token {token}"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as refused:
            return refused.code

    for dataset in datasets:
        statuses = in_parallel(lambda: delete(dataset.pk))
        assert sorted(statuses) == [204] + [404] * (PARALLEL - 1), statuses
        assert not get_storage().exists(f"datasets/{dataset.pk}")
    assert not Dataset.objects.exists()
    assert delete(datasets[0].pk) == 404  # and a retry later


@pytest.mark.django_db(transaction=True)
def test_parallel_deletes_of_weights_free_their_file_once(user, tmp_path):
    (tmp_path / "w.pt").write_bytes(b"weights")
    weights = PretrainedWeights.objects.create(owner=user, name="w", architecture="resnet18", file_key="weights/1.pt")
    get_storage().save_file(weights.file_key, tmp_path / "w.pt")
    copies = [PretrainedWeights.objects.get(pk=weights.pk) for _ in range(PARALLEL)]  # each request's own read
    results = in_parallel(lambda: delete_weights(copies.pop()))
    assert sorted(results) == [False] * (PARALLEL - 1) + [True], results
    assert not get_storage().exists("weights/1.pt")


@pytest.mark.django_db(transaction=True)
def test_parallel_deletes_of_a_model_then_of_its_job_each_succeed_once(user, templates, tmp_path):
    from platform_api.registry.models import ModelVersion
    from platform_api.registry.services import delete_model
    from platform_api.training.models import Job
    from platform_api.training.services import delete_job

    dataset = stored_dataset(user, tmp_path)
    job = Job.objects.create(owner=user, template_id="fai-cls", dataset=dataset, trainer="fai_cls", status="succeeded")
    model = ModelVersion.objects.create(owner=user, job=job, template_id="fai-cls", dataset=dataset, trainer="fai_cls",
                                        artifact_key="models/job-1-abc")
    get_storage().save_dir(write_tree(tmp_path / "artifact", folders=2, files=3), model.artifact_key)

    copies = [ModelVersion.objects.get(pk=model.pk) for _ in range(PARALLEL)]  # each request's own read
    results = in_parallel(lambda: delete_model(copies.pop()))
    assert sorted(results) == [False] * (PARALLEL - 1) + [True], results
    assert not get_storage().exists(model.artifact_key)

    copies = [Job.objects.get(pk=job.pk) for _ in range(PARALLEL)]
    results = in_parallel(lambda: delete_job(copies.pop()))
    assert sorted(results) == [False] * (PARALLEL - 1) + [True], results
    assert not Job.objects.exists()
