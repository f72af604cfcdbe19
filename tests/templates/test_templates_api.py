"""GET/PATCH /api/v1/templates/ (API.md "Templates")."""
import pytest
from django.urls import resolve
from rest_framework.test import APIClient

from training_templates.models import Hyperparameter, Template
from training_templates.services import resolve_for_template

from .conftest import PERMISSIVE_TRAINER, make_template

ROUTES = pytest.mark.urls("tests.templates.urls")


@pytest.mark.django_db
def test_the_project_urlconf_routes_templates_under_api_v1():
    match = resolve("/api/v1/templates/Clarifai_InceptionBatchNorm/")
    assert match.func.cls.__name__ == "TemplateViewSet" and match.kwargs == {"pk": "Clarifai_InceptionBatchNorm"}


@ROUTES
def test_it_requires_a_token(template):
    assert APIClient().get("/api/v1/templates/").status_code == 401
    assert APIClient().get(f"/api/v1/templates/{template.pk}/").status_code == 401


@ROUTES
def test_it_lists_templates_including_inactive_ones(user_client, template):
    make_template("fai-cls", params=[], is_active=False, trainer="fai_cls")
    body = user_client.get("/api/v1/templates/").json()
    rows = {t["id"]: t for t in body["results"]}
    assert body["count"] == 2
    assert rows["fai-cls"]["is_active"] is False and rows["Clarifai_InceptionBatchNorm"]["is_active"] is True


@ROUTES
def test_detail_shows_declarations_with_int_bounds_as_ints(user_client, template):
    response = user_client.get("/api/v1/templates/Clarifai_InceptionBatchNorm/")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("id", "name", "task", "trainer", "dataset_tasks", "is_active")} == {
        "id": "Clarifai_InceptionBatchNorm", "name": "Clarifai_InceptionBatchNorm", "task": "classification",
        "trainer": PERMISSIVE_TRAINER, "dataset_tasks": ["classification"], "is_active": True}
    params = {p["name"]: p for p in body["hyperparameters"]}
    assert [p["name"] for p in body["hyperparameters"]][:3] == ["logreg", "image_size", "batch_size"]
    assert params["batch_size"] == {"name": "batch_size", "type": "int", "default": 32, "min": 1, "max": 128,
                                    "step": 1, "choices": None, "log_scale": False, "description": ""}
    raw = response.content.decode()
    assert '"min":1,' in raw.replace(" ", "") and '"min":1.0' not in raw.replace(" ", "")
    assert params["per_item_lrate"]["min"] == 0.0 and params["per_item_lrate"]["max"] is None
    assert params["flip_direction"]["choices"] == ["horizontal", "vertical"]
    assert body["json_schema"]["properties"]["image_size"]["multipleOf"] == 16
    assert body["json_schema"]["additionalProperties"] is False


@ROUTES
def test_ids_with_dashes_and_underscores_route(user_client, db):
    make_template("fai-mf", params=[], task="instance_segmentation")
    make_template("fai_cls.v2-copy", params=[])
    assert user_client.get("/api/v1/templates/fai-mf/").json()["task"] == "instance_segmentation"
    assert user_client.get("/api/v1/templates/fai_cls.v2-copy/").status_code == 200
    assert user_client.get("/api/v1/templates/nope/").status_code == 404


@ROUTES
def test_non_staff_cannot_patch(user_client, template):
    response = user_client.patch(f"/api/v1/templates/{template.pk}/", {"is_active": False}, format="json")
    assert response.status_code == 403
    assert Template.objects.get(pk=template.pk).is_active is True


@ROUTES
def test_staff_can_patch_description_active_flag_and_a_default(staff_client, template):
    response = staff_client.patch(f"/api/v1/templates/{template.pk}/", {
        "description": "BN-Inception", "is_active": False,
        "hyperparameters": [{"name": "batch_size", "default": 64, "max": 256}],
    }, format="json")
    assert response.status_code == 200, response.json()
    batch = {p["name"]: p for p in response.json()["hyperparameters"]}["batch_size"]
    assert (batch["default"], batch["max"]) == (64, 256)
    template.refresh_from_db()
    assert (template.description, template.is_active) == ("BN-Inception", False)
    row = Hyperparameter.objects.get(template=template, name="batch_size")
    assert (row.default, row.maximum, row.minimum) == (64, 256.0, 1.0)


@ROUTES
def test_patch_refuses_an_inconsistent_declaration_and_saves_nothing(staff_client, template):
    response = staff_client.patch(f"/api/v1/templates/{template.pk}/", {
        "description": "should not be saved",
        "hyperparameters": [{"name": "batch_size", "default": 300},
                            {"name": "image_size", "default": 250},
                            {"name": "flip_direction", "choices": ["vertical"]}],
    }, format="json")
    assert response.status_code == 400
    assert response.json() == {"hyperparameters": {
        "batch_size": ["default must be a multiple of 1 from 1 to 128, got 300"],
        "image_size": ["default must be a multiple of 16 from 32 to 1024, got 250"],
        "flip_direction": ['default must be one of "vertical"; got "horizontal"'],
    }}
    template.refresh_from_db()
    assert template.description == ""
    assert Hyperparameter.objects.get(template=template, name="batch_size").default == 32


@ROUTES
def test_patch_refuses_unknown_parameters_and_read_only_fields(staff_client, template):
    response = staff_client.patch(f"/api/v1/templates/{template.pk}/", {
        "trainer": "other", "hyperparameters": [{"name": "nope", "default": 1},
                                                {"name": "batch_size", "type": "float"}],
    }, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["trainer"] == ["cannot be changed; editable: description, is_active, hyperparameters"]
    assert body["hyperparameters"]["nope"][0].startswith("unknown hyperparameter; allowed: logreg, image_size")
    assert body["hyperparameters"]["batch_size"][0].startswith("cannot change type")


@ROUTES
def test_put_and_delete_are_not_allowed(staff_client, template):
    assert staff_client.put(f"/api/v1/templates/{template.pk}/", {}, format="json").status_code == 405
    assert staff_client.delete(f"/api/v1/templates/{template.pk}/").status_code == 405


@ROUTES
def test_resolve_for_template_returns_values_and_a_snapshot(template):
    resolved, snapshot = resolve_for_template(template, {"batch_size": 16})
    assert resolved["batch_size"] == 16 and resolved["image_size"] == 256
    assert [s["name"] for s in snapshot][:3] == ["logreg", "image_size", "batch_size"]
    # The snapshot is independent of later edits to the template.
    Hyperparameter.objects.filter(template=template, name="batch_size").update(maximum=8)
    assert {s["name"]: s for s in snapshot}["batch_size"]["max"] == 128


@ROUTES
def test_resolve_for_template_refuses_an_inactive_template(template):
    from training_templates.services import TemplateNotActive

    template.is_active = False
    template.save()
    with pytest.raises(TemplateNotActive, match="Clarifai_InceptionBatchNorm is not active"):
        resolve_for_template(template, {})
