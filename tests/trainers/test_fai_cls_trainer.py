import json
import logging
import random
from pathlib import Path

import pytest
import torch

from trainers.backbones import build_backbone
from trainers.core import DatasetSpec, TrainerError
from trainers.fai_cls.hyperparameters import FaiClsHyperparameters
from trainers.hyperparameters import declarations
from trainers.families import build_trainer, load_predictor

from fai_cls_data import draw, write_dataset

TINY = dict(backbone="tiny_test", resolution=32, batch_size=8, learning_rate=0.02, num_layers=2,
            hidden_dim=32, dropout_rate=0.0, features="res3")


def _fit(root: Path, work: Path, **hp):
    trainer = build_trainer("fai_cls", {**TINY, **hp}, DatasetSpec.load(root), work, device="cpu")
    return trainer.fit()


def _held_out(options, n=5, seed=99):
    rng = random.Random(seed)
    return [(colours, draw(colours, rng)) for colours in options * n]


@pytest.fixture(scope="module")
def single_label_run(tmp_path_factory):
    root = write_dataset(tmp_path_factory.mktemp("single"), {"train": 24, "valid": 12})
    return _fit(root, root / "work", epochs=6)


def test_single_label_fit_reaches_high_accuracy_and_its_predictor_classifies_new_images(single_label_run):
    assert single_label_run.metrics["accuracy"] >= 0.9
    assert single_label_run.metrics["eval_split"] == "valid"
    predictor = load_predictor(single_label_run.artifact_dir)
    images = _held_out([["red"], ["blue"]])
    predictions = predictor.predict([image for _, image in images])
    assert [p[0]["label"] for p in predictions] == [colours[0] for colours, _ in images]
    assert all(len(p) == 1 and 0.5 <= p[0]["conf"] <= 1.0 for p in predictions)


def test_the_predictor_handles_one_image_and_an_empty_list(single_label_run):
    predictor = load_predictor(single_label_run.artifact_dir)
    [only] = predictor.predict([draw(["blue"], random.Random(5))])
    assert only[0]["label"] == "blue" and only[0]["cls_id"] == 1
    assert predictor.predict([]) == []


def test_the_artifact_records_trainer_config_labels_and_metrics(single_label_run):
    artifact = single_label_run.artifact_dir
    config = json.loads((artifact / "config.json").read_text())
    assert config["trainer"] == "fai_cls" and config["num_classes"] == 2
    assert config["hyperparameters"]["backbone"] == "tiny_test"
    assert config["hyperparameters"]["threshold"] == 0.5  # defaults are resolved into the artifact
    assert config["pretrained"] is None
    assert json.loads((artifact / "labels.json").read_text()) == ["red", "blue"]
    metrics = json.loads((artifact / "metrics.json").read_text())
    assert metrics["eval_split"] == "valid" and len(metrics["confusion_matrix"]) == 2
    assert set(metrics["per_class"]) == {"red", "blue"}


def test_multi_label_fit_predicts_every_colour_present(tmp_path):
    root = write_dataset(tmp_path, {"train": 30, "valid": 12}, multi_label=True)
    result = _fit(root, tmp_path / "work", epochs=10, multi_label=True)
    assert result.metrics["f1_macro"] >= 0.9
    predictor = load_predictor(result.artifact_dir)
    images = _held_out([["red"], ["blue"], ["red", "blue"]])
    predictions = predictor.predict([image for _, image in images])
    correct = sum(sorted(d["label"] for d in p) == sorted(c) for (c, _), p in zip(images, predictions))
    assert correct >= 13  # of 15


def test_missing_pretrained_weights_fail_before_training(tmp_path):
    root = write_dataset(tmp_path, {"train": 4})
    with pytest.raises(TrainerError) as error:
        build_trainer("fai_cls", {**TINY, "pretrained_weights": "imagenet"}, DatasetSpec.load(root),
                      tmp_path / "work", weights_resolver=lambda architecture, name: None)
    assert error.value.code == "weights_not_registered"
    assert "imagenet" in error.value.message and "tiny_test" in error.value.message
    assert not (tmp_path / "work").exists()


def test_registered_pretrained_weights_are_loaded_and_reported(tmp_path, caplog):
    root = write_dataset(tmp_path, {"train": 8})
    source = build_backbone("tiny_test")
    torch.nn.init.constant_(source.stem[0].weight, 0.01)
    torch.save(source.state_dict(), tmp_path / "tiny.pt")
    asked = []

    def resolver(architecture, name):
        asked.append((architecture, name))
        return tmp_path / "tiny.pt"

    trainer = build_trainer("fai_cls", {**TINY, "epochs": 1, "learning_rate": 1e-6, "pretrained_weights": "mine"},
                            DatasetSpec.load(root), tmp_path / "work", weights_resolver=resolver, device="cpu")
    with caplog.at_level(logging.INFO, logger="trainers.fai_cls"):
        result = trainer.fit()
    assert asked == [("tiny_test", "mine")]
    assert "pretrained weights mine" in caplog.text
    pretrained = json.loads((result.artifact_dir / "config.json").read_text())["pretrained"]
    assert pretrained["name"] == "mine" and "backbone.stem.0.weight" in pretrained["loaded"]
    assert pretrained["missing"] and all(k.startswith("head.") for k in pretrained["missing"])
    weights = torch.load(result.artifact_dir / "weights.pt", weights_only=True)
    assert torch.allclose(weights["backbone.stem.0.weight"], torch.full_like(weights["backbone.stem.0.weight"], 0.01),
                          atol=1e-4)  # lr 1e-6 for one step barely moves it


