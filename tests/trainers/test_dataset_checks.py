"""Every trainer refuses unusable data with the same code for the same condition."""
import pytest

from trainers.core import DatasetSpec, TrainerError
from trainers.families import build_trainer

TRAINERS = {"fai_cls": {"backbone": "tiny_test"}, "fai_mf": {"backbone": "tiny_test"},
            "clarifai_inception_v2": {}}
ONE_ITEM = {"items": [{"image": "a.png", "labels": [0]}]}


def manifest(task, classes=("a", "b"), train=ONE_ITEM):
    splits = {"train": train} if train is not None else {}
    return {"task": task, "classes": list(classes), "splits": splits}


def refusal(tmp_path, key, data) -> str:
    with pytest.raises(TrainerError) as error:
        build_trainer(key, TRAINERS[key], DatasetSpec(tmp_path, data), tmp_path / "work", device="cpu")
    return error.value.code


def task_of(key):
    return "semantic_segmentation" if key == "fai_mf" else "classification"


@pytest.mark.parametrize("key", sorted(TRAINERS))
def test_a_task_the_trainer_does_not_train_is_unsupported_task(tmp_path, key):
    other = "classification" if key == "fai_mf" else "semantic_segmentation"
    assert refusal(tmp_path, key, manifest(other)) == "unsupported_task"


@pytest.mark.parametrize("key", sorted(TRAINERS))
def test_a_dataset_without_classes_is_no_classes(tmp_path, key):
    assert refusal(tmp_path, key, manifest(task_of(key), classes=())) == "no_classes"


@pytest.mark.parametrize("key", sorted(TRAINERS))
@pytest.mark.parametrize("train", [None, {"items": []}, {"coco": "train.json", "num_images": 0}])
def test_a_missing_or_empty_train_split_is_no_train_split(tmp_path, key, train):
    assert refusal(tmp_path, key, manifest(task_of(key), train=train)) == "no_train_split"
