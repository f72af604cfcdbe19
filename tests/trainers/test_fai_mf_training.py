"""End to end on tiny synthetic data: overfitting (COCOeval AP, mIoU), predictor output, resume."""
import json

import numpy as np
import pytest
import torch
from PIL import Image

from trainers.core import Callbacks, Cancelled, TrainerError
from trainers.data.masks import decode_mask
from trainers.families import build_trainer
from trainers.families import load_predictor

from fai_mf_toys import (CLASSES, SEMANTIC_CLASSES, TINY_ENGINE_OVERRIDES, TINY_HYPERPARAMETERS,
                         TINY_MODEL_OVERRIDES, draw, write_coco_dataset, write_semantic_dataset)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pycocotools.mask")


def tiny_trainer(dataset, work_dir, epochs, precision=TINY_ENGINE_OVERRIDES, **engine):
    return build_trainer("fai_mf", {**TINY_HYPERPARAMETERS, "epochs": epochs}, dataset, work_dir,
                        model_overrides=TINY_MODEL_OVERRIDES,
                        engine_overrides={**precision, "items_per_epoch": 8, **engine})


@pytest.fixture(scope="module")
def instance_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("fai_mf_instance")
    dataset = write_coco_dataset(root / "data")
    losses = []
    trainer = tiny_trainer(dataset, root / "work", epochs=12, eval_every_epochs=6)
    result = trainer.fit(Callbacks(on_progress=lambda p: losses.append(p.loss)))
    return result, losses


def test_instance_training_drives_the_loss_down_and_reaches_high_segm_ap(instance_run):
    result, losses = instance_run
    assert losses[-1] < 0.3 * losses[0]
    # COCOeval on the training images, in percent
    assert result.metrics["segm/AP50"] >= 80.0
    assert result.metrics["segm/AP"] >= 60.0
    saved = json.loads((result.artifact_dir / "metrics.json").read_text())
    assert saved["segm/AP50"] == pytest.approx(result.metrics["segm/AP50"])


def test_predictor_returns_masks_at_the_original_size_of_each_image(instance_run):
    result, _ = instance_run
    predictor = load_predictor(result.artifact_dir)
    assert predictor.classes == CLASSES
    image, masks = draw(0)
    stretched = image.resize((96, 48), Image.NEAREST)  # a different size and aspect ratio
    predictions = predictor.predict([image, stretched])
    assert len(predictions) == 2
    for prediction, (w, h) in zip(predictions, [(64, 64), (96, 48)]):
        labels = {p["label"] for p in prediction}
        assert labels == set(CLASSES)
        for p in prediction:
            mask = decode_mask(p["mask"])
            assert mask.shape == (h, w)
            ys, xs = np.nonzero(mask)
            assert p["bbox"] == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
            assert p["label"] == CLASSES[p["cls_id"]] and 0.3 < p["conf"] <= 1.0
    # the box found in the original image overlaps the drawn one
    box = next(p for p in predictions[0] if p["label"] == "box")
    truth = masks[0][1]
    found = decode_mask(box["mask"])
    assert (found & truth).sum() / (found | truth).sum() > 0.8


def test_the_artifact_keeps_an_instance_report_that_scores_as_the_fit_did(instance_run):
    result, _ = instance_run
    report = json.loads((result.artifact_dir / "evaluation" / "report.json").read_text())
    assert report["task"] == "instance_segmentation" and report["runtime"] == "torch"
    # Through the served predictor, at the original sizes: the figures the fit measured.
    for key in ("segm/AP", "segm/AP50", "segm/AP75"):
        assert report["metrics"][key] == pytest.approx(result.metrics[key], abs=0.5)
    assert report["metrics"]["segm/APs"] is not None  # the toy objects are all small (< 32^2 px)
    assert report["metrics"]["segm/APm"] is None and report["metrics"]["segm/APl"] is None
    assert set(report["per_class"]) == set(CLASSES)
    for figures in report["per_class"].values():
        assert 0 <= figures["AP"] <= figures["AP50"] <= 100
        curve = figures["pr_curve"]
        assert curve["recall"] == sorted(curve["recall"]) and len(curve["precision"]) == len(curve["recall"])
    examples = report["examples"]
    assert examples["kind"] == "worst_iou" and len(examples["items"]) == min(examples["count"], 24)
    ious = [item["iou"] for item in examples["items"]]
    assert ious == sorted(ious) and all(0 <= iou < 1 for iou in ious)
    for item in examples["items"]:
        assert item["missed"] or item["false"] or any(m["iou"] < 1 for m in item["matched"])
        assert (result.artifact_dir / "evaluation" / "examples" / item["file"]).stat().st_size > 0


