"""FAI-MF's defaults follow how the model starts: Mask2Former's with pretrained weights, faster
learning for the backbone and looser clipping from random weights; explicit values win."""
import pytest

from trainers.core import TrainerError
from trainers.families import build_trainer
from trainers.fai_mf.hyperparameters import AUTO_DEFAULTS, FaiMfHyperparameters, parse_hyperparameters
from trainers.fai_mf.recipe import model_config_from
from trainers.hyperparameters import declarations
from trainers.families import resolve_hyperparameters

from fai_mf_toys import TINY_HYPERPARAMETERS, TINY_MODEL_OVERRIDES, write_coco_dataset

AUTO_NAMES = ("backbone_multiplier", "grad_clip_norm")
LEARNING_RATE = 0.0001  # Mask2Former's, whichever the start


def test_random_initialisation_trains_the_backbone_at_the_full_rate_with_loose_clipping():
    hp = parse_hyperparameters({})
    assert hp.backbone_multiplier == 1.0
    assert hp.grad_clip_norm == 1.0
    assert hp.learning_rate == LEARNING_RATE


def test_pretrained_weights_keep_mask2formers_settings():
    hp = parse_hyperparameters({"backbone": "resnet18", "pretrained_weights": "imagenet"})
    assert (hp.learning_rate, hp.backbone_multiplier, hp.grad_clip_norm) == (0.0001, 0.1, 0.01)


@pytest.mark.parametrize("start", [{}, {"pretrained_weights": "imagenet"}])
def test_an_explicit_value_wins_over_the_rule(start):
    hp = parse_hyperparameters({**start, "learning_rate": 0.002, "backbone_multiplier": 0.5, "grad_clip_norm": 0.0})
    assert (hp.learning_rate, hp.backbone_multiplier, hp.grad_clip_norm) == (0.002, 0.5, 0.0)


def test_an_explicit_null_means_auto():
    hp = parse_hyperparameters({"pretrained_weights": "imagenet", "backbone_multiplier": None})
    assert hp.backbone_multiplier == 0.1


def test_the_schema_declares_auto_as_a_null_default_and_says_what_it_resolves_to():
    declared = {spec["name"]: spec for spec in declarations(FaiMfHyperparameters)}
    for name in AUTO_NAMES:
        assert declared[name]["default"] is None
        description = declared[name]["description"]
        assert "null = auto" in description and "pretrained_weights" in description, description
    # The bounds still hold for what a user may set.
    assert (declared["backbone_multiplier"]["min"], declared["backbone_multiplier"]["max"]) == (0.0, 1.0)


def test_every_auto_value_lies_within_its_declared_bounds():
    declared = {spec["name"]: spec for spec in declarations(FaiMfHyperparameters)}
    for start, values in AUTO_DEFAULTS.items():
        for name, value in values.items():
            assert declared[name]["min"] <= value <= declared[name]["max"], (start, name, value)


def test_resolving_replaces_only_the_nulls_the_rule_fills():
    values = {"backbone": "resnet18", "pretrained_weights": "", "learning_rate": 0.001,
              "backbone_multiplier": None, "grad_clip_norm": 0.5, "epochs": 3}
    resolved = resolve_hyperparameters("fai_mf", values)
    assert resolved == {**values, "backbone_multiplier": 1.0}
    pretrained = resolve_hyperparameters("fai_mf", {**values, "pretrained_weights": "mine", "grad_clip_norm": None})
    assert (pretrained["backbone_multiplier"], pretrained["grad_clip_norm"]) == (0.1, 0.01)


def test_a_clarifai_null_that_no_rule_fills_stays_null():
    values = {"num_items_per_epoch": None, "num_epochs": 2}
    assert resolve_hyperparameters("clarifai_inception_v2", values)["num_items_per_epoch"] is None


def test_resolving_refuses_values_the_trainer_refuses():
    with pytest.raises(TrainerError, match="backbone_multiplier"):
        resolve_hyperparameters("fai_mf", {"backbone_multiplier": 2.0})


@pytest.mark.parametrize("resolution, points", [(64, 256), (128, 1024), (448, 12544), (640, 12544)])
def test_a_mask_is_sampled_at_no_more_points_than_it_has_pixels(resolution, points):
    # Masks are predicted at 1/4 resolution; Mask2Former's 12544 points hold from 448 px up.
    config = model_config_from(parse_hyperparameters({"resolution": resolution}), "instance_segmentation", 2)
    assert config.num_points == points


@pytest.mark.parametrize("weights, multiplier, clip", [("", 1.0, 1.0), ("mine", 0.1, 0.01)])
def test_the_trainer_optimises_with_the_values_the_rule_chose(tmp_path, weights, multiplier, clip):
    dataset = write_coco_dataset(tmp_path / "data")
    hp = {k: v for k, v in TINY_HYPERPARAMETERS.items() if k not in AUTO_NAMES}
    trainer = build_trainer("fai_mf", {**hp, "pretrained_weights": weights}, dataset, tmp_path / "work",
                           weights_resolver=lambda architecture, name: tmp_path / "weights.pt",
                           model_overrides=TINY_MODEL_OVERRIDES)
    model = trainer.recipe.build_model()
    rates = {id(p): group["lr"] for group in trainer.recipe.build_optimizer(model).param_groups for p in group["params"]}
    learning_rate = hp["learning_rate"]
    assert rates[id(next(model.backbone.parameters()))] == pytest.approx(learning_rate * multiplier)
    assert rates[id(next(model.transformer_decoder.parameters()))] == pytest.approx(learning_rate)
    assert trainer.recipe.config.grad_clip_norm == clip
