"""Leases on training jobs (see platform_api/leases.py for the mechanism)."""
from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from platform_api.leases import Heartbeat, lease_is_free, lease_until, lost_leases_after_taking
from platform_api.training.models import Job


def acquire(job_id: int, owner: str) -> bool:
    """Takes the job if it is waiting (queued, or requeued by recovery) or its lease lapsed."""
    taken = (
        Job.objects.filter(pk=job_id, status__in=[Job.Status.QUEUED, Job.Status.RUNNING], cancel_requested=False)
        .filter(lease_is_free())
        .update(
            status=Job.Status.RUNNING,
            lease_owner=owner,
            lease_expires_at=lease_until(),
            attempts=F("attempts") + 1,
            lost_leases=lost_leases_after_taking(),
        )
    )
    return taken == 1


def renew(job_id: int, owner: str) -> bool:
    return Job.objects.filter(pk=job_id, lease_owner=owner, status=Job.Status.RUNNING).update(
        lease_expires_at=lease_until()
    ) == 1


def heartbeat(job_id: int, owner: str) -> Heartbeat:
    return Heartbeat(lambda: renew(job_id, owner), f"job {job_id}")


def release(job_id: int, owner: str) -> bool:
    """Gives up a held lease so the next delivery can take the job (it stays running)."""
    return (
        Job.objects.filter(pk=job_id, lease_owner=owner, status=Job.Status.RUNNING).update(
            lease_owner="", lease_expires_at=lease_until()
        )
        == 1
    )


def stale_running_jobs():
    """Running jobs whose owner stopped renewing the lease. A job handed back (no owner)
    is waiting in the queue, however long, not lost (see platform_api/deliveries.py)."""
    return Job.objects.filter(status=Job.Status.RUNNING, lease_expires_at__lt=timezone.now()).exclude(lease_owner="")


def mark_requeued(job_id: int) -> bool:
    """Frees a stale job for the next delivery; the fresh expiry stops recovery re-queuing it at once."""
    return (
        stale_running_jobs().filter(pk=job_id).update(
            lease_owner="", lease_expires_at=lease_until(), lost_leases=F("lost_leases") + 1
        )
        == 1
    )
