import math

import pytest

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
