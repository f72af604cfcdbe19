"""The five Clarifai templates, as the catalogue offers them from their trainers' one
declaration, state every bound, step, choice and default Clarifai's documentation states, and the trainers'
own validation agrees with them."""
import math

import pytest

from training_templates.catalogue_loader import read_catalogue
from training_templates.hyperparameter_specs import HyperparameterErrors, resolve_hyperparameters, spec_problems, as_spec
from trainers.clarifai_templates import hyperparameters as hp
from trainers.clarifai_templates.templates import TEMPLATES
from trainers.core import TrainerError

# What Clarifai's documentation states, written out by hand: name -> (type, min, max, step, choices, default).
# `ANY` marks what the documentation leaves open (we chose it; the description must say so).
ANY = object()
LOGREG = ("int", 0, 1, 1, None, 1)
MIN_SIDE = ("int", 32, 1024, 16, None, ANY)
BATCH_128 = ("int", 1, 128, 1, None, ANY)
EPOCHS_200 = ("int", 1, 200, 1, None, ANY)
PER_ITEM_LRATE = ("float", 0.0, ANY, ANY, None, ANY)
ITEMS_PER_EPOCH = ("int", ANY, ANY, ANY, None, None)  # default: the dataset's size
INCEPTION_FAMILY = {
    "logreg": LOGREG, "image_size": MIN_SIDE, "batch_size": BATCH_128, "init_epochs": EPOCHS_200,
    "step_epochs": EPOCHS_200, "num_epochs": EPOCHS_200, "per_item_lrate": PER_ITEM_LRATE,
    "num_items_per_epoch": ITEMS_PER_EPOCH,
}
SEED = {
    "MMClassification_ResNet_50_RSB_A1": {
        "image_size": ("int", ANY, ANY, ANY, None, ANY),
        "batch_size": ("int", 1, 256, 1, None, ANY),
        "num_epochs": ("int", 1, 600, 1, None, ANY),
        "per_item_lrate": PER_ITEM_LRATE,
        "weight_decay": ("float", 0.0, 1.0, ANY, None, ANY),
        "per_item_min_lrate": ("float", 0.0, ANY, ANY, None, ANY),
        "warmup_iters": (ANY, 0, ANY, ANY, None, ANY),
        "warmup_ratio": ("float", ANY, ANY, ANY, None, ANY),
        "pretrained_weights": ("enum", None, None, None, ["None", "ImageNet-1k"], "ImageNet-1k"),
        "flip_probability": ("float", 0.0, 1.0, ANY, None, ANY),
        "flip_direction": ("enum", None, None, None, ["horizontal", "vertical"], "horizontal"),
    },
    "Clarifai_InceptionBatchNorm": INCEPTION_FAMILY,
    "Clarifai_InceptionV2": INCEPTION_FAMILY,
    "Clarifai_ResNext": INCEPTION_FAMILY,
    "Clarifai_InceptionTransferEmbedNorm": {
        "logreg": LOGREG, "image_size": MIN_SIDE, "batch_size": BATCH_128,
        "lrate": ("float", 0.0, ANY, ANY, None, ANY),
        "base_gradient_multiplier": ("float", ANY, ANY, ANY, None, ANY),
        "num_epochs": EPOCHS_200, "num_items_per_epoch": ITEMS_PER_EPOCH,
        "average_horizontal_flips": ("bool", None, None, None, None, ANY),
    },
}
TRAINER_KEYS = {
    "MMClassification_ResNet_50_RSB_A1": "clarifai_resnet50_rsb_a1",
    "Clarifai_InceptionBatchNorm": "clarifai_inception_batchnorm",
    "Clarifai_InceptionV2": "clarifai_inception_v2",
    "Clarifai_ResNext": "clarifai_resnext",
    "Clarifai_InceptionTransferEmbedNorm": "clarifai_inception_transfer_embed_norm",
}


OFFERED = {entry.id: entry for entry in read_catalogue()}


def load(template_id: str) -> dict:
    """The template as the platform offers it: its catalogue entry with the hyperparameters
    its trainer declares, narrowed."""
    entry = OFFERED[template_id]
    return {**entry.model_dump(include={"id", "task", "dataset_tasks", "trainer"}),
            "hyperparameters": [spec.public_dict() for spec in entry.specs]}


def specs(template_id: str) -> dict[str, dict]:
    return {h["name"]: h for h in load(template_id)["hyperparameters"]}


@pytest.mark.parametrize("template_id", sorted(SEED))
def test_it_declares_exactly_the_seed_parameters(template_id):
    entry = load(template_id)
    assert entry["id"] == template_id
    assert entry["task"] == "classification" and entry["dataset_tasks"] == ["classification"]
    assert entry["trainer"] == TRAINER_KEYS[template_id]
    assert [h["name"] for h in entry["hyperparameters"]] == list(SEED[template_id])


