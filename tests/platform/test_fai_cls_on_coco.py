"""FAI-CLS trains on Roboflow-COCO datasets as multi-label classification."""

import pytest

from platform_api.deployments import services
from platform_api.deployments.models import Deployment
from platform_api.registry.models import ModelVersion
from platform_api.training.models import Job
from platform_api.training.runner import run_job
from tests.factories import roboflow_coco_zip
from tests.platform.flows import held_out, import_in_process, predict_base64
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


def test_a_roboflow_coco_dataset_trains_a_multi_label_classifier(api, user, templates, coco_dataset):
    job = submit_and_run(api, coco_dataset, {"backbone": "tiny_test", "resolution": 32, "epochs": 2, "batch_size": 4, "multi_label": True})
    assert job.status == "succeeded", job.error_message
    assert "f1_macro" in job.metrics
    # Its report scores it as the classifier it is, with a threshold tuned for each class.
    model = ModelVersion.objects.get(job=job)
    report = api.get(f"/api/v1/models/{model.pk}/evaluation/").json()
    assert report["task"] == "classification" and report["dataset_task"] == "instance_segmentation"
    assert report["multi_label"] and 0.0 <= report["metrics"]["mAP"] <= 1.0
    assert report["metrics"]["f1_macro"] == pytest.approx(job.metrics["f1_macro"], abs=1e-6)
    tuned = report["tuned_thresholds"]
    assert set(tuned) == {name for name, figures in report["per_class"].items() if figures["pr_curve"]}
    for name, threshold in tuned.items():
        assert report["per_class"][name]["f1_at_tuned_threshold"] >= report["per_class"][name]["f1"] - 1e-9
    # A deployment reports each class at its own tuned threshold when asked.
    deployment = Deployment.objects.create(owner=user, model_version=model)
    services.load_deployment(deployment.pk)
    images = held_out(("red", "blue", "green"))
    every = predict_base64(api, deployment.pk, images, {"threshold": 0.0}).json()["predictions"]
    chosen = predict_base64(api, deployment.pk, images, {"threshold": "tuned"}).json()["predictions"]
    default_threshold = report["threshold"]
    for all_classes, kept in zip(every, chosen):
        expected = [c["label"] for c in all_classes if c["conf"] >= tuned.get(c["label"], default_threshold)]
        assert [c["label"] for c in kept] == expected


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
