"""A training worker offers WORKER_DEVICES devices to one job (its visible GPUs by default):
it takes jobs from the queue of every device count up to that ("training", "training-2", ...;
platform_api/celery.training_queue), and announces itself in the database every minute so
that submission can refuse a job no worker could run (training/services.devices_offered).

A member of a gang (WORKER_GANG, WORKER_GANG_NODES machines) also takes jobs on 2, 3, ... times
its devices, which it leads, and joins the runs its gang's leaders start
(platform_api/training/gangs.py)."""
import logging

from celery.signals import celeryd_after_setup, worker_ready, worker_shutdown
from django.conf import settings
from django.db import connection
from django.utils import timezone

from platform_api.celery import TRAINING_QUEUE, training_queue, training_queues
from platform_api.training import gangs
from platform_api.training.models import TrainingWorker
from workers.periodic import Periodic

log = logging.getLogger(__name__)
ANNOUNCE_EVERY_SECONDS = 60.0
JOIN_EVERY_SECONDS = 1.0
_offered: dict[str, object] = {}  # name, devices, device_kind, gang, gang_nodes once this is a training worker


@celeryd_after_setup.connect
def listen_to_the_device_queues(sender, instance, **_):
    queues = instance.app.amqp.queues
    if TRAINING_QUEUE not in queues.consume_from:
        return  # not a training worker
    devices, kind = gangs.worker_devices()
    nodes = settings.WORKER_GANG_NODES if settings.WORKER_GANG else 1
    for queue in training_queues(devices)[1:] + [training_queue(devices * n) for n in range(2, nodes + 1)]:
        queues.select_add(queue)
    _offered.update(name=str(sender), devices=devices, device_kind=kind, gang=settings.WORKER_GANG, gang_nodes=nodes)
    gang = f", in gang {settings.WORKER_GANG!r} of {nodes} machines" if settings.WORKER_GANG else ""
    log.info("training worker %s: %d %s device(s) for one job%s", sender, devices, kind, gang)


def _announce() -> None:
    TrainingWorker.objects.update_or_create(name=_offered["name"], defaults={
        **{key: _offered[key] for key in ("devices", "device_kind", "gang", "gang_nodes")}, "last_seen": timezone.now()})


_announcer = Periodic("device-announcer", lambda: ANNOUNCE_EVERY_SECONDS, _announce)
_joiner = Periodic("gang-joiner", lambda: JOIN_EVERY_SECONDS, gangs.join_a_run)


@worker_ready.connect
def start_announcing(**_):
    if _offered:
        _announcer.start()
    if _offered.get("gang"):
        _joiner.start()


@worker_shutdown.connect
def stop_announcing(**_):
    if not _offered:
        return
    _announcer.stop()
    _joiner.stop()
    try:
        TrainingWorker.objects.filter(name=_offered["name"]).delete()
    except Exception:  # the database is away: the row ages out (WORKER_SEEN_SECONDS)
        log.warning("could not remove this worker's device announcement")
    finally:
        connection.close()
