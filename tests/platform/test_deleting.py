"""Deleting a dataset or weights frees their stored files, and never what is still in use."""

import pytest

from platform_api.datasets.models import Dataset
from platform_api.datasets.services import create_dataset
from platform_api.registry.models import PretrainedWeights
from platform_api.storage import get_storage
from platform_api.training.services import submit_job
from tests.factories import classification_zip
from tests.platform.flows import import_in_process
from tests.platform.test_weights import register
from tests.queueing import IMPORT_DATASET, TRAIN_JOB, queued

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def dataset(user, tmp_path):
    return import_in_process(user, classification_zip(tmp_path / "d.zip"))


def test_deleting_a_dataset_frees_its_archive_and_files(api, dataset):
    storage = get_storage()
    assert storage.exists(dataset.archive_key) and storage.exists(dataset.content_key)
    assert api.delete(f"/api/v1/datasets/{dataset.pk}/").status_code == 204
    assert not Dataset.objects.filter(pk=dataset.pk).exists()
    assert not storage.exists(dataset.archive_key) and not storage.exists(dataset.content_key)


def test_a_dataset_a_job_trained_on_is_kept_with_its_files(api, user, templates, dataset):
    with queued(TRAIN_JOB):
        submit_job(user, "fai-cls", dataset.pk, {})
    response = api.delete(f"/api/v1/datasets/{dataset.pk}/")
    assert response.status_code == 409 and "used by training jobs" in response.json()["detail"]
    assert get_storage().exists(dataset.content_key)


def test_a_dataset_being_imported_cannot_be_deleted(api, user, tmp_path):
    zip_path = classification_zip(tmp_path / "d.zip")
    with queued(IMPORT_DATASET):
        importing = create_dataset(user, "colours", "classification_folder", zip_path, zip_path.stat().st_size)
    response = api.delete(f"/api/v1/datasets/{importing.pk}/")
    assert response.status_code == 409 and "importing" in response.json()["detail"]
    assert get_storage().exists(importing.archive_key)


def test_another_user_cannot_delete_a_dataset(other_api, dataset):
    assert other_api.delete(f"/api/v1/datasets/{dataset.pk}/").status_code == 404
    assert get_storage().exists(dataset.content_key)


def test_deleting_weights_frees_their_file(api, other_api):
    weights_id = register(api).json()["id"]
    file_key = PretrainedWeights.objects.get(pk=weights_id).file_key
    assert get_storage().exists(file_key)
    assert other_api.delete(f"/api/v1/weights/{weights_id}/").status_code == 404
    assert api.delete(f"/api/v1/weights/{weights_id}/").status_code == 204
    assert not PretrainedWeights.objects.filter(pk=weights_id).exists()
    assert not get_storage().exists(file_key)