@pytest.mark.parametrize("splits,used", [({"train": 6, "test": 4}, "test"), ({"train": 6}, "train")])
def test_without_a_valid_split_it_evaluates_on_test_then_train(tmp_path, splits, used):
    root = write_dataset(tmp_path, splits)
    result = _fit(root, tmp_path / "work", epochs=1)
    assert result.metrics["eval_split"] == used and result.metrics["num_samples"] == splits[used]


def test_a_corrupt_image_fails_with_its_file_name(tmp_path):
    root = write_dataset(tmp_path, {"train": 4})
    (root / "train" / "2.png").write_bytes(b"not a png")
    with pytest.raises(TrainerError) as error:
        _fit(root, tmp_path / "work", epochs=1)
    assert error.value.code == "corrupt_image" and "train/2.png" in error.value.message


def test_two_labels_on_one_image_need_multi_label(tmp_path):
    root = write_dataset(tmp_path, {"train": 3}, multi_label=True)
    with pytest.raises(TrainerError) as error:
        _fit(root, tmp_path / "work", epochs=1)
    assert error.value.code == "multi_label_required" and "train/2.png" in error.value.message


@pytest.mark.parametrize("bad", [{"hidden_dim": 12}, {"batch_size": 0}, {"learning_rate": 2.0},
                                 {"backbone": "vgg16"}, {"unknown": 1}, {"dropout_rate": 0.333},
                                 {"epochs": 2.0}, {"multi_label": "yes"}])
def test_it_rejects_invalid_hyperparameters(tmp_path, bad):
    root = write_dataset(tmp_path, {"train": 2})
    with pytest.raises(TrainerError) as error:
        build_trainer("fai_cls", {**TINY, **bad}, DatasetSpec.load(root), tmp_path / "work")
    assert error.value.code == "invalid_hyperparameters" and next(iter(bad)) in error.value.message


def test_the_declaration_states_each_parameter_once_with_its_bounds():
    declared = {spec["name"]: spec for spec in declarations(FaiClsHyperparameters)}
    assert {name: spec["default"] for name, spec in declared.items()} == FaiClsHyperparameters().model_dump()
    assert (declared["hidden_dim"]["min"], declared["hidden_dim"]["max"], declared["hidden_dim"]["step"]) == (8, 4096, 8)
    assert declared["learning_rate"]["log_scale"] and declared["learning_rate"]["step"] is None


def test_bf16_and_fp32_predictors_agree_on_the_top_class(single_label_run):
    images = [image for _, image in _held_out([["red"], ["blue"]], n=3, seed=7)]
    fp32 = load_predictor(single_label_run.artifact_dir, device="cpu", precision="fp32").predict(images)
    bf16 = load_predictor(single_label_run.artifact_dir, device="cpu", precision="bf16").predict(images)
    assert [p[0]["cls_id"] for p in fp32] == [p[0]["cls_id"] for p in bf16]
    assert all(abs(a[0]["conf"] - b[0]["conf"]) < 0.05 for a, b in zip(fp32, bf16))


def test_stdc_backbones_train_under_bf16_and_channels_last_and_predict(tmp_path):
    root = write_dataset(tmp_path / "data", {"train": 16, "valid": 8})
    result = _fit(root, root / "work", backbone="stdc1", resolution=64, epochs=2, features="res5")
    assert 0.0 <= result.metrics["accuracy"] <= 1.0 and len(result.history) == 2
    assert all(torch.isfinite(torch.tensor(h["train_loss"])) for h in result.history)
    predictions = load_predictor(result.artifact_dir).predict([image for _, image in _held_out([["red"]], n=2)])
    assert len(predictions) == 2 and predictions[0][0]["label"] in ("red", "blue")


def test_the_fit_keeps_its_model_when_the_evaluation_report_cannot_be_made(tmp_path, monkeypatch, caplog):
    import trainers.evaluation

    def broken(*args, **kwargs):
        raise ValueError("a report that cannot be made")

    monkeypatch.setattr(trainers.evaluation, "write_report", broken)
    root = write_dataset(tmp_path, {"train": 8, "valid": 4})
    result = _fit(root, tmp_path / "work", epochs=1)
    assert (result.artifact_dir / "weights.pt").exists() and not (result.artifact_dir / "evaluation").exists()
    assert "could not be made" in caplog.text


def test_the_artifact_keeps_a_report_of_its_evaluation_split(tmp_path):
    root = write_dataset(tmp_path, {"train": 8, "valid": 4})
    result = _fit(root, tmp_path / "work", epochs=1)
    report = json.loads((result.artifact_dir / "evaluation" / "report.json").read_text())
    assert report["split"] == "valid" and report["metrics"]["num_samples"] == 4
    assert report["metrics"]["accuracy"] == pytest.approx(result.metrics["accuracy"])
