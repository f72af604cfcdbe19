"""The worker side of a job's life: its lease (`TRAINING_JOBS`, platform_api/work/leased_work.py),
ending it, and what recovery does with a job whose worker died.

Workers (the runner, the recovery loop) use these; the web-facing services
(training/services.py) submit and cancel.
"""
from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from platform_api.celery import TRAIN_JOB, training_queue
from platform_api.work.leased_work import LeasedWork
from platform_api.training.files import discard_job_files
from platform_api.training.models import Job


def finish(job_id: int, owner: str | None, status: str, only_if_stale: bool = False, **fields) -> bool:
    """Moves a job to a final state; with `owner`, only while that worker still holds the
    lease; with `only_if_stale`, only while its lease is still lapsed (recovery must not end
    a job whose worker renewed in the meantime). An ended job never resumes: its checkpoints
    are freed once this commits, whoever ends it."""
    query = Job.objects.filter(pk=job_id).exclude(status__in=Job.FINAL)
    if owner is not None:
        query = query.filter(lease_owner=owner)
    if only_if_stale:
        query = query.filter(pk__in=TRAINING_JOBS.lapsed().values("pk"))
    ended = query.update(status=status, finished_at=timezone.now(), lease_expires_at=None, **fields) == 1
    if ended:
        transaction.on_commit(lambda: discard_job_files(job_id))
    return ended


def _give_up(job: Job) -> None:
    last = f"; {job.error_message}" if job.error_message else ""  # what a failed rank said, if one did
    finish(job.pk, job.lease_owner, Job.Status.FAILED, only_if_stale=True, error_code="worker_lost",
           error_message=f"the worker running this job died {job.lost_leases + 1} times; giving up{last}")


def _end_cancelled(job: Job) -> None:
    """Cancelled while a worker held it, then handed back or lapsed: no worker will take it."""
    finish(job.pk, job.lease_owner, Job.Status.CANCELLED, only_if_stale=job.lease_owner != "")


def _queue_of_job(job_id: int) -> str:
    """A job on N devices waits where the workers offering N listen."""
    return training_queue(Job.objects.filter(pk=job_id).values_list("devices", flat=True).first() or 1)


TRAINING_JOBS = LeasedWork(
    model=Job,
    task_name=TRAIN_JOB,
    what="job",
    waiting=(Job.Status.QUEUED, Job.Status.RUNNING),  # running: a lapsed lease a delivery may take over
    working=Job.Status.RUNNING,
    requeued_as=Job.Status.QUEUED,  # handed back or queued again: no worker runs it
    give_up=_give_up,
    stopped=Q(cancel_requested=True),
    stop=_end_cancelled,
    counts_attempts=True,
    queue_for=_queue_of_job,
)
