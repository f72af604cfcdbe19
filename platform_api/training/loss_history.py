"""The training loss a running fit reports, kept per job for the loss curve.

The engine reports a step's loss about once a second and each epoch's mean
(trainers.core.Progress). A job keeps at most MAX_STEP_POINTS step losses: past that every
other one goes and new ones are kept half as often, so a long run's curve stays even
across its whole length in bounded rows. Epoch means (one per epoch) are all kept.
A point replaces those at later steps (and its own kind at its step): after a resume the
steps redone replace what the lost run had reported for them.
"""
from __future__ import annotations

import math

from django.db import transaction
from django.db.models import Max, Min, Q

from platform_api.training.models import LossPoint
from trainers.core import Progress

MAX_STEP_POINTS = 1000


class LossRecorder:
    def __init__(self, job_id: int):
        self.job_id = job_id
        steps = LossPoint.objects.filter(job_id=job_id, epoch_mean=False)
        span = steps.aggregate(first=Min("step"), last=Max("step"))
        self.count = steps.count()
        self.last_step = span["last"]
        self.gap = self._gap(span["first"], span["last"]) if self.count >= MAX_STEP_POINTS // 2 else 0

    def record(self, progress: Progress) -> None:
        if progress.loss is None or not math.isfinite(progress.loss):
            return
        if not progress.epoch_mean and self.last_step is not None and 0 < progress.step - self.last_step < self.gap:
            return  # thinned: not yet a gap's worth of steps since the last kept point
        mine = LossPoint.objects.filter(job_id=self.job_id)
        with transaction.atomic():
            mine.filter(Q(step__gt=progress.step) | Q(step=progress.step, epoch_mean=progress.epoch_mean)).delete()
            LossPoint.objects.create(job_id=self.job_id, step=progress.step, epoch=progress.epoch,
                                     loss=progress.loss, epoch_mean=progress.epoch_mean)
        if progress.epoch_mean:
            return
        steps = mine.filter(epoch_mean=False)
        self.count, self.last_step = steps.count(), progress.step
        if self.count > MAX_STEP_POINTS:
            self._thin(steps)

    def _thin(self, steps) -> None:
        ids = list(steps.order_by("step").values_list("id", flat=True))
        doomed = ids[1:-1:2]  # every other one; the first and the latest stay
        for start in range(0, len(doomed), 500):  # SQLite's parameter limit
            LossPoint.objects.filter(id__in=doomed[start:start + 500]).delete()
        span = steps.aggregate(first=Min("step"), last=Max("step"))
        self.count -= len(doomed)
        self.gap = self._gap(span["first"], span["last"])

    def _gap(self, first: int | None, last: int | None) -> int:
        if first is None or last is None or self.count < 2:
            return 0
        return max(1, (last - first) // (self.count - 1))


def loss_series(job_id: int) -> dict[str, list[dict]]:
    """{"loss": the kept step losses, "epoch_loss": each epoch's mean}, in step order."""
    points = LossPoint.objects.filter(job_id=job_id).values_list("step", "epoch", "loss", "epoch_mean")
    series: dict[str, list[dict]] = {"loss": [], "epoch_loss": []}
    for step, epoch, loss, epoch_mean in points:
        series["epoch_loss" if epoch_mean else "loss"].append({"step": step, "epoch": epoch, "loss": loss})
    return series
