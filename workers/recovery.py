"""Every worker looks for leased work (jobs, imports) whose worker died, at start and then
periodically.

This needs no beat process: any live worker notices a lapsed lease within half a lease
period and queues the work again, whatever the broker does with unacknowledged messages.
It also sends again work whose queue message was lost. The mechanism is
platform_api/work/leased_work.py; platform_api/recovery.py lists the kinds it serves (and queues
a dead worker's work again at once for a supervisor that saw it exit).
"""
import logging

from celery.signals import worker_ready, worker_shutdown, worker_shutting_down
from django.conf import settings

from platform_api.work.leased_work import LostDeliveries
from platform_api.recovery import LEASED_WORK
from platform_api.training.stopping import worker_stopping
from workers.periodic import Periodic

log = logging.getLogger(__name__)
_lost_deliveries = [LostDeliveries(work) for work in LEASED_WORK]


def _recovery_pass() -> None:
    for work in LEASED_WORK:
        requeued = work.recover()
        if requeued:
            log.warning("queued again %ss whose worker died: %s", work.what, requeued)
    for deliveries in _lost_deliveries:
        deliveries.check()


_recovery = Periodic("recovery", lambda: max(settings.JOB_LEASE_SECONDS / 2, 0.5), _recovery_pass)


@worker_ready.connect
def start_recovery(**_):
    _recovery.start()


@worker_shutdown.connect
def stop_recovery(**_):
    _recovery.stop()


@worker_shutting_down.connect
def hand_back_running_job(**_):
    """Warm shutdown (SIGTERM): stop the running job at its next step and queue it again,
    instead of finishing it or leaving it to lapse."""
    worker_stopping.set()
