"""Which weights each template starts from, and what the artifact records about it."""
import json

import pytest
import torch

from trainers.clarifai_templates.templates import TEMPLATES
from trainers.core import TrainerError
from trainers.families import build_trainer

from clarifai_toys import make_dataset, one_torch_thread  # noqa: F401  (autouse)


class Resolver:
    """A weights registry holding `files` {(architecture, name): path}; records every lookup."""

    def __init__(self, files=None):
        self.files, self.calls = files or {}, []

    def __call__(self, architecture, name):
        self.calls.append((architecture, name))
        return self.files.get((architecture, name))


def _build(tmp_path, key, resolver, **hyperparameters):
    return build_trainer(key, {"image_size": 32, "batch_size": 2, **hyperparameters},
                         make_dataset(tmp_path / "data"), tmp_path / "work", weights_resolver=resolver,
                         device="cpu")


def _start_and_export(trainer, tmp_path):
    recipe = trainer.recipe
    model = recipe.build_model()
    recipe.on_train_start(model, resumed=False)
    artifact = tmp_path / "artifact"
    artifact.mkdir()
    recipe.export(model, artifact, {})
    return model, json.loads((artifact / "config.json").read_text())


def test_rsb_a1_fails_before_training_when_imagenet_1k_is_not_registered(tmp_path):
    resolver = Resolver()
    with pytest.raises(TrainerError) as error:
        _build(tmp_path, "clarifai_resnet50_rsb_a1", resolver, pretrained_weights="ImageNet-1k")
    assert error.value.code == "weights_not_registered"
    assert "ImageNet-1k" in error.value.message and "pretrained_weights='None'" in error.value.message
    assert resolver.calls == [("resnet50", "ImageNet-1k")]
    assert not (tmp_path / "work").exists()


def test_rsb_a1_defaults_to_imagenet_1k_and_fails_without_a_resolver(tmp_path):
    with pytest.raises(TrainerError) as error:
        _build(tmp_path, "clarifai_resnet50_rsb_a1", None)
    assert error.value.code == "weights_not_registered"


def test_rsb_a1_loads_registered_imagenet_1k_weights_into_the_resnet(tmp_path):
    # A torchvision-layout file: its conv1 fits the backbone; its 1000-class fc has no place here.
    weights = tmp_path / "resnet50_in1k.pt"
    torch.save({"conv1.weight": torch.full((64, 3, 7, 7), 0.5), "fc.weight": torch.ones(1000, 2048)}, weights)
    resolver = Resolver({("resnet50", "ImageNet-1k"): weights})
    model, config = _start_and_export(_build(tmp_path, "clarifai_resnet50_rsb_a1", resolver), tmp_path)
    assert torch.all(model.features.body.conv1.weight == 0.5)
    assert config["pretrained"]["name"] == "ImageNet-1k" and config["pretrained"]["loaded"] == 1
    assert "fc.weight" in config["pretrained"]["skipped"]


def test_rsb_a1_with_pretrained_none_never_looks_weights_up(tmp_path):
    resolver = Resolver()
    _, config = _start_and_export(_build(tmp_path, "clarifai_resnet50_rsb_a1", resolver,
                                         pretrained_weights="None"), tmp_path)
    assert resolver.calls == [] and config["pretrained"]["name"] is None


@pytest.mark.parametrize("key, architecture", [
    ("clarifai_inception_batchnorm", "bn_inception"),
    ("clarifai_inception_transfer_embed_norm", "bn_inception"),
    ("clarifai_resnext", "resnext50_32x4d"),
])
def test_pretrained_templates_start_from_registered_imagenet_21k_weights(tmp_path, key, architecture):
    first_conv = "stem.0.0.weight" if architecture == "bn_inception" else "conv1.weight"
    weights = tmp_path / "in21k.pt"
    torch.save({first_conv: torch.full((64, 3, 7, 7), 0.25), "classifier.weight": torch.ones(21841, 8)}, weights)
    resolver = Resolver({(architecture, "ImageNet-21K"): weights})
    model, config = _start_and_export(_build(tmp_path, key, resolver), tmp_path)
    assert resolver.calls == [(architecture, "ImageNet-21K")]
    assert torch.all(model.state_dict()[f"features.{'body.' if architecture != 'bn_inception' else ''}{first_conv}"]
                     == 0.25)
    assert config["pretrained"]["name"] == "ImageNet-21K"
    assert config["pretrained"]["skipped"] == ["classifier.weight"]


@pytest.mark.parametrize("key", ["clarifai_inception_batchnorm", "clarifai_resnext",
                                 "clarifai_inception_transfer_embed_norm"])
def test_pretrained_templates_fall_back_to_random_weights_and_say_so(tmp_path, key):
    _, config = _start_and_export(_build(tmp_path, key, Resolver()), tmp_path)
    assert config["pretrained"]["name"] is None
    assert "no ImageNet-21K weights registered" in config["pretrained"]["reason"]


def test_inception_v2_always_starts_from_random_weights(tmp_path):
    weights = tmp_path / "in21k.pt"
    torch.save({"stem.0.0.weight": torch.full((64, 3, 7, 7), 0.25)}, weights)
    resolver = Resolver({("bn_inception", "ImageNet-21K"): weights})
    model, config = _start_and_export(_build(tmp_path, "clarifai_inception_v2", resolver), tmp_path)
    assert resolver.calls == []
    assert not torch.all(model.features.stem[0][0].weight == 0.25)
    assert config["pretrained"]["name"] is None and "random" in config["pretrained"]["reason"]


def test_templates_are_registered_under_their_trainer_keys():
    from trainers.families import trainer_keys

    assert set(TEMPLATES) <= set(trainer_keys())
