"""Sends again the work whose queue message was lost.

A message leaves the broker when a worker fetches it; the worker then takes the row's
lease. A worker killed between the two leaves the row waiting for a message that no
longer exists (the file-system broker forgets a fetched message at once; Redis gives an
unacknowledged one back only after its visibility timeout, an hour). Lapsed leases are
recovered elsewhere (training/services.py, datasets/services.py); this covers rows that
no worker holds.

The check compares how many rows wait with how many messages the queue holds. Messages
do not say cheaply which row they name, so when the queue is short at two checks in a row,
every row that waited through both is sent again. A surplus message is harmless: its
delivery finds the row taken or finished and does nothing.
"""
from __future__ import annotations

import logging
from typing import Callable

from django.db.models import QuerySet
from kombu.exceptions import ChannelError

from platform_api.celery import IMPORT_DATASET, TRAIN_JOB, app, enqueue, queue_of
from platform_api.datasets.models import Dataset
from platform_api.training.models import Job

log = logging.getLogger(__name__)


def queue_depth(queue: str) -> int:
    """Messages waiting in `queue` (not counting those a worker has fetched)."""
    with app.connection_for_read() as conn:
        try:
            return conn.default_channel.queue_declare(queue=queue, passive=True).message_count
        except ChannelError:  # Redis drops an empty queue's key
            return 0


class LostDeliveries:
    """One per queue, kept by the recovery loop between its checks."""

    def __init__(self, task_name: str, waiting: Callable[[], QuerySet], what: str):
        self.task_name = task_name
        self.queue = queue_of(task_name)
        self.waiting = waiting
        self.what = what
        self._short_last_time: set[int] = set()

    def check(self) -> list[int]:
        waiting = set(self.waiting().values_list("pk", flat=True))
        if len(waiting) <= queue_depth(self.queue):
            self._short_last_time = set()
            return []
        lost = sorted(waiting & self._short_last_time)
        self._short_last_time = waiting - set(lost)
        for pk in lost:
            log.warning("%s %s waits for a worker but its queue message is gone; sending it again", self.what, pk)
            enqueue(self.task_name, pk)
        return lost


def job_deliveries() -> LostDeliveries:
    def waiting() -> QuerySet:
        return Job.objects.filter(
            status__in=[Job.Status.QUEUED, Job.Status.RUNNING], lease_owner="", cancel_requested=False
        )

    return LostDeliveries(TRAIN_JOB, waiting, "job")


def import_deliveries() -> LostDeliveries:
    def waiting() -> QuerySet:
        return Dataset.objects.filter(status=Dataset.Status.IMPORTING, lease_owner="")

    return LostDeliveries(IMPORT_DATASET, waiting, "dataset import")
