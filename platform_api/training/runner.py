"""Runs one training job in a worker: take the lease, re-validate, build the trainer and fit.

What the fit reports is persisted by training/callbacks.py; the model it leaves is
registered by the registry app (registry/services.py)."""
from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

from django.conf import settings
from django.db.models.functions import Coalesce, Now

from platform_api.datasets.services import local_dataset_dir
from platform_api.work.db_outage import best_effort, database_unreachable, through_outage
from platform_api.disk_space import out_of_space
from platform_api.work.leased_work import Heartbeat, new_worker_id
from platform_api.registry.services import weights_resolver
from platform_api.storage import get_storage
from platform_api.training.files import checkpoint_key, discard_job_files, job_work_dir
from platform_api.training.models import Job
from platform_api.training.registration import register_model
from platform_api.training import callbacks, gangs
from platform_api.training.rank_fit import rank_fit, requested_precision
from platform_api.training.lifecycle import TRAINING_JOBS, finish
from platform_api.training.stopping import worker_stopping
from training_templates.hyperparameter_specs import HyperparameterErrors, resolve_hyperparameters
from trainers.core import Cancelled, DatasetSpec, FitResult, TrainerError
from trainers.families import build_trainer
from trainers.multi_device import RanksFailed, fit_on_devices

log = logging.getLogger(__name__)

DISK_FULL = ("the worker's disk is full: no space left to write this job's checkpoint or model; nothing "
             "half-written was kept. Submit the job again once space has been freed.")


def run_job(job_id: int) -> None:
    # A delivery that finds the database restarting waits for it instead of being dropped.
    owner = through_outage(lambda: _take(job_id), settings.JOB_LEASE_SECONDS)
    if owner is None:
        return
    gangs.running_a_job.set()  # this worker's devices are taken: it joins no gang run meanwhile
    try:
        _run_leased(job_id, owner)
    finally:
        gangs.running_a_job.clear()
        best_effort(lambda: _clear_local_work_if_ended(job_id))


