"""Every template of the catalogue through the REST API: its bounds are enforced exactly,
and each Clarifai template trains, deploys and predicts (runner run in-process)."""
from decimal import Decimal

import pytest
from django.core.management import call_command

from platform_api.datasets.models import Dataset
from platform_api.registry.models import PretrainedWeights
from training_templates.catalogue_loader import read_catalogue
from tests.factories import store_manifest
from tests.queueing import TRAIN_JOB, queued

# Each template as the catalogue offers it: its trainer's declarations, narrowed.
TEMPLATES = {entry.id: {**entry.model_dump(include={"id", "task", "dataset_tasks", "trainer"}),
                        "hyperparameters": [spec.public_dict() for spec in entry.specs]}
             for entry in read_catalogue()}
CLARIFAI = [
    "MMClassification_ResNet_50_RSB_A1",
    "Clarifai_InceptionBatchNorm",
    "Clarifai_InceptionV2",
    "Clarifai_ResNext",
    "Clarifai_InceptionTransferEmbedNorm",
]


def bound_cases(template_id):
    """(parameter, value, accepted) at and one step beyond every declared bound."""
    for hp in TEMPLATES[template_id]["hyperparameters"]:
        if hp["type"] not in ("int", "float"):
            continue
        # One step outside: the declared step, or for step-less floats the smallest
        # change a client could plausibly send.
        step = Decimal(str(hp["step"])) if hp["step"] else Decimal("0.000001")
        cast = int if hp["type"] == "int" else float
        if hp["min"] is not None:
            low = Decimal(str(hp["min"]))
            yield hp["name"], cast(low), True
            yield hp["name"], cast(low - step), False
        if hp["max"] is not None:
            high = Decimal(str(hp["max"]))
            yield hp["name"], cast(high), True
            yield hp["name"], cast(high + step), False


@pytest.fixture
def templates(db):
    """The catalogue exactly as shipped (no test-only backbone)."""
    call_command("load_templates", verbosity=0)


@pytest.fixture
def rsb_weights(user):
    """RSB A1 defaults to pretrained_weights 'ImageNet-1k', which submission requires registered."""
    PretrainedWeights.objects.create(owner=user, name="ImageNet-1k", architecture="resnet50", file_key="w/in1k")


def dataset_for(user, template_id):
    task = TEMPLATES[template_id]["dataset_tasks"][0]
    return store_manifest(Dataset.objects.create(
        owner=user, name=task, format="classification_folder", task=task, status="ready", classes=["a", "b"],
        splits={"train": 2000},  # enough steps for every template's default warmup, at one epoch of the largest batch
    ))


def test_the_catalogue_has_the_five_clarifai_templates_and_both_fai_trainers():
    assert set(TEMPLATES) == {*CLARIFAI, "fai-cls", "fai-mf"}


# init_epochs and step_epochs may not exceed num_epochs, nor warmup_epochs reach epochs, nor
# warmup_iters reach the run's steps (sent where the template declares them).
BOUND_COMPANIONS = {"init_epochs": {"num_epochs": 200}, "step_epochs": {"num_epochs": 200}, "warmup_epochs": {"epochs": 51},
                    "warmup_iters": {"epochs": 1000}}


@pytest.mark.parametrize("template_id", sorted(TEMPLATES))
def test_the_api_enforces_every_declared_bound(api, user, templates, rsb_weights, template_id):
    dataset = dataset_for(user, template_id)
    wrong = []
    cases = list(bound_cases(template_id))
    for name, value, accepted in cases:
        # A bound that a rule across fields ties to another value is sent with one that allows it.
        declared = {hp["name"] for hp in TEMPLATES[template_id]["hyperparameters"]}
        companions = {k: v for k, v in BOUND_COMPANIONS.get(name, {}).items() if k != name and k in declared}
        response = api.post(
            "/api/v1/jobs/", {"template": template_id, "dataset": dataset.pk,
                              "hyperparameters": {name: value, **companions}}, format="json"
        )
        if accepted and (response.status_code != 201 or response.json()["hyperparameters"][name] != value):
            wrong.append(f"{name}={value} on the bound was refused: {response.content[:200]}")
        if not accepted and (response.status_code != 400 or name not in response.json().get("hyperparameters", {})):
            wrong.append(f"{name}={value} one step outside was not refused with a field error")
    assert cases and not wrong, "\n".join(wrong)


@pytest.mark.parametrize("template_id", sorted(TEMPLATES))
def test_the_template_api_shows_the_catalogue_declarations(api, templates, template_id):
    body = api.get(f"/api/v1/templates/{template_id}/").json()
    declared = {hp["name"]: hp for hp in TEMPLATES[template_id]["hyperparameters"]}
    assert [hp["name"] for hp in body["hyperparameters"]] == list(declared)
    for hp in body["hyperparameters"]:
        for key in ("type", "default", "min", "max", "step", "choices"):
            assert hp[key] == declared[hp["name"]][key], (hp["name"], key)
    assert set(body["json_schema"]["properties"]) == set(declared)


TINY_CLARIFAI = {
    "MMClassification_ResNet_50_RSB_A1": {"image_size": 32, "batch_size": 4, "num_epochs": 2, "pretrained_weights": "None",
                                          "warmup_iters": 0, "per_item_lrate": 0.001},
    "Clarifai_InceptionBatchNorm": {"image_size": 32, "batch_size": 4, "num_epochs": 2, "per_item_lrate": 0.001},
    "Clarifai_InceptionV2": {"image_size": 32, "batch_size": 4, "num_epochs": 2, "per_item_lrate": 0.001},
    "Clarifai_ResNext": {"image_size": 32, "batch_size": 4, "num_epochs": 2, "per_item_lrate": 0.001},
    "Clarifai_InceptionTransferEmbedNorm": {"image_size": 32, "batch_size": 4, "num_epochs": 2, "lrate": 0.01},
}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("template_id", CLARIFAI)
def test_each_clarifai_template_trains_deploys_and_predicts(api, user, templates, tmp_path, template_id):
    from platform_api.deployments import services as deployments
    from platform_api.deployments.models import Deployment
    from platform_api.training.runner import run_job
    from tests.factories import classification_zip
    from tests.platform.flows import held_out, import_in_process, predict_base64

    dataset = import_in_process(user, classification_zip(tmp_path / "d.zip", per_class={"train": 4, "valid": 2}))
    with queued(TRAIN_JOB):
        response = api.post(
            "/api/v1/jobs/", {"template": template_id, "dataset": dataset.pk, "hyperparameters": TINY_CLARIFAI[template_id]},
            format="json",
        )
        assert response.status_code == 201, response.content
        run_job(response.json()["id"])
    job = api.get(f"/api/v1/jobs/{response.json()['id']}/").json()
    assert job["status"] == "succeeded", job["error"]
    assert "accuracy" in job["metrics"]
    deployment = Deployment.objects.create(owner=user, model_version_id=job["model"])
    deployments.load_deployment(deployment.pk)
    response = predict_base64(api, deployment.pk, held_out(("red", "blue")))
    assert response.status_code == 200, response.content
    predictions = response.json()["predictions"]
    assert len(predictions) == 2
    for items in predictions:
        assert items and {"cls_id", "label", "conf"} <= set(items[0])
        assert {item["label"] for item in items} <= {"red", "blue"}
