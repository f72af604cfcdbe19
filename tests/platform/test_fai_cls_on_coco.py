"""FAI-CLS trains on Roboflow-COCO datasets as multi-label classification (seed 001)."""

import pytest

from platform_api.training.models import Job
from platform_api.training.runner import run_job
from tests.factories import roboflow_coco_zip
from tests.platform.flows import import_in_process
from tests.queueing import TRAIN_JOB, queued

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def coco_dataset(user, tmp_path):
    return import_in_process(user, roboflow_coco_zip(tmp_path / "shapes.zip"), fmt="roboflow_coco", name="shapes")


def submit_and_run(api, dataset, hyperparameters):
    with queued(TRAIN_JOB):
        response = api.post("/api/v1/jobs/", {"template": "fai-cls", "dataset": dataset.pk, "hyperparameters": hyperparameters}, format="json")
        assert response.status_code == 201, response.content
        run_job(response.json()["id"])
    return Job.objects.get(pk=response.json()["id"])


def test_a_roboflow_coco_dataset_trains_a_multi_label_classifier(api, templates, coco_dataset):
    job = submit_and_run(api, coco_dataset, {"backbone": "tiny_test", "resolution": 32, "epochs": 2, "batch_size": 4, "multi_label": True})
    assert job.status == "succeeded", job.error_message
    assert "f1_macro" in job.metrics


def test_single_label_training_on_multi_category_images_fails_with_a_clear_code(api, templates, coco_dataset):
    job = submit_and_run(api, coco_dataset, {"backbone": "tiny_test", "resolution": 32, "epochs": 1, "batch_size": 4})
    assert job.status == "failed"
    assert job.error_code == "multi_label_required"
    assert "multi_label" in job.error_message