def _take(job_id: int) -> str | None:
    """Takes the job's lease for this delivery; None when there is nothing to run."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        return None
    if job.status in Job.FINAL:  # ended without this worker (cancelled while waiting, given up)
        discard_job_files(job_id)
        return None
    if job.cancel_requested and (job.status == Job.Status.QUEUED or job.lease_owner == ""):
        finish(job_id, None, Job.Status.CANCELLED)  # nobody is running it: end it here
        return None
    if worker_stopping.is_set():  # this worker is leaving: pass the delivery on untouched
        TRAINING_JOBS.send(job_id)
        return None
    if gangs.following():  # its devices train a node of another worker's run: another worker's job
        time.sleep(gangs.PASS_ON_AFTER_SECONDS)
        TRAINING_JOBS.send(job_id)
        return None
    owner = new_worker_id()
    if not TRAINING_JOBS.acquire(job_id, owner):
        log.info("job %s is held by another worker or no longer runnable; skipping this delivery", job_id)
        return None
    return owner


def _run_leased(job_id: int, owner: str) -> None:
    job = through_outage(lambda: _started(job_id), settings.JOB_LEASE_SECONDS)
    log.info("job %s: attempt %s on %s", job_id, job.attempts, owner)
    ranks_failed = gang_busy = None
    with TRAINING_JOBS.heartbeat(job_id, owner) as heartbeat:
        try:
            result = _fit(job, owner, heartbeat)
        except RanksFailed as exc:
            ranks_failed = exc  # handled once the heartbeat no longer renews the lease
        except gangs.GangBusy as exc:
            gang_busy = exc
        except Cancelled:
            if heartbeat.lost.is_set():
                return  # another worker owns the job now
            if callbacks.cancel_requested(job_id) or not worker_stopping.is_set():
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
            _crashed(job_id, owner, exc)
            return
        else:
            try:
                register_model(job, owner, result)
            except Exception as exc:
                if not (out_of_space(exc) or database_unreachable(exc)):
                    raise  # the job waits for its lease to lapse and resumes from its last checkpoint
                _crashed(job_id, owner, exc)
    if ranks_failed is not None:
        _lost_a_rank(job_id, owner, ranks_failed)
    if gang_busy is not None:  # this worker joins the open run; the job waits for the gang
        log.info("job %s: %s; queued again", job_id, gang_busy)
        time.sleep(gangs.PASS_ON_AFTER_SECONDS)
        TRAINING_JOBS.hand_back(job_id, owner)


def _lost_a_rank(job_id: int, owner: str, exc: RanksFailed) -> None:
    """A rank died or hung: counted as a dead worker is (JOB_MAX_ATTEMPTS), the job is queued
    again by recovery and resumes from its last checkpoint on every rank. What ended the
    attempt is kept (shown only if the job is given up on: a rank that fails the same way at
    every attempt says why)."""
    log.error("job %s: %s; queued again to resume from its last checkpoint", job_id, exc)

    def lapse() -> None:
        Job.objects.filter(pk=job_id, lease_owner=owner).update(error_message=f"the last attempt ended: {exc}"[:2000])
        TRAINING_JOBS.lapse(job_id, owner)

    through_outage(lapse, settings.JOB_LEASE_SECONDS)


def _started(job_id: int) -> Job:
    Job.objects.filter(pk=job_id).update(started_at=Coalesce("started_at", Now()))
    return Job.objects.get(pk=job_id)


def _fit(job: Job, owner: str, heartbeat: Heartbeat) -> FitResult:
    work_dir = job_work_dir(job.pk)
    _restore_remote_checkpoint(job.pk, work_dir)
    job_callbacks = callbacks.job_callbacks(job.pk, owner, heartbeat)
    if job.devices > 1:  # rank_fit resolves the values and fetches the dataset, as below
        return _fit_on_devices(job, owner, job_callbacks)
    # The worker checks the stored snapshot again: the template may have changed since.
    hyperparameters = resolve_hyperparameters(job.hyperparameter_spec, job.hyperparameters)
    dataset = DatasetSpec.load(local_dataset_dir(job.dataset))
    trainer = build_trainer(
        job.trainer,
        hyperparameters,
        dataset,
        work_dir,
        weights_resolver=weights_resolver(job.owner_id),
        device=settings.TRAINING_DEVICE or None,
        precision=requested_precision(job),
    )
    return trainer.fit(job_callbacks)


def _fit_on_devices(job: Job, owner: str, job_callbacks) -> FitResult:
    """One rank per device, in processes of their own; this worker process keeps the lease
    and the database. More devices than this machine has: it leads a gang run (gangs.py)."""
    local, _ = gangs.worker_devices()
    request = rank_fit(job)
    timeout_s = settings.DISTRIBUTED_TIMEOUT_SECONDS
    if job.devices <= local:
        return fit_on_devices(request, job.devices, job_callbacks, timeout_s=timeout_s)
    if not settings.WORKER_GANG or job.devices % local or job.devices > local * settings.WORKER_GANG_NODES:
        raise TrainerError("not_enough_devices", f"the job asks for {job.devices} devices; this worker offers "
                           f"{local}, in a gang of {settings.WORKER_GANG_NODES if settings.WORKER_GANG else 1} "
                           "machine(s)")
    run = gangs.lead(job, owner, local)
    try:
        return fit_on_devices(request, local, job_callbacks, timeout_s=timeout_s, init_method=run.init_method,
                              nodes=run.nodes)
    finally:
        gangs.end(run)


def _crashed(job_id: int, owner: str, exc: Exception) -> None:
    if database_unreachable(exc):
        _hand_back_after_outage(job_id, owner, exc)
        return
    if out_of_space(exc):  # checkpoint, export and model writes leave nothing half-written
        log.error("job %s: no space left on the device: %r", job_id, exc)
        finish(job_id, owner, Job.Status.FAILED, error_code="disk_full", error_message=DISK_FULL)
        return
    log.error("job %s crashed", job_id, exc_info=exc)
    finish(job_id, owner, Job.Status.FAILED, error_code="internal_error", error_message=f"{type(exc).__name__}: {exc}")


def _hand_back_after_outage(job_id: int, owner: str, exc: Exception) -> None:
    """The database went away for longer than the fit would wait: once it answers, queue the
    job again to resume from its last checkpoint. Should it stay away for longer than a
    lease, this raises and recovery takes the job over when the lease has lapsed."""
    log.warning("job %s: database unreachable (%s); handing the job back once it answers", job_id, exc)
    if through_outage(lambda: TRAINING_JOBS.hand_back(job_id, owner), settings.JOB_LEASE_SECONDS):
        log.warning("job %s: queued again to resume from its last checkpoint", job_id)


def _hand_back(job_id: int, owner: str) -> None:
    """The worker is shutting down: queue the job again now; it resumes from its last checkpoint."""
    if TRAINING_JOBS.hand_back(job_id, owner):
        log.warning("job %s: worker shutting down; queued again to resume from its last checkpoint", job_id)


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

