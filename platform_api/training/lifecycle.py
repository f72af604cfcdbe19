"""The worker side of a job's life: ending it, and recovering jobs whose worker died.

Workers (the runner, the recovery loop) call these; the web-facing services
(training/services.py) submit and cancel.
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from platform_api.celery import TRAIN_JOB, enqueue
from platform_api.training import lease
from platform_api.training.files import discard_job_files
from platform_api.training.models import Job

log = logging.getLogger(__name__)


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
