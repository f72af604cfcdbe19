"""The Celery app. Tasks are thin shims that take ids and call services."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_api.settings")

app = Celery("platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_acks_late=True,  # a message is acknowledged only after its task finished
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,  # one task per worker at a time
    task_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)
app.autodiscover_tasks(["workers"], related_name="tasks")
app.conf.task_routes = {"training.*": {"queue": "training"}, "datasets.*": {"queue": "default"}}
app.conf.task_default_queue = "default"

import workers.recovery  # noqa: E402,F401  (connects the worker signals)
