"""A training worker offers WORKER_DEVICES devices to one job (its visible GPUs by default):
it takes jobs from the queue of every device count up to that ("training", "training-2", ...;
platform_api/celery.training_queue), and announces itself in the database every minute so
that submission can refuse a job no worker could run (training/services.devices_offered)."""
import logging

import torch
from celery.signals import celeryd_after_setup, worker_ready, worker_shutdown
from django.conf import settings
from django.db import connection
from django.utils import timezone

from platform_api.celery import TRAINING_QUEUE, training_queues
from platform_api.training.models import TrainingWorker
from workers.periodic import Periodic

log = logging.getLogger(__name__)
ANNOUNCE_EVERY_SECONDS = 60.0
_offered: dict[str, object] = {}  # name, devices, device_kind once this is a training worker


def worker_devices() -> tuple[int, str]:
    """(devices, kind): WORKER_DEVICES, else the visible GPUs, else 1 CPU."""
    on_cuda = torch.cuda.is_available() and settings.TRAINING_DEVICE != "cpu"
    devices = settings.WORKER_DEVICES or (torch.cuda.device_count() if on_cuda else 1)
    return devices, "cuda" if on_cuda else "cpu"


@celeryd_after_setup.connect
def listen_to_the_device_queues(sender, instance, **_):
    queues = instance.app.amqp.queues
    if TRAINING_QUEUE not in queues.consume_from:
        return  # not a training worker
    devices, kind = worker_devices()
    for queue in training_queues(devices)[1:]:
        queues.select_add(queue)
    _offered.update(name=str(sender), devices=devices, device_kind=kind)
    log.info("training worker %s: %d %s device(s) for one job", sender, devices, kind)


def _announce() -> None:
    TrainingWorker.objects.update_or_create(
        name=_offered["name"],
        defaults={"devices": _offered["devices"], "device_kind": _offered["device_kind"], "last_seen": timezone.now()})


_announcer = Periodic("device-announcer", lambda: ANNOUNCE_EVERY_SECONDS, _announce)


@worker_ready.connect
def start_announcing(**_):
    if _offered:
        _announcer.start()


@worker_shutdown.connect
def stop_announcing(**_):
    if not _offered:
        return
    _announcer.stop()
    try:
        TrainingWorker.objects.filter(name=_offered["name"]).delete()
    except Exception:  # the database is away: the row ages out (WORKER_SEEN_SECONDS)
        log.warning("could not remove this worker's device announcement")
    finally:
        connection.close()
