"""The Celery app, where Celery's Django layout puts it.

Services queue work by task name through `enqueue`; they never import the tasks, which
live above them in workers/tasks.py (thin shims that take ids and call the services).
`celery -A platform_api worker` finds this app through platform_api/__init__.py.
"""
import os
from fnmatch import fnmatch

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_api.settings")

# Task names: what services queue and workers/tasks.py registers.
TRAIN_JOB = "training.run"
IMPORT_DATASET = "datasets.import"
EVALUATE_MODEL = "registry.evaluate"
# Training runs on the GPU workers' queue; imports and housekeeping on the default one.
TRAINING_QUEUE = "training"
# Evaluations are inference over one split: the default queue, not behind hours of training.
ROUTES = {"training.*": TRAINING_QUEUE, "datasets.*": "default", "registry.*": "default"}

# The embedded broker, with whole message files (platform_api/work/filesystem_broker.py says why).
TRANSPORT_ALIASES["filesystem"] = "platform_api.work.filesystem_broker:Transport"

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
    task_routes={pattern: {"queue": queue} for pattern, queue in ROUTES.items()},
    task_default_queue="default",
)
app.autodiscover_tasks(["workers"], related_name="tasks")


def enqueue(task_name: str, *args, queue: str | None = None) -> None:
    """Queues `task_name` with `args` (call it once the transaction commits). By name: the
    web process never loads workers/tasks.py; the route comes from ROUTES unless `queue`
    names another."""
    app.send_task(task_name, args=list(args), **({"queue": queue} if queue else {}))


def training_queue(devices: int) -> str:
    """Where a job on `devices` devices waits: "training" for one; "training-N" for N, which
    every worker offering at least N devices (WORKER_DEVICES) listens to as well."""
    return TRAINING_QUEUE if devices <= 1 else f"{TRAINING_QUEUE}-{devices}"


def training_queues(worker_devices: int) -> list[str]:
    """The queues a training worker with `worker_devices` devices takes jobs from."""
    return [training_queue(devices) for devices in range(1, max(worker_devices, 1) + 1)]


def queue_of(task_name: str) -> str:
    return next((queue for pattern, queue in ROUTES.items() if fnmatch(task_name, pattern)), app.conf.task_default_queue)
