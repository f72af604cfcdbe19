"""Runs one training job in a worker: lease, re-validate, fit with callbacks, register the model."""
from __future__ import annotations

import logging
import shutil
import threading
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Coalesce, Now

from platform_api.celery import TRAIN_JOB, enqueue
from platform_api.datasets.services import local_dataset_dir
from platform_api.leases import Heartbeat, new_worker_id
from platform_api.registry.models import ModelVersion, PretrainedWeights
from platform_api.storage import get_storage
from platform_api.training import lease
from platform_api.training.files import checkpoint_key, discard_job_files, job_work_dir
from platform_api.training.models import Job, MetricsEntry
from platform_api.training.services import finish
from templates_registry.hyperparams import HyperparameterErrors, resolve_hyperparameters
from trainers.core import Callbacks, Cancelled, DatasetSpec, FitResult, Progress, TrainerError
from trainers.registry import build_trainer

log = logging.getLogger(__name__)

# Set when this worker process is asked to shut down (workers/recovery.py): a running
# job stops at its next step and is handed back to the queue at once.
worker_stopping = threading.Event()


def run_job(job_id: int) -> None:
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        return
    if job.status in Job.FINAL:  # ended without this worker (cancelled while waiting, given up)
        discard_job_files(job_id)
        return
    if job.cancel_requested and (job.status == Job.Status.QUEUED or job.lease_owner == ""):
        finish(job_id, None, Job.Status.CANCELLED)  # nobody is running it: end it here
        return
    if worker_stopping.is_set():  # this worker is leaving: pass the delivery on untouched
        _requeue(job_id)
        return
    owner = new_worker_id()
    if not lease.acquire(job_id, owner):
        log.info("job %s is held by another worker or no longer runnable; skipping this delivery", job_id)
        return
    try:
        _run_leased(job_id, owner)
    finally:
        _clear_local_work_if_ended(job_id)


def _run_leased(job_id: int, owner: str) -> None:
    Job.objects.filter(pk=job_id).update(started_at=Coalesce("started_at", Now()))
    job = Job.objects.get(pk=job_id)
    log.info("job %s: attempt %s on %s", job_id, job.attempts, owner)
    with lease.heartbeat(job_id, owner) as heartbeat:
        try:
            result = _fit(job, owner, heartbeat)
        except Cancelled:
            if heartbeat.lost.is_set():
                return  # another worker owns the job now
            if _cancel_requested(job_id) or not worker_stopping.is_set():
                finish(job_id, owner, Job.Status.CANCELLED)
            else:
                _hand_back(job_id, owner)
            return
        except TrainerError as exc:
            finish(job_id, owner, Job.Status.FAILED, error_code=exc.code, error_message=exc.message)
            return
        except HyperparameterErrors as exc:
            finish(job_id, owner, Job.Status.FAILED, error_code="invalid_hyperparameters", error_message=str(exc.errors))
            return
        except Exception as exc:
            log.exception("job %s crashed", job_id)
            finish(job_id, owner, Job.Status.FAILED, error_code="internal_error", error_message=f"{type(exc).__name__}: {exc}")
            return
        _register_model(job, owner, result)


def _fit(job: Job, owner: str, heartbeat: Heartbeat) -> FitResult:
    # The worker checks the stored snapshot again: the template may have changed since.
    hyperparameters = resolve_hyperparameters(job.hyperparameter_spec, job.hyperparameters)
    dataset = DatasetSpec.load(local_dataset_dir(job.dataset))
    work_dir = job_work_dir(job.pk)
    _restore_remote_checkpoint(job.pk, work_dir)
    trainer = build_trainer(
        job.trainer,
        hyperparameters,
        dataset,
        work_dir,
        weights_resolver=_weights_resolver(job.owner_id),
        device=settings.TRAINING_DEVICE or None,
        precision=_requested_precision(job),
    )
    result = trainer.fit(_callbacks(job.pk, owner, heartbeat))
    if result.resumed_from_step:
        Job.objects.filter(pk=job.pk).update(
            resumed_from_epoch=result.resumed_from_epoch, resumed_from_step=result.resumed_from_step
        )
    return result


def _requested_precision(job: Job) -> str:
    """The job's own request first, then this worker's TRAINING_PRECISION (auto by default)."""
    return job.requested_precision if job.requested_precision != "auto" else settings.TRAINING_PRECISION


