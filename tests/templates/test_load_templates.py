"""The catalogue loader and `manage.py load_templates`."""
import dataclasses
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from training_templates.catalogue_loader import CATALOGUE_DIR, load_catalogue, read_catalogue
from training_templates.models import Hyperparameter, Template

from trainers import families
from trainers.hyperparameters import Hyperparameters, param

from .conftest import PERMISSIVE_TRAINER


def entry(template_id="fai-cls", **overrides):
    """A template offering three of the made-up trainer's parameters, two of them narrowed."""
    data = {
        "id": template_id,
        "name": "FAI classification",
        "task": "classification",
        "dataset_tasks": ["classification"],
        "trainer": PERMISSIVE_TRAINER,
        "description": "backbone + MLP head",
        "hyperparameters": [
            {"name": "batch_size", "default": 32, "max": 128},
            {"name": "lr", "default": 0.001, "min": 0.0, "max": 1.0},
            {"name": "multi_label", "default": False},
        ],
        "not_offered": ["logreg", "image_size", "per_item_lrate", "flip_probability", "flip_direction",
                        "num_items_per_epoch", "epochs"],
    }
    data.update(overrides)
    return data


class RedeclaredHyperparameters(Hyperparameters):
    """The trainer after a code change: epochs first, batch_size wider, the rest gone."""

    epochs: int = param(10, "passes over the data", ge=1, le=200, step=1)
    batch_size: int = param(64, "images per step", ge=1, le=256, step=1)


def write(directory: Path, *entries):
    directory.mkdir(parents=True, exist_ok=True)
    for e in entries:
        (directory / f"{e['id']}.json").write_text(json.dumps(e))
    return directory


def snapshot():
    """Every template and hyperparameter row, timestamps included."""
    return (
        list(Template.objects.order_by("id").values()),
        list(Hyperparameter.objects.order_by("id").values()),
    )


def test_it_loads_templates_with_parameters_in_file_order(db, tmp_path):
    report = load_catalogue(write(tmp_path, entry(), entry("fai-mf", task="instance_segmentation",
                                                           dataset_tasks=["instance_segmentation", "semantic_segmentation"])))
    assert report.created == ["fai-cls", "fai-mf"]
    template = Template.objects.get(pk="fai-cls")
    assert (template.task, template.trainer, template.is_active) == ("classification", PERMISSIVE_TRAINER, True)
    assert list(template.hyperparameters.values_list("name", "position")) == [
        ("batch_size", 0), ("lr", 1), ("multi_label", 2)]
    batch = template.hyperparameters.get(name="batch_size")
    assert (batch.default, batch.minimum, batch.maximum, batch.step) == (32, 1.0, 128.0, 1.0)
    assert Template.objects.get(pk="fai-mf").dataset_tasks == ["instance_segmentation", "semantic_segmentation"]


def test_loading_twice_changes_nothing(db, tmp_path):
    directory = write(tmp_path, entry())
    call_command("load_templates", catalogue=directory)
    before = snapshot()
    report = load_catalogue(directory)
    assert report.unchanged == ["fai-cls"] and not report.changed
    assert snapshot() == before  # same rows, same ids, same updated_at


def test_it_updates_renames_reorders_and_deletes_parameters_by_name(db, tmp_path, monkeypatch):
    load_catalogue(write(tmp_path, entry()))
    batch_id = Hyperparameter.objects.get(name="batch_size").pk
    redeclared = dataclasses.replace(families.family(PERMISSIVE_TRAINER), hyperparameters=RedeclaredHyperparameters)
    monkeypatch.setitem(families._FAMILIES, PERMISSIVE_TRAINER, redeclared)
    changed = entry(description="new text", hyperparameters=[], not_offered=[])
    report = load_catalogue(write(tmp_path, changed))
    assert report.updated == ["fai-cls"]
    template = Template.objects.get(pk="fai-cls")
    assert template.description == "new text"
    assert list(template.hyperparameters.values_list("name", "position")) == [("epochs", 0), ("batch_size", 1)]
    batch = template.hyperparameters.get(name="batch_size")
    assert batch.pk == batch_id and (batch.default, batch.maximum) == (64, 256.0)


def test_it_keeps_a_template_an_admin_deactivated(db, tmp_path):
    directory = write(tmp_path, entry())
    load_catalogue(directory)
    Template.objects.filter(pk="fai-cls").update(is_active=False)
    load_catalogue(directory)
    assert Template.objects.get(pk="fai-cls").is_active is False


def test_a_bad_file_aborts_the_load_naming_file_and_parameter(db, tmp_path):
    good = entry("good-one")
    bad = entry("fai-cls")
    bad["hyperparameters"][0]["default"] = 300  # above max 128
    directory = write(tmp_path, good, bad)
    with pytest.raises(CommandError) as info:
        call_command("load_templates", catalogue=directory)
    assert "fai-cls.json: hyperparameter batch_size: default must be a multiple of 1 from 1 to 128, got 300" in str(info.value)
    assert Template.objects.count() == 0 and Hyperparameter.objects.count() == 0


def test_a_bad_file_leaves_previously_loaded_templates_untouched(db, tmp_path):
    load_catalogue(write(tmp_path, entry()))
    before = snapshot()
    broken = entry(description="changed", hyperparameters=[{"name": "lr", "default": 1.0, "min": 2.0, "max": 1.0}])
    write(tmp_path, broken)
    with pytest.raises(CommandError, match="fai-cls.json: hyperparameter lr: min 2.0 is greater than max 1.0"):
        call_command("load_templates", catalogue=tmp_path)
    assert snapshot() == before


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["hyperparameters"][1].update(maximum=2), "hyperparameter lr: maximum: Extra inputs are not permitted"),
    (lambda d: d.update(task="detection"), "task: Input should be"),
    (lambda d: d["hyperparameters"].append(dict(d["hyperparameters"][0])), "hyperparameter batch_size: declared more than once"),
    (lambda d: d.update(dataset_tasks=["semantic_segmentation"]), "must include the task 'classification'"),
    (lambda d: d.update(id="other"), "id 'other' must match the file name (fai-cls.json)"),
])
def test_it_rejects_malformed_files(db, tmp_path, mutate, message):
    data = entry()
    mutate(data)
    tmp_path.joinpath("fai-cls.json").write_text(json.dumps(data))
    with pytest.raises(CommandError) as info:
        call_command("load_templates", catalogue=tmp_path)
    assert message in str(info.value)


def test_it_rejects_invalid_json(db, tmp_path):
    tmp_path.joinpath("fai-cls.json").write_text('{"id": "fai-cls",')
    with pytest.raises(CommandError, match="fai-cls.json: not valid JSON"):
        call_command("load_templates", catalogue=tmp_path)


def test_every_file_in_the_real_catalogue_is_consistent(db):
    files = sorted(CATALOGUE_DIR.glob("*.json"))
    if not files:
        pytest.skip(f"no catalogue files yet in {CATALOGUE_DIR}")
    entries = read_catalogue(CATALOGUE_DIR)  # raises with every problem found
    assert sorted(e.id for e in entries) == sorted(f.stem for f in files)
    report = load_catalogue(CATALOGUE_DIR)
    assert sorted(report.created) == sorted(f.stem for f in files)
    assert not load_catalogue(CATALOGUE_DIR).changed
