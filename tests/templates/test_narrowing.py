"""A template may only narrow what its trainer declares: edits and catalogue files that
would let the API accept jobs the worker then refuses are themselves refused."""
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from training_templates.catalogue_loader import CATALOGUE_DIR, CatalogueError, read_catalogue
from training_templates.hyperparameter_specs import HyperparameterSpec
from training_templates.models import Hyperparameter, Template
from training_templates.narrowing import narrowing_problems, trainer_declarations, widening_problems

from .test_templates_admin import CHANGE_URL, change_form

pytestmark = pytest.mark.urls("tests.templates.urls")


@pytest.fixture
def catalogue(db):
    call_command("load_templates", verbosity=0)


def batch_size_max(template_id="fai-cls"):
    return Hyperparameter.objects.get(template_id=template_id, name="batch_size").maximum


def test_every_shipped_template_offers_only_values_its_trainer_accepts():
    for entry in read_catalogue():
        assert narrowing_problems(entry.trainer, entry.specs) == {}, entry.id


def narrowed_resolution(**fields):
    declared = trainer_declarations("fai_mf")["resolution"]  # int 32..1536, step 32
    return widening_problems("fai_mf", declared, HyperparameterSpec(**{**declared.model_dump(), **fields}))


def test_a_narrower_range_on_the_trainers_grid_is_accepted():
    assert narrowed_resolution(min=64, max=512, step=64, default=256) == []


@pytest.mark.parametrize("fields, offered", [
    ({"min": 0}, "offers 0,"), ({"max": 2048}, "offers 2048,"), ({"step": 48}, "offers 80,"),
    ({"min": 48, "default": 48}, "offers 48,"), ({"min": None}, "offers no minimum,"),
    ({"max": None}, "offers no maximum,"), ({"step": None}, "offers values off its step grid,"),
])
def test_a_wider_range_or_another_grid_is_refused_naming_a_value_it_would_offer(fields, offered):
    problems = narrowed_resolution(**fields)
    assert problems and problems[0].startswith(offered) and "which trainer fai_mf refuses" in problems[0]


def test_another_type_is_refused():
    assert narrowed_resolution(type="float") == ["is declared int by trainer fai_mf, not float"]


def test_the_api_refuses_widening_a_bound_past_the_trainer_and_saves_nothing(staff_client, catalogue):
    before = batch_size_max()
    response = staff_client.patch("/api/v1/templates/fai-cls/", {"hyperparameters": [{"name": "batch_size", "max": 512}]},
                                  format="json")
    assert response.status_code == 400
    message = response.json()["hyperparameters"]["batch_size"][0]
    assert "offers 512" in message and "fai_cls refuses" in message
    assert batch_size_max() == before
    narrowed = staff_client.patch("/api/v1/templates/fai-cls/", {"hyperparameters": [{"name": "batch_size", "max": 64}]},
                                  format="json")
    assert narrowed.status_code == 200 and batch_size_max() == 64


def test_the_api_reports_every_refused_parameter_at_once(staff_client, catalogue):
    edit = {"hyperparameters": [{"name": "batch_size", "max": 512}, {"name": "epochs", "min": 50, "max": 10}]}
    response = staff_client.patch("/api/v1/templates/fai-cls/", edit, format="json")
    errors = response.json()["hyperparameters"]
    assert response.status_code == 400 and set(errors) == {"batch_size", "epochs"}
    assert errors["epochs"] == ["min 50 is greater than max 10"] and "offers 512" in errors["batch_size"][0]


def test_the_api_refuses_a_choice_the_trainer_has_no_code_for(staff_client, catalogue):
    edit = {"hyperparameters": [{"name": "backbone", "choices": ["resnet50", "vgg16"]}]}
    response = staff_client.patch("/api/v1/templates/fai-cls/", edit, format="json")
    assert response.status_code == 400 and "'vgg16'" in response.json()["hyperparameters"]["backbone"][0]


def test_the_admin_refuses_a_step_grid_the_trainer_cannot_run(catalogue):
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", None))
    template = Template.objects.get(pk="fai-mf")
    response = client.post(CHANGE_URL.format(template.pk), change_form(template, resolution={"step": "16.0"}))
    assert response.status_code == 200  # the form again, with the error
    assert "offers 48, which trainer fai_mf refuses" in response.content.decode()
    assert Hyperparameter.objects.get(template=template, name="resolution").step == 32


def test_a_catalogue_file_that_drifted_from_its_trainer_is_not_loaded(db, tmp_path):
    data = json.loads((CATALOGUE_DIR / "fai-cls.json").read_text())
    data["hyperparameters"].append({"name": "batch_size", "max": 512})
    (tmp_path / "fai-cls.json").write_text(json.dumps(data))
    with pytest.raises(CatalogueError, match="hyperparameter batch_size: offers 512, which trainer fai_cls refuses"):
        read_catalogue(tmp_path)
