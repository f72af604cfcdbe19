import math

import pytest
import torch

from trainers.engine.schedules import constant, step_decay, warmup_cosine


def test_warmup_cosine_ramps_linearly_then_follows_the_cosine():
    f = warmup_cosine(total_steps=12, warmup_steps=2, warmup_start_factor=0.1, min_factor=0.2)
    assert f(0) == pytest.approx(0.1)
    assert f(1) == pytest.approx(0.55)  # halfway between 0.1 and 1.0
    assert f(2) == pytest.approx(1.0)
    # 10 decay steps: at step 7 progress 0.5 -> 0.2 + 0.8 * 0.5 = 0.6
    assert f(7) == pytest.approx(0.6)
    assert f(12) == pytest.approx(0.2)
    assert f(100) == pytest.approx(0.2)
    # step 4: progress 0.2 -> 0.2 + 0.8 * 0.5 * (1 + cos(0.2 pi))
    assert f(4) == pytest.approx(0.2 + 0.4 * (1 + math.cos(0.2 * math.pi)))


def test_warmup_cosine_without_warmup_starts_at_one():
    f = warmup_cosine(total_steps=4, warmup_steps=0, warmup_start_factor=0.1, min_factor=0.0)
    assert [round(f(s), 6) for s in range(5)] == [1.0, 0.853553, 0.5, 0.146447, 0.0]


def test_step_decay_holds_for_init_epochs_then_multiplies_by_gamma():
    f = step_decay(steps_per_epoch=10, init_epochs=2, step_epochs=3, gamma=0.1)
    assert f(0) == f(19) == 1.0  # epochs 0, 1
    assert f(20) == pytest.approx(0.1)  # epoch 2
    assert f(49) == pytest.approx(0.1)  # epoch 4
    assert f(50) == pytest.approx(0.01)  # epoch 5
    assert f(80) == pytest.approx(0.001)  # epoch 8


def test_constant_warms_up_then_stays_at_one():
    f = constant(warmup_steps=4, warmup_start_factor=0.2)
    assert [f(s) for s in range(6)] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0, 1.0])
    assert constant()(0) == 1.0


@pytest.mark.parametrize("epochs, levels", [
    (3, [1, 0.1, 0.01]),
    (4, [1, 1, 0.1, 0.01]),
    (7, [1, 1, 1, 0.1, 0.1, 0.01, 0.01]),
    (10, [1, 1, 1, 1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01]),
])
def test_fai_cls_step_schedule_has_three_levels_one_per_third_of_the_epochs(tmp_path, epochs, levels):
    from trainers.core import DatasetSpec
    from trainers.fai_cls.hyperparameters import parse_hyperparameters
    from trainers.fai_cls.recipe import FaiClsRecipe

    from fai_cls_data import write_dataset

    root = write_dataset(tmp_path, {"train": 4, "valid": 2})
    hp = parse_hyperparameters({"backbone": "tiny_test", "resolution": 32, "scheduler": "step", "epochs": epochs,
                                "learning_rate": 1.0})
    recipe = FaiClsRecipe(hp, DatasetSpec.load(root), tmp_path / "work", None, "cpu")
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = recipe.build_scheduler(optimizer, steps_per_epoch=2, epochs=epochs)
    per_epoch = []
    for _ in range(epochs):
        per_epoch.append(optimizer.param_groups[0]["lr"])
        for _ in range(2):
            optimizer.step()
            scheduler.step()
    assert per_epoch == pytest.approx(levels)
