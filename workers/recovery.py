"""Every worker looks for jobs and imports whose worker died, at start and then periodically.

This needs no beat process: any live worker notices a lapsed lease within half a lease
period and queues the job again, whatever the broker does with unacknowledged messages.
It also sends again work whose queue message was lost (platform_api/deliveries.py).
"""
import logging
import threading

from celery.signals import worker_ready, worker_shutdown, worker_shutting_down
from django.conf import settings
from django.db import close_old_connections, connection

from platform_api.datasets.services import recover_stale_imports
from platform_api.deliveries import import_deliveries, job_deliveries
from platform_api.training.stopping import worker_stopping
from platform_api.training.lifecycle import recover_stale_jobs

log = logging.getLogger(__name__)
_stop = threading.Event()


def _loop() -> None:
    interval = max(settings.JOB_LEASE_SECONDS / 2, 0.5)
    lost_deliveries = [job_deliveries(), import_deliveries()]
    while True:
        try:
            close_old_connections()
            recovered = recover_stale_jobs()
            if recovered:
                log.warning("queued again jobs whose worker died: %s", recovered)
            reimported = recover_stale_imports()
            if reimported:
                log.warning("queued again imports whose worker died: %s", reimported)
            for deliveries in lost_deliveries:
                deliveries.check()
        except Exception:
            log.exception("job recovery pass failed")
        finally:
            connection.close()
        if _stop.wait(interval):
            return


@worker_ready.connect
def start_recovery(**_):
    _stop.clear()
    threading.Thread(target=_loop, name="job-recovery", daemon=True).start()


@worker_shutdown.connect
def stop_recovery(**_):
    _stop.set()


@worker_shutting_down.connect
def hand_back_running_job(**_):
    """Warm shutdown (SIGTERM): stop the running job at its next step and queue it again,
    instead of finishing it or leaving it to lapse."""
    worker_stopping.set()
