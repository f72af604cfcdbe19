"""Learning-rate factor functions for torch.optim.lr_scheduler.LambdaLR.

Each helper returns `factor(step) -> float` (step = optimizer steps done), the
multiplier of every param group's initial lr.
"""
from __future__ import annotations

import math
from typing import Callable

Factor = Callable[[int], float]


def _warmup(step: int, warmup_steps: int, start_factor: float) -> float:
    """Linear ramp from start_factor (step 0) to 1.0 (step warmup_steps)."""
    return start_factor + (1.0 - start_factor) * step / warmup_steps


def warmup_cosine(total_steps: int, warmup_steps: int = 0, warmup_start_factor: float = 0.001,
                  min_factor: float = 0.0) -> Factor:
    """Linear warmup, then cosine decay from 1.0 to min_factor at total_steps."""
    total_steps = max(1, total_steps)
    warmup_steps = max(0, min(warmup_steps, total_steps))

    def factor(step: int) -> float:
        if step < warmup_steps:
            return _warmup(step, warmup_steps, warmup_start_factor)
        decay_steps = max(1, total_steps - warmup_steps)
        progress = min(1.0, (step - warmup_steps) / decay_steps)
        return min_factor + (1.0 - min_factor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


def cosine_with_linear_warmup_scale(total_steps: int, warmup_steps: int, warmup_ratio: float,
                                    min_factor: float = 0.0) -> Factor:
    """mmcv's CosineAnnealing with `warmup="linear"`: the cosine runs over the whole run,
    from 1.0 to min_factor, and during warmup it is scaled by a ramp from warmup_ratio to 1.
    So training always ends at min_factor, even when warmup is as long as the run."""
    total_steps = max(1, total_steps)

    def factor(step: int) -> float:
        progress = min(1.0, step / total_steps)
        regular = min_factor + (1.0 - min_factor) * 0.5 * (1.0 + math.cos(math.pi * progress))
        if step < warmup_steps:
            return regular * (1.0 - (1.0 - step / warmup_steps) * (1.0 - warmup_ratio))
        return regular

    return factor


def step_decay(steps_per_epoch: int, init_epochs: int, step_epochs: int, gamma: float) -> Factor:
    """1.0 for the first init_epochs, then multiplied by gamma every step_epochs epochs."""
    steps_per_epoch = max(1, steps_per_epoch)
    step_epochs = max(1, step_epochs)

    def factor(step: int) -> float:
        epoch = step // steps_per_epoch
        if epoch < init_epochs:
            return 1.0
        return gamma ** ((epoch - init_epochs) // step_epochs + 1)

    return factor


def multi_step(steps_per_epoch: int, milestone_epochs: list[int], gamma: float) -> Factor:
    """1.0, multiplied by gamma once each milestone's epoch count has been completed."""
    steps_per_epoch = max(1, steps_per_epoch)

    def factor(step: int) -> float:
        epoch = step // steps_per_epoch
        return gamma ** sum(epoch >= milestone for milestone in milestone_epochs)

    return factor


def constant(warmup_steps: int = 0, warmup_start_factor: float = 0.001) -> Factor:
    """Linear warmup, then 1.0."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return _warmup(step, warmup_steps, warmup_start_factor)
        return 1.0

    return factor
