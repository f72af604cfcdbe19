"""Every worker looks for leased work (jobs, imports) whose worker died, at start and then
periodically.

This needs no beat process: any live worker notices a lapsed lease within half a lease
period and queues the work again, whatever the broker does with unacknowledged messages.
It also sends again work whose queue message was lost. The mechanism is
platform_api/leased_work.py; LEASED_WORK lists the kinds it serves.

A supervisor that sees a worker process exit (`manage.py serve`) need not wait for the
lease: `recover_dead_worker` queues that process's work again at once.
"""
import logging
import threading

from celery.signals import worker_ready, worker_shutdown, worker_shutting_down
from django.conf import settings
from django.db import close_old_connections, connection

from platform_api.datasets.services import DATASET_IMPORTS
from platform_api.leased_work import LostDeliveries
from platform_api.training.lifecycle import TRAINING_JOBS
from platform_api.training.stopping import worker_stopping

log = logging.getLogger(__name__)
_stop = threading.Event()

LEASED_WORK = (TRAINING_JOBS, DATASET_IMPORTS)


def _loop() -> None:
    interval = max(settings.JOB_LEASE_SECONDS / 2, 0.5)
    lost_deliveries = [LostDeliveries(work) for work in LEASED_WORK]
    while True:
        try:
            close_old_connections()
            for work in LEASED_WORK:
                requeued = work.recover()
                if requeued:
                    log.warning("queued again %ss whose worker died: %s", work.what, requeued)
            for deliveries in lost_deliveries:
                deliveries.check()
        except Exception:
            log.exception("recovery pass failed")
        finally:
            connection.close()
        if _stop.wait(interval):
            return


def recover_dead_worker(pid: int) -> list[tuple[str, int]]:
    """The worker process `pid` on this machine has exited: its leases lapse now and its
    work is queued again (or given up on, after JOB_MAX_ATTEMPTS deaths) at once. Returns
    (what, id) of the work queued again."""
    requeued = []
    for work in LEASED_WORK:
        if work.lapse_leases_of(pid):
            requeued += [(work.what, pk) for pk in work.recover()]
    return requeued


@worker_ready.connect
def start_recovery(**_):
    _stop.clear()
    threading.Thread(target=_loop, name="recovery", daemon=True).start()


@worker_shutdown.connect
def stop_recovery(**_):
    _stop.set()


@worker_shutting_down.connect
def hand_back_running_job(**_):
    """Warm shutdown (SIGTERM): stop the running job at its next step and queue it again,
    instead of finishing it or leaving it to lapse."""
    worker_stopping.set()
