"""A template may offer only what its trainer runs: edits and catalogue files that would
let the API accept jobs the worker then refuses are themselves refused."""
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from templates_registry.catalogue_loader import CATALOGUE_DIR, CatalogueError, read_catalogue
from templates_registry.hyperparams import HyperparameterSpec
from templates_registry.models import HyperParameter, Template
from templates_registry.trainer_limits import trainer_problems, values_to_probe

from .test_templates_admin import CHANGE_URL, change_form

pytestmark = pytest.mark.urls("tests.templates.urls")


@pytest.fixture
def catalogue(db):
    call_command("load_templates", verbosity=0)


def batch_size_max(template_id="fai-cls"):
    return HyperParameter.objects.get(template_id=template_id, name="batch_size").maximum


def test_every_shipped_template_offers_only_values_its_trainer_accepts():
    for entry in read_catalogue():
        assert trainer_problems(entry.trainer, entry.hyperparameters) == {}, entry.id


def test_probes_cover_the_edges_of_the_declared_range():
    spec = HyperparameterSpec(name="resolution", type="int", default=224, min=32, max=1024, step=32)
    assert values_to_probe(spec) == [224, 32, 64, 1024]
    flips = HyperparameterSpec(name="flip_probability", type="float", default=0.5, min=0.0, max=1.0, step=0.1)
    assert values_to_probe(flips) == [0.5, 0.0, 0.1, 1.0]


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
    assert HyperParameter.objects.get(template=template, name="resolution").step == 32


def test_a_catalogue_file_that_drifted_from_its_trainer_is_not_loaded(db, tmp_path):
    data = json.loads((CATALOGUE_DIR / "fai-cls.json").read_text())
    next(h for h in data["hyperparameters"] if h["name"] == "batch_size")["max"] = 512
    (tmp_path / "fai-cls.json").write_text(json.dumps(data))
    with pytest.raises(CatalogueError, match="hyperparameter batch_size: offers 512, which trainer fai_cls refuses"):
        read_catalogue(tmp_path)
