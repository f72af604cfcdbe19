"""Readers, metrics, hyperparameter validation and the catalogue file."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from trainers.core import TrainerError
from trainers.data.coco import load_coco
from trainers.fai_mf.data import CocoInstanceDataset, SemanticDataset
from trainers.fai_mf.evaluation import coco_detections, evaluate_detections
from trainers.fai_mf.hyperparameters import AUTO_DEFAULTS, FaiMfHyperparameters, parse_hyperparameters
from trainers.fai_mf.postprocessing import masks_to_boxes
from trainers.hyperparameters import declarations
from trainers.fai_mf.transforms import SquareTransform
from trainers.metrics.segmentation import ConfusionMatrix, semantic_metrics

from fai_mf_toys import draw, write_coco_dataset, write_semantic_dataset

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pycocotools.mask")
CATALOGUE = Path(__file__).resolve().parents[2] / "training_templates" / "catalogue" / "fai-mf.json"


def test_coco_reader_decodes_polygons_and_rle_to_the_drawn_masks(tmp_path):
    dataset = write_coco_dataset(tmp_path, num_images=2)
    reader = CocoInstanceDataset(dataset.root, "annotations/train.json", SquareTransform(64))
    image, target = reader[1]
    _, drawn = draw(1)
    assert image.shape == (3, 64, 64) and 0.0 <= image.min() and image.max() <= 1.0
    assert target["labels"].tolist() == [0, 1]
    for mask, (_, truth) in zip(target["masks"], drawn):
        assert torch.equal(mask, torch.from_numpy(truth))


def with_images_without_objects(dataset):
    """Adds a background image (no annotation) and a crowd-only one, as COCO exports have."""
    path = dataset.root / "annotations" / "train.json"
    coco = json.loads(path.read_text())
    first = coco["images"][0]
    for image_id in (100, 101):
        coco["images"].append({**first, "id": image_id})
    crowd = next(a for a in coco["annotations"] if a["image_id"] == first["id"])
    coco["annotations"].append({**crowd, "id": 1000, "image_id": 101, "iscrowd": 1})
    path.write_text(json.dumps(coco))
    return dataset


@pytest.mark.parametrize("strength", [0.0, 0.5])
def test_images_without_objects_give_empty_targets(tmp_path, strength):
    dataset = with_images_without_objects(write_coco_dataset(tmp_path, num_images=2))
    reader = CocoInstanceDataset(dataset.root, "annotations/train.json", SquareTransform(64, strength))
    for index in (2, 3):  # the background image, the crowd-only image
        image, target = reader[index]
        assert image.shape == (3, 64, 64)
        assert target["masks"].shape == (0, 64, 64) and target["labels"].tolist() == []


def test_semantic_reader_makes_one_target_per_present_class_and_drops_ignored_pixels(tmp_path):
    dataset = write_semantic_dataset(tmp_path, num_images=1)
    reader = SemanticDataset(dataset.root, dataset.split("train")["items"], 3, SquareTransform(64))
    _, target = reader[0]
    assert target["labels"].tolist() == [0, 1, 2]
    covered = target["masks"].sum(0)
    assert covered.max() == 1  # classes do not overlap
    _, drawn = draw(0)
    disc = torch.from_numpy(drawn[1][1])
    assert torch.equal(target["masks"][2], disc)
    assert (covered == 0).sum() > 0  # the ignore ring belongs to no target


def test_augmentation_keeps_image_and_masks_aligned(tmp_path):
    dataset = write_coco_dataset(tmp_path, num_images=1)
    reader = CocoInstanceDataset(dataset.root, "annotations/train.json", SquareTransform(64, strength=1.0))
    torch.manual_seed(0)
    for _ in range(5):
        image, target = reader[0]
        assert image.shape == (3, 64, 64) and target["masks"].shape[1:] == (64, 64)
        for label, mask in zip(target["labels"], target["masks"]):
            # box pixels are red, disc pixels blue: colour under each mask matches its class
            red, blue = image[0][mask].mean(), image[2][mask].mean()
            assert (red > blue) if label == 0 else (blue > red)


def test_miou_and_pixel_accuracy_match_hand_computation():
    confusion = ConfusionMatrix(num_classes=3)
    target = np.array([[0, 0, 1, 1], [2, 2, 255, 255]])
    prediction = np.array([[0, 1, 1, 1], [2, 0, 2, 2]])
    confusion.update(prediction, target)
    metrics = semantic_metrics(confusion.matrix, ["a", "b", "c"])
    # a: tp 1, fp 1 (c's pixel), fn 1 -> 1/3; b: tp 2, fp 1 -> 2/3; c: tp 1, fn 1 -> 1/2
    assert metrics["IoU/a"] == pytest.approx(100 / 3)
    assert metrics["IoU/b"] == pytest.approx(200 / 3)
    assert metrics["IoU/c"] == pytest.approx(50.0)
    assert metrics["mIoU"] == pytest.approx((100 / 3 + 200 / 3 + 50) / 3)
    assert metrics["pixel_accuracy"] == pytest.approx(4 / 6 * 100)


def test_miou_skips_classes_absent_from_ground_truth_and_prediction():
    confusion = ConfusionMatrix(num_classes=3)
    confusion.update(np.array([0, 1]), np.array([0, 1]))
    metrics = semantic_metrics(confusion.matrix, ["a", "b", "c"])
    assert metrics["mIoU"] == pytest.approx(100.0) and "IoU/c" not in metrics


def ground_truth_results(coco, image_id):
    anns = coco.imgToAnns[image_id]
    masks = torch.stack([torch.from_numpy(coco.annToMask(a)).bool() for a in anns])
    return {"scores": torch.ones(len(anns)), "labels": torch.tensor([a["category_id"] - 1 for a in anns]),
            "masks": masks, "boxes": masks_to_boxes(masks)}


def test_cocoeval_gives_100_for_the_ground_truth_and_less_for_a_wrong_class(tmp_path):
    dataset = write_coco_dataset(tmp_path, num_images=3)
    coco = load_coco(dataset.root / "annotations/train.json")
    perfect = [d for i in coco.imgs for d in coco_detections(i, ground_truth_results(coco, i))]
    assert evaluate_detections(coco, perfect) == {"segm/AP": 100.0, "segm/AP50": 100.0, "segm/AP75": 100.0}
    swapped = [dict(d, category_id=3 - d["category_id"]) for d in perfect]
    assert evaluate_detections(coco, swapped)["segm/AP"] == 0.0
    assert evaluate_detections(coco, [])["segm/AP"] == 0.0


def test_it_rejects_off_step_resolution():
    with pytest.raises(TrainerError) as error:
        parse_hyperparameters({"resolution": 650})
    assert error.value.code == "invalid_hyperparameters" and "resolution" in error.value.message


def test_it_rejects_unknown_hyperparameters_and_num_classes():
    with pytest.raises(TrainerError):
        parse_hyperparameters({"num_classes": 3})


def test_it_accepts_an_integral_json_number_for_a_float():
    assert parse_hyperparameters({"grad_clip_norm": 0}).grad_clip_norm == 0.0


def test_the_declaration_is_what_the_trainer_enforces():
    catalogue = json.loads(CATALOGUE.read_text())
    assert catalogue["id"] == "fai-mf" and catalogue["trainer"] == "fai_mf"
    assert catalogue["dataset_tasks"] == ["instance_segmentation", "semantic_segmentation"]
    declared = {p["name"]: p for p in declarations(FaiMfHyperparameters)}
    fields = FaiMfHyperparameters.model_fields
    assert set(declared) == set(fields)
    defaults = FaiMfHyperparameters()
    for name, spec in declared.items():
        # A null default is "auto": the rule for a model from random weights fills it.
        expected = AUTO_DEFAULTS["random"][name] if spec["default"] is None else spec["default"]
        assert expected == getattr(defaults, name), name
        assert spec["description"], name
        if spec["min"] is not None:  # the bounds are enforced by the trainer too
            with pytest.raises(TrainerError):
                parse_hyperparameters({name: type(expected)(spec["min"]) - (spec["step"] or 1)})
        if spec["max"] is not None:
            with pytest.raises(TrainerError):
                parse_hyperparameters({name: type(expected)(spec["max"]) + (spec["step"] or 1)})
        if spec["choices"]:
            for choice in spec["choices"]:
                parse_hyperparameters({name: choice})
