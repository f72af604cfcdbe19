"""Rules across hyperparameters, declared beside the fields and refused before training."""
import pytest

from trainers.core import TrainerError
from trainers.families import check_hyperparameters

from fai_mf_toys import TINY_HYPERPARAMETERS, write_coco_dataset


def test_fai_cls_refuses_a_warmup_as_long_as_the_run():
    with pytest.raises(TrainerError, match="warmup_epochs 20 must be less than epochs 5"):
        check_hyperparameters("fai_cls", {"warmup_epochs": 20, "epochs": 5})
    assert check_hyperparameters("fai_cls", {"warmup_epochs": 4, "epochs": 5}) is None


def test_fai_mf_refuses_a_warmup_longer_than_the_run_s_steps_on_that_dataset(tmp_path):
    dataset = write_coco_dataset(tmp_path)
    images = (dataset.split("train") or {}).get("num_images")
    values = {**TINY_HYPERPARAMETERS, "epochs": 2, "batch_size": 2}
    steps = 2 * -(-images // 2)
    with pytest.raises(TrainerError, match=f"warmup_iters {steps + 1} is more than the run's {steps} optimizer steps"):
        check_hyperparameters("fai_mf", {**values, "warmup_iters": steps + 1}, dataset)
    assert check_hyperparameters("fai_mf", {**values, "warmup_iters": steps}, dataset) is None