def _callbacks(job_id: int, owner: str, heartbeat: Heartbeat) -> Callbacks:
    mine = Job.objects.filter(pk=job_id, lease_owner=owner)
    last_checkpoint = time.monotonic()

    def on_progress(progress: Progress) -> None:
        mine.update(
            progress={
                "percent": round(progress.percent, 2),
                "epoch": progress.epoch,
                "epochs": progress.epochs,
                "step": progress.step,
                "steps": progress.steps,
                "eta_seconds": None if progress.eta_seconds is None else round(progress.eta_seconds, 1),
                "loss": progress.loss,
            }
        )

    def on_metrics(epoch: int, step: int, metrics: dict) -> None:
        with transaction.atomic():
            # An epoch evaluated again after a resume replaces its earlier entry.
            MetricsEntry.objects.filter(job_id=job_id, epoch=epoch).delete()
            MetricsEntry.objects.create(job_id=job_id, epoch=epoch, step=step, metrics=metrics)
            mine.update(metrics=metrics)

    def on_precision(precision) -> None:
        log.info("job %s: training in %s (%s)", job_id, precision.name, precision.reason)
        mine.update(precision=precision.name)

    def on_checkpoint(path: Path) -> None:
        nonlocal last_checkpoint
        last_checkpoint = time.monotonic()
        storage = get_storage()
        if storage.is_remote:  # another machine may have to resume this job
            storage.save_file(checkpoint_key(job_id), path)

    def should_stop() -> bool:
        return heartbeat.lost.is_set() or worker_stopping.is_set() or _cancel_requested(job_id)

    def should_checkpoint() -> bool:
        if heartbeat.lost.is_set():
            return False  # the job is another worker's now: the work folder is not ours to write
        if worker_stopping.is_set():  # handed back next: the next worker goes on from this step
            return not _cancel_requested(job_id)
        return time.monotonic() - last_checkpoint >= settings.JOB_CHECKPOINT_EVERY_SECONDS

    return Callbacks(on_progress=on_progress, on_metrics=on_metrics, on_checkpoint=on_checkpoint, on_precision=on_precision,
                     should_stop=should_stop, should_checkpoint=should_checkpoint)


def _cancel_requested(job_id: int) -> bool:
    return bool(Job.objects.filter(pk=job_id).values_list("cancel_requested", flat=True).first())


def _hand_back(job_id: int, owner: str) -> None:
    """The worker is shutting down: queue the job again now; it resumes from its last checkpoint."""
    if lease.release(job_id, owner):
        log.warning("job %s: worker shutting down; queued again to resume from its last checkpoint", job_id)
        _requeue(job_id)


def _requeue(job_id: int) -> None:
    enqueue(TRAIN_JOB, job_id)


def _clear_local_work_if_ended(job_id: int) -> None:
    """finish() frees an ended job's files where it runs; a job that another worker ended
    (on another machine, after this one lost the lease) still has its work folder here."""
    if Job.objects.filter(pk=job_id, status__in=Job.FINAL).exists():
        shutil.rmtree(job_work_dir(job_id), ignore_errors=True)


def _restore_remote_checkpoint(job_id: int, work_dir: Path) -> None:
    """On S3 the stored checkpoint is the latest (every checkpoint is uploaded as it is
    written): it replaces a local one, which is older if the job ran elsewhere meanwhile."""
    storage = get_storage()
    if storage.is_remote and storage.exists(checkpoint_key(job_id)):
        storage.download(checkpoint_key(job_id), work_dir / "checkpoints" / "last.pt")


def _weights_resolver(owner_id: int):
    def resolve(architecture: str, name: str) -> Path | None:
        weights = PretrainedWeights.objects.filter(owner_id=owner_id, architecture=architecture, name=name).first()
        return get_storage().local_file(weights.file_key) if weights else None

    return resolve


def _register_model(job: Job, owner: str, result: FitResult) -> None:
    # A key of this attempt's own: a worker that lost its lease while saving can never
    # overwrite the files of the model its successor registered.
    artifact_key = f"models/job-{job.pk}-{uuid.uuid4().hex[:12]}"
    storage = get_storage()
    storage.save_dir(result.artifact_dir, artifact_key)
    with transaction.atomic():
        # The job keeps its latest evaluation's metrics (API.md); the model has the best epoch's.
        registered = finish(job.pk, owner, Job.Status.SUCCEEDED)
        if registered:
            ModelVersion.objects.get_or_create(
                job=job,
                defaults=dict(
                    owner=job.owner,
                    template_id=job.template_id,
                    dataset_id=job.dataset_id,
                    trainer=job.trainer,
                    hyperparameters=job.hyperparameters,
                    metrics=result.metrics,
                    classes=job.dataset.classes,
                    artifact_key=artifact_key,
                ),
            )
            progress = Job.objects.filter(pk=job.pk).values_list("progress", flat=True).first() or {}
            Job.objects.filter(pk=job.pk).update(progress={**progress, "percent": 100.0, "eta_seconds": 0})
    if not registered:
        log.warning("job %s: lease lost before the model was registered; leaving it to its new owner", job.pk)
        storage.delete(artifact_key)
        return
    log.info("job %s succeeded (best epoch %s)", job.pk, result.best_epoch)
