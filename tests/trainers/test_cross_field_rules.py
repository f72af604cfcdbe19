"""Rules across hyperparameters, declared beside the fields and refused before training."""
from pathlib import Path

import pytest

from trainers.core import DatasetSpec, TrainerError
from trainers.families import check_hyperparameters


def test_fai_cls_refuses_a_warmup_as_long_as_the_run():
    with pytest.raises(TrainerError, match="warmup_epochs 20 must be less than epochs 5"):
        check_hyperparameters("fai_cls", {"warmup_epochs": 20, "epochs": 5})
    assert check_hyperparameters("fai_cls", {"warmup_epochs": 4, "epochs": 5}) is None


def spec_with_train_images(count: int) -> DatasetSpec:
    items = [{"image": f"train/{n}.png", "labels": [n % 2]} for n in range(count)]
    return DatasetSpec(root=Path("."), manifest={"task": "instance_segmentation", "classes": ["a", "b"],
                                                 "splits": {"train": {"items": items}}})


@pytest.mark.parametrize("trainer, values, steps", [
    ("fai_mf", {"warmup_iters": 9, "epochs": 3, "batch_size": 4}, 9),  # 10 images: 3 steps an epoch
    ("clarifai_resnet50_rsb_a1", {"warmup_iters": 20, "num_epochs": 2, "batch_size": 2, "pretrained_weights": "None"}, 10),
])
def test_a_warmup_that_outlasts_the_run_is_refused_on_the_dataset_it_would_train_on(trainer, values, steps):
    ten_images = spec_with_train_images(10)
    with pytest.raises(TrainerError, match=f"warmup_iters {values['warmup_iters']} must be less than the run's "
                                           f"{steps} optimizer steps") as refusal:
        check_hyperparameters(trainer, values, ten_images)
    assert refusal.value.code == "invalid_hyperparameters"
    check_hyperparameters(trainer, {**values, "warmup_iters": steps - 1}, ten_images)
    check_hyperparameters(trainer, values)  # without the dataset the run's length is unknown
