"""FAI-CLS trains on Roboflow-COCO datasets as multi-label classification."""

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


def test_single_label_training_on_multi_category_images_is_refused_at_submission(api, templates, coco_dataset):
    response = api.post("/api/v1/jobs/", {"template": "fai-cls", "dataset": coco_dataset.pk,
                                          "hyperparameters": {"backbone": "tiny_test", "resolution": 32}}, format="json")
    assert response.status_code == 400, response.content
    [message] = response.json()["dataset"]
    assert "labels; single-label training needs exactly one per image (set multi_label=true)" in message
    assert not Job.objects.exists()


def test_single_label_training_on_multi_category_images_fails_with_a_clear_code(api, user, templates, coco_dataset):
    # A job that reached a worker unchecked (queued before submission checked labels).
    from platform_api.training.services import submit_job

    with queued(TRAIN_JOB):
        job = submit_job(user, "fai-cls", coco_dataset.pk, {"backbone": "tiny_test", "resolution": 32, "multi_label": True})
        Job.objects.filter(pk=job.pk).update(hyperparameters={**job.hyperparameters, "multi_label": False,
                                                              "epochs": 1, "batch_size": 4})
        run_job(job.pk)
    job = Job.objects.get(pk=job.pk)
    assert job.status == "failed"
    assert job.error_code == "multi_label_required"
    assert "multi_label" in job.error_message