@pytest.mark.parametrize("template_id", sorted(SEED))
def test_it_states_every_bound_step_choice_and_default_of_the_seed(template_id):
    declared = specs(template_id)
    for name, expected in SEED[template_id].items():
        spec = declared[name]
        actual = (spec["type"], spec["min"], spec["max"], spec["step"], spec["choices"], spec["default"])
        for field, want, got in zip(("type", "min", "max", "step", "choices", "default"), expected, actual):
            if want is not ANY:
                assert got == want, f"{template_id}.{name}.{field}: {got!r} != seed {want!r}"


@pytest.mark.parametrize("template_id", sorted(SEED))
def test_every_declaration_is_consistent_and_explains_our_own_choices(template_id):
    for name, spec in specs(template_id).items():
        assert spec_problems(as_spec(spec)) == [], name
        assert spec["description"], f"{name} has no description"
        chose_something = any(want is ANY for want in SEED[template_id][name][1:])
        if chose_something and spec["type"] not in ("enum",):
            assert "not stated by Clarifai" in spec["description"], f"{template_id}.{name}"


@pytest.mark.parametrize("template_id", sorted(SEED))
def test_the_trainer_accepts_the_catalogue_defaults(template_id):
    key = TRAINER_KEYS[template_id]
    defaults = resolve_hyperparameters(load(template_id)["hyperparameters"], {})
    params = hp.parse(TEMPLATES[key].params, defaults)
    # An `auto` default (null) is what the template's rule fills in, as the job records it.
    assert {name: getattr(params, name) for name in defaults} == TEMPLATES[key].params.resolve(defaults)


def _probes(spec: dict) -> list:
    """Values just outside the declared bounds or off the step grid."""
    t, lo, hi, step = spec["type"], spec["min"], spec["max"], spec["step"]
    if t in ("bool", "enum"):
        return ["not-a-choice", 2]
    probes = []
    if lo is not None:
        probes.append(lo - (step or 1e-3))
    if hi is not None:
        probes.append(hi + (step or 1e-3))
    if step is not None and step > 1:
        probes.append((lo or 0) + step / 2)
    if t == "int":
        probes.append(1.5)
    return probes


@pytest.mark.parametrize("template_id", sorted(SEED))
def test_the_trainer_rejects_what_the_catalogue_rejects(template_id):
    key = TRAINER_KEYS[template_id]
    for name, spec in specs(template_id).items():
        for value in _probes(spec):
            with pytest.raises(HyperparameterErrors):
                resolve_hyperparameters([spec], {name: value})
            with pytest.raises(TrainerError) as error:
                hp.parse(TEMPLATES[key].params, {name: value})
            assert error.value.code == "invalid_hyperparameters" and name in error.value.message


def test_it_rejects_off_step_image_size():
    with pytest.raises(HyperparameterErrors) as error:
        resolve_hyperparameters(load("Clarifai_InceptionV2")["hyperparameters"], {"image_size": 40})
    assert "image_size" in error.value.errors
    assert resolve_hyperparameters(load("Clarifai_InceptionV2")["hyperparameters"],
                                   {"image_size": 48})["image_size"] == 48


def test_logreg_is_an_int_that_refuses_booleans():
    with pytest.raises(HyperparameterErrors):
        resolve_hyperparameters(load("Clarifai_ResNext")["hyperparameters"], {"logreg": True})
    with pytest.raises(TrainerError):
        hp.parse(hp.InceptionFamilyParams, {"logreg": True})


def test_num_items_per_epoch_accepts_null_for_the_dataset_size():
    resolved = resolve_hyperparameters(load("Clarifai_InceptionBatchNorm")["hyperparameters"],
                                       {"num_items_per_epoch": None})
    assert resolved["num_items_per_epoch"] is None
    assert hp.parse(hp.InceptionFamilyParams, resolved).num_items_per_epoch is None


def test_rsb_a1_defaults_are_the_recipe_rates_per_item():
    defaults = resolve_hyperparameters(load("MMClassification_ResNet_50_RSB_A1")["hyperparameters"], {})
    assert defaults["per_item_lrate"] is None  # auto: it follows pretrained_weights
    fine_tuning = hp.ResNetRSBA1Params.parse({**defaults, "pretrained_weights": "ImageNet-1k"})
    from_scratch = hp.ResNetRSBA1Params.parse({**defaults, "pretrained_weights": "None"})
    assert math.isclose(fine_tuning.per_item_lrate * 2048, 5e-3)  # RSB A1's rate at its batch
    assert math.isclose(from_scratch.per_item_lrate * 64, 5e-3)  # the same rate at batch 64
    assert math.isclose(defaults["per_item_min_lrate"] * 2048, 1e-6)
