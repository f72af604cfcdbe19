"""What a running fit reports, persisted on the job row: progress (and the loss history,
training/loss_history.py), each evaluation's metrics and whether it is the best so far, the
chosen precision, the checkpoint a resumed run goes on from; checkpoints uploaded where
storage is remote; and the questions the engine asks between steps (stop? checkpoint now?).

A database restart does not fail the job: a progress report is skipped, a cancel is not
seen until the database answers, and what the job must keep (evaluations, precision,
resume point) waits for it (platform_api/work/db_outage.py).
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

from django.conf import settings
from django.db import transaction

from platform_api.work.db_outage import best_effort, through_outage
from platform_api.work.leased_work import Heartbeat
from platform_api.storage import get_storage
from platform_api.training.files import checkpoint_key
from platform_api.training.loss_history import LossRecorder
from platform_api.training.models import Job, MetricsEntry
from platform_api.training.stopping import worker_stopping
from trainers.core import Callbacks, Progress

log = logging.getLogger(__name__)


def job_callbacks(job_id: int, owner: str, heartbeat: Heartbeat) -> Callbacks:
    mine = Job.objects.filter(pk=job_id, lease_owner=owner)
    last_checkpoint = time.monotonic()
    losses = LossRecorder(job_id)
    # A resumed job's entries name the metric its earlier evaluations were ranked by.
    earlier = MetricsEntry.objects.filter(job_id=job_id).exclude(monitor="").values_list("monitor", flat=True)
    best = {"epoch": None, "monitor": earlier.last() or ""}

    def on_progress(progress: Progress) -> None:
        shown = {
            "percent": round(progress.percent, 2),
            "epoch": progress.epoch,
            "epochs": progress.epochs,
            "step": progress.step,
            "steps": progress.steps,
            "eta_seconds": None if progress.eta_seconds is None else round(progress.eta_seconds, 1),
            "loss": progress.loss,
        }
        if best_effort(lambda: mine.update(progress=shown)):  # still this worker's job
            best_effort(lambda: losses.record(progress))

    def on_best(epoch: int, monitor: str) -> None:
        best.update(epoch=epoch, monitor=monitor)

    def on_metrics(epoch: int, step: int, metrics: dict) -> None:
        def record():
            with transaction.atomic():
                # An epoch evaluated again after a resume replaces its earlier entry.
                MetricsEntry.objects.filter(job_id=job_id, epoch=epoch).delete()
                MetricsEntry.objects.create(job_id=job_id, epoch=epoch, step=step, metrics=metrics,
                                            best=best["epoch"] == epoch, monitor=best["monitor"])
                mine.update(metrics=metrics)

        kept(record)

    def on_precision(precision) -> None:
        log.info("job %s: training in %s (%s)", job_id, precision.name, precision.reason)
        kept(lambda: mine.update(precision=precision.name))

    def on_resume(epoch: int, step: int) -> None:
        # Shown while the job runs, not once it has ended.
        kept(lambda: mine.update(resumed_from_epoch=epoch, resumed_from_step=step))

    def on_checkpoint(path: Path) -> None:
        nonlocal last_checkpoint
        last_checkpoint = time.monotonic()
        storage = get_storage()
        if storage.is_remote:  # another machine may have to resume this job
            storage.save_file(checkpoint_key(job_id), path)

    def should_stop() -> bool:
        if heartbeat.lost.is_set() or worker_stopping.is_set():
            return True
        return bool(best_effort(lambda: cancel_requested(job_id)))

    def should_checkpoint() -> bool:
        if heartbeat.lost.is_set():
            return False  # the job is another worker's now: the work folder is not ours to write
        if worker_stopping.is_set():  # handed back next: the next worker goes on from this step
            return not best_effort(lambda: cancel_requested(job_id))
        return time.monotonic() - last_checkpoint >= settings.JOB_CHECKPOINT_EVERY_SECONDS

    return Callbacks(on_progress=on_progress, on_metrics=on_metrics, on_best=on_best, on_checkpoint=on_checkpoint,
                     on_precision=on_precision, on_resume=on_resume,
                     should_stop=should_stop, should_checkpoint=should_checkpoint)


def kept(write) -> None:
    """A write the job must keep: waits out a database restart (up to a lease period)."""
    through_outage(write, settings.JOB_LEASE_SECONDS)


def cancel_requested(job_id: int) -> bool:
    return bool(Job.objects.filter(pk=job_id).values_list("cancel_requested", flat=True).first())
