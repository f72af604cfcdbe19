"""Every worker moves the platform's studies on, every STUDY_DRIVER_SECONDS: it reports new
evaluations of trial jobs to Optuna, prunes, tells outcomes and queues the next trials
(platform_api/studies/services.advance). Workers share the work through each study's row
lock, so any one of them alive keeps every study going, across restarts."""
import logging
import threading

from celery.signals import worker_ready, worker_shutdown
from django.conf import settings
from django.db import close_old_connections, connection

from platform_api.studies.services import advance_all

log = logging.getLogger(__name__)
_stop = threading.Event()


def _loop() -> None:
    while True:
        try:
            close_old_connections()
            advance_all()
        except Exception:
            log.exception("study pass failed")
        finally:
            connection.close()
        if _stop.wait(settings.STUDY_DRIVER_SECONDS):
            return


@worker_ready.connect
def start_study_driver(**_):
    _stop.clear()
    threading.Thread(target=_loop, name="study-driver", daemon=True).start()


@worker_shutdown.connect
def stop_study_driver(**_):
    _stop.set()