def test_semantic_training_reaches_high_miou(tmp_path):
    dataset = write_semantic_dataset(tmp_path / "data")
    result = tiny_trainer(dataset, tmp_path / "work", epochs=10, eval_every_epochs=10).fit()
    assert result.metrics["mIoU"] >= 85.0
    assert set(result.metrics) >= {"pixel_accuracy", *(f"IoU/{name}" for name in SEMANTIC_CLASSES)}
    config = json.loads((result.artifact_dir / "config.json").read_text())
    assert config["model"]["postprocessing_type"] == "semantic"  # "auto" followed the dataset
    report = json.loads((result.artifact_dir / "evaluation" / "report.json").read_text())
    assert report["metrics"]["mIoU"] == pytest.approx(result.metrics["mIoU"], abs=1e-6)
    assert set(report["per_class"]) == set(SEMANTIC_CLASSES)
    matrix = np.array(report["confusion_matrix"])
    assert matrix.shape == (3, 3) and matrix.sum() == sum(c["pixels"] for c in report["per_class"].values())
    for k, name in enumerate(SEMANTIC_CLASSES):
        assert report["per_class"][name]["pixel_accuracy"] == pytest.approx(100 * matrix[k, k] / matrix[k].sum())


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_a_cancelled_fit_resumes_from_its_checkpoint(tmp_path, precision):
    # channels_last in both precisions the hardware decision can give on a CPU, as workers run it.
    dataset = write_coco_dataset(tmp_path / "data", num_images=2)
    checkpoints = []
    stop = Callbacks(on_checkpoint=checkpoints.append, should_stop=lambda: bool(checkpoints))
    engine = {"precision": precision, "channels_last": True}
    with pytest.raises(Cancelled):
        tiny_trainer(dataset, tmp_path / "work", epochs=2, precision=engine, items_per_epoch=2).fit(stop)
    assert (tmp_path / "work" / "checkpoints" / "last.pt").exists()
    result = tiny_trainer(dataset, tmp_path / "work", epochs=2, precision=engine, items_per_epoch=2).fit()
    assert result.precision == precision
    assert result.resumed_from_epoch == 1
    assert [entry["epoch"] for entry in result.history] == [1, 2]
    assert np.isfinite(result.history[-1]["train_loss"])


def test_it_refuses_unregistered_pretrained_weights_before_training(tmp_path):
    dataset = write_coco_dataset(tmp_path / "data", num_images=1)
    with pytest.raises(TrainerError) as error:
        build_trainer("fai_mf", {**TINY_HYPERPARAMETERS, "pretrained_weights": "ImageNet-1k"}, dataset,
                      tmp_path / "work", weights_resolver=lambda backbone, name: None)
    assert error.value.code == "weights_not_registered"
    assert not (tmp_path / "work").exists()


def test_it_loads_registered_pretrained_weights_into_the_backbone(tmp_path):
    from trainers.backbones import build_backbone

    dataset = write_coco_dataset(tmp_path / "data", num_images=1)
    torch.manual_seed(123)
    backbone_state = build_backbone("tiny_test").state_dict()
    torch.save(backbone_state, tmp_path / "tiny.pt")
    trainer = build_trainer("fai_mf", {**TINY_HYPERPARAMETERS, "pretrained_weights": "mine", "epochs": 1}, dataset,
                           tmp_path / "work", weights_resolver=lambda b, n: tmp_path / "tiny.pt" if n == "mine" else None,
                           model_overrides=TINY_MODEL_OVERRIDES, engine_overrides=TINY_ENGINE_OVERRIDES)
    model = trainer.recipe.build_model()
    trainer.recipe.on_train_start(model, resumed=False)
    for key, value in backbone_state.items():
        assert torch.equal(model.state_dict()[f"backbone.{key}"], value)
    report = json.loads((tmp_path / "work" / "pretrained_report.json").read_text())
    assert report["name"] == "mine" and not report["unexpected"]


def test_it_rejects_a_classification_dataset(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps(
        {"format": "classification_folder", "task": "classification", "classes": ["a"],
         "splits": {"train": {"items": []}}}))
    from trainers.core import DatasetSpec

    with pytest.raises(TrainerError) as error:
        build_trainer("fai_mf", dict(TINY_HYPERPARAMETERS), DatasetSpec.load(tmp_path), tmp_path / "work")
    assert error.value.code == "unsupported_task"


def test_training_goes_through_images_without_objects(tmp_path):
    from test_fai_mf_data_metrics import with_images_without_objects

    dataset = with_images_without_objects(write_coco_dataset(tmp_path / "data", num_images=2))
    result = tiny_trainer(dataset, tmp_path / "work", epochs=1, items_per_epoch=4, batch_size=4).fit()
    assert len(result.history) == 1 and result.history[0]["train_loss"] == result.history[0]["train_loss"]
