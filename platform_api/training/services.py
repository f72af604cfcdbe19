"""Training jobs: submission, cancellation and recovery of jobs whose worker died."""
from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from platform_api.celery import TRAIN_JOB, enqueue
from platform_api.datasets.models import Dataset
from platform_api.problems import Conflict, Invalid
from platform_api.training import lease
from platform_api.training.files import discard_job_files
from platform_api.training.models import Job
from platform_api.training.queries import forget_status
from templates_registry.models import Template
from templates_registry.hyperparams import HyperparameterErrors
from templates_registry.services import resolve_for_template
from trainers.core import TrainerError
from trainers.registry import check_hyperparameters

log = logging.getLogger(__name__)


# Progress of a job no worker has started yet (the trainer fills in the plan).
NOT_STARTED = {"percent": 0.0, "epoch": 0, "epochs": None, "step": 0, "steps": None, "eta_seconds": None}


class JobRejected(Invalid):
    """The submission cannot be accepted; `errors` maps request fields to messages."""


def submit_job(owner, template_id: str, dataset_id: int, hyperparameters: dict, name: str = "",
               precision: str = "auto") -> Job:
    template = Template.objects.filter(pk=template_id).first()
    if template is None:
        raise JobRejected({"template": [f"no template {template_id!r}"]})
    if not template.is_active:
        raise JobRejected({"template": [f"template {template_id!r} is inactive and takes no new jobs"]})
    dataset = Dataset.objects.filter(pk=dataset_id, owner=owner).first()
    if dataset is None:
        raise JobRejected({"dataset": [f"no dataset {dataset_id!r}"]})
    if dataset.status != Dataset.Status.READY:
        raise JobRejected({"dataset": [f"dataset {dataset.pk} is {dataset.status}, not ready"]})
    if dataset.task not in template.dataset_tasks:
        raise JobRejected(
            {"dataset": [f"template {template.pk} trains on {', '.join(template.dataset_tasks)} data; this dataset is {dataset.task}"]}
        )
    if precision not in template.precisions:
        raise JobRejected({"precision": [f"template {template.pk} allows {', '.join(template.precisions)}; "
                                         f"got {precision!r}"]})
    try:
        resolved, spec = resolve_for_template(template, hyperparameters or {})
    except HyperparameterErrors as exc:
        raise JobRejected({"hyperparameters": exc.errors}) from None
    _check_with_the_trainer(template.trainer, resolved)
    with transaction.atomic():
        job = Job.objects.create(
            owner=owner,
            name=name,
            template=template,
            dataset=dataset,
            trainer=template.trainer,
            hyperparameters=resolved,
            hyperparameter_spec=spec,
            requested_precision=precision,
            progress=dict(NOT_STARTED),
        )
        transaction.on_commit(lambda: enqueue(TRAIN_JOB, job.pk))
    return job


def _check_with_the_trainer(trainer: str, resolved: dict) -> None:
    """The trainer's own check (rules across parameters, its hard limits) at submission,
    so a job it would refuse is a 400 now rather than a failed job later."""
    try:
        check_hyperparameters(trainer, resolved)
    except TrainerError as exc:
        raise JobRejected({"hyperparameters": [exc.message]}) from None


class JobAlreadyEnded(Conflict):
    def __init__(self, message: str):
        super().__init__(message, "job_ended")


def cancel_job(job: Job) -> Job:
    """A waiting job ends cancelled at once; a running one is asked to stop at its next step.
    Raises JobAlreadyEnded for a job that has ended (checked under the row lock)."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.status in Job.FINAL:
            raise JobAlreadyEnded(f"job {job.pk} has already ended ({job.status})")
        job.cancel_requested = True
        if job.status == Job.Status.QUEUED or job.lease_owner == "":
            job.status = Job.Status.CANCELLED
            job.finished_at = timezone.now()
            transaction.on_commit(lambda: discard_job_files(job.pk))
        job.save(update_fields=["cancel_requested", "status", "finished_at"])
        transaction.on_commit(lambda: forget_status(job.pk))
    return job


def finish(job_id: int, owner: str | None, status: str, only_if_stale: bool = False, **fields) -> bool:
    """Moves a job to a final state; with `owner`, only while that worker still holds the
    lease; with `only_if_stale`, only while its lease is still lapsed (recovery must not end
    a job whose worker renewed in the meantime). An ended job never resumes: its checkpoints
    are freed once this commits, whoever ends it."""
    query = Job.objects.filter(pk=job_id).exclude(status__in=Job.FINAL)
    if owner is not None:
        query = query.filter(lease_owner=owner)
    if only_if_stale:
        query = query.filter(pk__in=lease.stale_running_jobs().values("pk"))
    ended = query.update(status=status, finished_at=timezone.now(), lease_expires_at=None, **fields) == 1
    if ended:
        transaction.on_commit(lambda: discard_job_files(job_id))
    return ended


def recover_stale_jobs() -> list[int]:
    """Queues again every running job whose worker stopped renewing its lease."""
    requeued = []
    # Cancelled while a worker held it, then handed back or lapsed: no worker will take it.
    for job_id in Job.objects.filter(
        status__in=[Job.Status.QUEUED, Job.Status.RUNNING], lease_owner="", cancel_requested=True
    ).values_list("pk", flat=True):
        finish(job_id, "", Job.Status.CANCELLED)
    for job in lease.stale_running_jobs():
        if job.cancel_requested:
            finish(job.pk, None, Job.Status.CANCELLED, only_if_stale=True)
        elif job.lost_leases + 1 >= settings.JOB_MAX_ATTEMPTS:
            finish(
                job.pk,
                None,
                Job.Status.FAILED,
                only_if_stale=True,
                error_code="worker_lost",
                error_message=f"the worker running this job died {job.lost_leases + 1} times; giving up",
            )
        elif lease.mark_requeued(job.pk):
            log.warning("job %s: worker %s stopped renewing its lease; queuing it again", job.pk, job.lease_owner)
            enqueue(TRAIN_JOB, job.pk)
            requeued.append(job.pk)
    return requeued
