import pytest

from platform_api.datasets.models import Dataset
from platform_api.registry.models import PretrainedWeights
from platform_api.training.models import Job
from training_templates.models import Template
from tests.factories import store_manifest


@pytest.fixture
def ready_dataset(user):
    return store_manifest(Dataset.objects.create(
        owner=user, name="colours", format="classification_folder", task="classification", status="ready",
        classes=["blue", "red"], splits={"train": 4, "valid": 2}, num_images=6, content_key="datasets/x/content",
    ))


def submit(api, dataset, hyperparameters=None, template="fai-cls"):
    return api.post(
        "/api/v1/jobs/", {"template": template, "dataset": dataset.pk, "hyperparameters": hyperparameters or {}}, format="json"
    )


def test_a_valid_job_is_queued_with_defaults_filled(api, templates, ready_dataset, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        response = submit(api, ready_dataset, {"epochs": 2, "learning_rate": 0.01})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "queued"
    assert body["hyperparameters"]["epochs"] == 2
    assert body["hyperparameters"]["batch_size"] == 16  # default filled in
    assert body["progress"]["percent"] == 0.0 and body["error"] is None and body["model"] is None
    assert len(queued) == 1
    job = Job.objects.get(pk=body["id"])
    assert job.hyperparameter_spec and job.trainer == "fai_cls"


@pytest.mark.parametrize(
    "hyperparameters, field, fragment",
    [
        ({"batch_size": 0}, "batch_size", "from 1 to 256, got 0"),
        ({"batch_size": 2.5}, "batch_size", "integer"),
        ({"epochs": True}, "epochs", "integer"),
        ({"multi_label": 1}, "multi_label", "true or false"),
        ({"dropout_rate": 0.955}, "dropout_rate", "0.955"),
        ({"optimizer": "lbfgs"}, "optimizer", "lbfgs"),
        ({"not_a_parameter": 1}, "not_a_parameter", "unknown"),
    ],
)
def test_it_refuses_invalid_hyperparameters_and_queues_nothing(
    api, templates, ready_dataset, django_capture_on_commit_callbacks, hyperparameters, field, fragment
):
    with django_capture_on_commit_callbacks() as queued:
        response = submit(api, ready_dataset, hyperparameters)
    assert response.status_code == 400
    errors = response.json()["hyperparameters"]
    assert fragment in " ".join(errors[field]), errors
    assert queued == [] and Job.objects.count() == 0


def test_it_refuses_weights_that_are_not_registered_and_queues_nothing(
    api, templates, ready_dataset, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        response = submit(api, ready_dataset, {"backbone": "resnet18", "pretrained_weights": "nope"})
    assert response.status_code == 400
    message = response.json()["hyperparameters"]["pretrained_weights"][0]
    assert "no weights named 'nope' are registered for resnet18" in message
    assert queued == [] and Job.objects.count() == 0


def test_it_accepts_weights_the_user_registered_for_that_backbone(api, user, templates, ready_dataset):
    PretrainedWeights.objects.create(owner=user, name="mine", architecture="resnet18", file_key="w/1")
    assert submit(api, ready_dataset, {"backbone": "resnet18", "pretrained_weights": "mine"}).status_code == 201
    other_backbone = submit(api, ready_dataset, {"backbone": "resnet34", "pretrained_weights": "mine"})
    assert other_backbone.status_code == 400 and "pretrained_weights" in other_backbone.json()["hyperparameters"]


def test_it_refuses_an_overlong_string_and_queues_nothing(api, templates, ready_dataset):
    response = submit(api, ready_dataset, {"pretrained_weights": "x" * 100_000})
    assert response.status_code == 400
    assert response.json()["hyperparameters"]["pretrained_weights"] == ["must be at most 200 characters, got 100000"]
    assert Job.objects.count() == 0


def test_it_refuses_values_the_trainer_cannot_run_together_and_queues_nothing(
    api, templates, ready_dataset, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:  # each value alone is within its bounds
        response = submit(api, ready_dataset, {"batch_size": 1, "resolution": 32})
    assert response.status_code == 400
    assert "batch_size 1 needs resolution >= 48" in response.json()["hyperparameters"][0]
    assert queued == [] and Job.objects.count() == 0
    assert submit(api, ready_dataset, {"batch_size": 1, "resolution": 48}).status_code == 201


def test_it_accepts_an_integer_sent_as_a_json_float(api, templates, ready_dataset):
    response = submit(api, ready_dataset, {"epochs": 30.0})
    assert response.status_code == 201, response.content
    assert response.json()["hyperparameters"]["epochs"] == 30


def test_it_reports_every_bad_field_at_once(api, templates, ready_dataset):
    response = submit(api, ready_dataset, {"batch_size": 0, "epochs": 0})
    assert set(response.json()["hyperparameters"]) == {"batch_size", "epochs"}


def test_it_refuses_a_dataset_that_is_not_ready(api, templates, ready_dataset):
    Dataset.objects.filter(pk=ready_dataset.pk).update(status="importing")
    response = submit(api, ready_dataset)
    assert response.status_code == 400
    assert "not ready" in response.json()["dataset"][0]


def test_it_refuses_a_template_that_cannot_train_on_the_dataset_s_task(api, templates, ready_dataset):
    response = submit(api, ready_dataset, template="fai-mf")
    assert response.status_code == 400
    assert "classification" in response.json()["dataset"][0]


def test_it_refuses_an_inactive_template(api, templates, ready_dataset):
    Template.objects.filter(pk="fai-cls").update(is_active=False)
    response = submit(api, ready_dataset)
    assert response.status_code == 400
    assert "inactive" in response.json()["template"][0]


def test_it_refuses_an_unknown_template_and_another_user_s_dataset(api, other_api, templates, ready_dataset):
    assert "template" in submit(api, ready_dataset, template="nope").json()
    assert "dataset" in submit(other_api, ready_dataset).json()


def test_editing_a_template_does_not_change_a_submitted_job(api, templates, ready_dataset):
    job_id = submit(api, ready_dataset).json()["id"]
    Template.objects.get(pk="fai-cls").hyperparameters.filter(name="batch_size").update(default=64, maximum=64)
    job = Job.objects.get(pk=job_id)
    assert job.hyperparameters["batch_size"] == 16
    assert next(s for s in job.hyperparameter_spec if s["name"] == "batch_size")["max"] == 256


def test_cancelling_a_queued_job_ends_it_at_once_and_a_finished_job_cannot_be_cancelled(api, templates, ready_dataset):
    job_id = submit(api, ready_dataset).json()["id"]
    response = api.post(f"/api/v1/jobs/{job_id}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert api.post(f"/api/v1/jobs/{job_id}/cancel/").status_code == 409


def test_a_job_that_ends_while_the_cancel_request_is_read_answers_409(api, templates, ready_dataset):
    from unittest import mock

    from platform_api.training.views import JobViewSet

    job_id = submit(api, ready_dataset).json()["id"]
    seen_running = Job.objects.get(pk=job_id)  # what the view read before the worker finished
    Job.objects.filter(pk=job_id).update(status="succeeded")
    with mock.patch.object(JobViewSet, "get_object", return_value=seen_running):
        response = api.post(f"/api/v1/jobs/{job_id}/cancel/")
    assert response.status_code == 409 and "already ended (succeeded)" in response.json()["detail"]
    assert Job.objects.get(pk=job_id).status == "succeeded" and not Job.objects.get(pk=job_id).cancel_requested


def test_another_user_cannot_see_or_cancel_a_job(api, other_api, templates, ready_dataset):
    job_id = submit(api, ready_dataset).json()["id"]
    assert other_api.get(f"/api/v1/jobs/{job_id}/").status_code == 404
    assert other_api.post(f"/api/v1/jobs/{job_id}/cancel/").status_code == 404
    assert Job.objects.get(pk=job_id).status == "queued"


def test_the_job_body_matches_its_declared_schema_fields(api, templates, ready_dataset):
    from platform_api.training.serializers import JobSerializer

    body = submit(api, ready_dataset).json()
    declared = JobSerializer.Meta.fields
    assert list(body) == declared
    job = Job.objects.get(pk=body["id"])
    # Field by field, what DRF's own fields would have written.
    drf = {name: field.to_representation(field.get_attribute(job)) for name, field in JobSerializer().fields.items()
           if name not in ("error", "model")}
    assert {k: v for k, v in body.items() if k in drf} == drf


@pytest.fixture
def segmentation_dataset(user):
    return store_manifest(Dataset.objects.create(
        owner=user, name="scenes", format="roboflow_seg", task="semantic_segmentation", status="ready",
        classes=["background", "cell"], splits={"train": 4, "valid": 2}, num_images=6,
    ))


def test_a_fai_mf_job_records_the_auto_values_it_will_train_with(api, user, templates, segmentation_dataset):
    from_scratch = submit(api, segmentation_dataset, {"backbone": "resnet18"}, template="fai-mf")
    assert from_scratch.status_code == 201, from_scratch.content
    values = from_scratch.json()["hyperparameters"]
    assert (values["learning_rate"], values["backbone_multiplier"], values["grad_clip_norm"]) == (0.0001, 1.0, 1.0)

    PretrainedWeights.objects.create(owner=user, name="imagenet", architecture="resnet18", file_key="w/1")
    fine_tune = submit(api, segmentation_dataset, {"backbone": "resnet18", "pretrained_weights": "imagenet"},
                       template="fai-mf")
    values = fine_tune.json()["hyperparameters"]
    assert (values["learning_rate"], values["backbone_multiplier"], values["grad_clip_norm"]) == (0.0001, 0.1, 0.01)
    # What the API returned is what the worker reads.
    assert Job.objects.get(pk=fine_tune.json()["id"]).hyperparameters == values

    chosen = submit(api, segmentation_dataset, {"backbone_multiplier": 0.3, "pretrained_weights": ""}, template="fai-mf")
    assert chosen.json()["hyperparameters"]["backbone_multiplier"] == 0.3


def test_a_warmup_longer_than_the_run_on_this_dataset_is_refused_under_hyperparameters(
    api, templates, segmentation_dataset, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:  # 4 training images, batch 2: 2 steps an epoch
        response = submit(api, segmentation_dataset, {"epochs": 3, "batch_size": 2, "warmup_iters": 6}, template="fai-mf")
    assert response.status_code == 400
    assert response.json() == {"hyperparameters": [
        "warmup_iters 6 must be less than the run's 6 optimizer steps (4 images an epoch at batch_size 2 for 3 "
        "epochs); lower warmup_iters or train for more epochs"]}
    assert queued == [] and Job.objects.count() == 0
    assert submit(api, segmentation_dataset, {"epochs": 3, "batch_size": 2, "warmup_iters": 5},
                  template="fai-mf").status_code == 201
