"""Every worker moves the platform's studies on, every STUDY_DRIVER_SECONDS: it reports new
evaluations of trial jobs to Optuna, prunes, tells outcomes and queues the next trials
(platform_api/studies/services.advance). Workers share the work through each study's row
lock, so any one of them alive keeps every study going, across restarts."""
from celery.signals import worker_ready, worker_shutdown
from django.conf import settings

from platform_api.studies.services import advance_all
from workers.periodic import Periodic

_driver = Periodic("study-driver", lambda: settings.STUDY_DRIVER_SECONDS, advance_all)


@worker_ready.connect
def start_study_driver(**_):
    _driver.start()


@worker_shutdown.connect
def stop_study_driver(**_):
    _driver.stop()
