"""Leased work: rows that a worker runs through a queued task (training jobs, dataset
imports). One mechanism serves every kind; a `LeasedWork` describes a kind.

- A delivery of the task takes the row's lease (`acquire`) with one conditional UPDATE, so
  two deliveries of the same work can never both run it.
- The worker renews the lease from a `Heartbeat` thread; `lost` is set once another worker
  took the row.
- A worker that is shutting down gives the row back and queues it again (`hand_back`).
- A worker that dies stops renewing. Once the lease has lapsed, any live worker's recovery
  loop (workers/recovery.py, through `recover`) queues the row again, or ends it with the
  kind's `give_up` when workers died on it JOB_MAX_ATTEMPTS times.
- A worker whose death is seen (`manage.py serve` saw its process exit) need not be waited
  for: `lapse_leases_of` ends its leases at once, and `recover` then treats its rows as
  any lapsed ones. The lease stays the fallback for deaths nobody saw.
- A row nobody holds any more (handed back, or queued again by recovery) waits in the
  kind's `requeued_as` status: a job shows `queued`, not `running`, until a worker takes it.
- A worker killed between fetching a message and taking the lease leaves the row waiting
  for a message that no longer exists; `LostDeliveries` sends it again.

A leased model has `status`, `lease_owner` ("" while nobody holds it), `lease_expires_at`
and `lost_leases` (how many times a worker died holding it).
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import Case, F, Model, Q, QuerySet, When
from django.utils import timezone
from kombu.exceptions import ChannelError

from platform_api.celery import app, enqueue, queue_of

log = logging.getLogger(__name__)


def new_worker_id() -> str:
    """`host:pid:nonce`: the process that takes a lease is named in it (see `lapse_leases_of`)."""
    return f"{process_prefix(os.getpid())}{uuid.uuid4().hex[:8]}"


def process_prefix(pid: int) -> str:
    """How the lease owners of process `pid` on this machine begin."""
    return f"{socket.gethostname()}:{pid}:"


def lease_until() -> datetime:
    return timezone.now() + timedelta(seconds=settings.JOB_LEASE_SECONDS)


@dataclass(eq=False)
class LeasedWork:
    """One kind of leased work: rows of `model` that the task `task_name` runs, given a row's id."""

    model: type[Model]
    task_name: str  # queued by name (platform_api.celery); the task calls the kind's service
    what: str  # the work as logs name it: "job", "dataset import"
    waiting: tuple[str, ...]  # statuses in which a delivery may take the row
    working: str  # the status while a worker holds the lease (taking it sets this)
    requeued_as: str  # one of `waiting`: the status while it waits again, nobody holding it
    # Ends a lapsed row whose workers died JOB_MAX_ATTEMPTS times. It must end the row only
    # while its lease is still lapsed (`still_lapsed(row)`): a worker that renewed keeps it.
    give_up: Callable[[Any], object]
    # Rows nobody may take any more (a job whose cancel was requested): no delivery takes
    # them, and recovery passes each one that nobody holds, or whose lease lapsed, to `stop`.
    stopped: Q | None = None
    stop: Callable[[Any], object] | None = None
    counts_attempts: bool = False  # taking the row adds one to its `attempts`
    # pk -> the queue a row's deliveries go to, when rows of the kind wait in several (a job
    # on N devices waits where workers offering N listen); None: the task's route.
    queue_for: Callable[[int], str] | None = None

    def __post_init__(self):
        needed = ["status", "lease_owner", "lease_expires_at", "lost_leases"] + (["attempts"] if self.counts_attempts else [])
        for name in needed:
            self.model._meta.get_field(name)  # FieldDoesNotExist names what the model lacks
        if (self.stopped is None) != (self.stop is None):
            raise ValueError(f"{self.what}: `stopped` and `stop` go together")
        if self.requeued_as not in self.waiting:
            raise ValueError(f"{self.what}: `requeued_as` must be one of `waiting`, or no delivery would take the row")

    # The worker's side.

    def acquire(self, pk: int, owner: str) -> bool:
        """Takes the row if it is waiting and nobody holds its lease: never taken, handed
        back, or lapsed. A lapsed lease still names its owner, who died (a delivery came
        before recovery noticed): that counts in `lost_leases`, as recovery would count it."""
        free = Q(lease_owner="") | Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=timezone.now())
        taken = self._takeable().filter(pk=pk).filter(free).update(
            status=self.working,
            lease_owner=owner,
            lease_expires_at=lease_until(),
            lost_leases=F("lost_leases") + Case(When(~Q(lease_owner=""), then=1), default=0),
            **({"attempts": F("attempts") + 1} if self.counts_attempts else {}),
        )
        return taken == 1

    def held(self, pk: int, owner: str) -> QuerySet:
        """The row while `owner` holds its lease: the worker writes its results through this."""
        return self.model.objects.filter(pk=pk, lease_owner=owner, status=self.working)

    def renew(self, pk: int, owner: str) -> bool:
        return self.held(pk, owner).update(lease_expires_at=lease_until()) == 1

    def heartbeat(self, pk: int, owner: str) -> Heartbeat:
        return Heartbeat(lambda: self.renew(pk, owner), f"{self.what} {pk}")

    def release(self, pk: int, owner: str) -> bool:
        """Gives up a held lease so the next delivery can take the row, which waits as
        `requeued_as`; the fresh expiry keeps recovery from counting it as a dead worker's."""
        return self.held(pk, owner).update(status=self.requeued_as, lease_owner="", lease_expires_at=lease_until()) == 1

    def hand_back(self, pk: int, owner: str) -> bool:
        """The worker is shutting down: releases the row and queues it again at once."""
        released = self.release(pk, owner)
        if released:
            self.send(pk)
        return released

    def send(self, pk: int) -> None:
        """Queues a delivery of the row (call it once the transaction commits)."""
        enqueue(self.task_name, pk, queue=self.queue_for(pk) if self.queue_for else None)

    def queue_of_row(self, pk: int) -> str:
        return self.queue_for(pk) if self.queue_for else queue_of(self.task_name)

    # Recovery.

    def lapsed(self) -> QuerySet:
        """Rows whose owner stopped renewing the lease. A row handed back (no owner) waits in
        the queue, however long, and is not lost (see LostDeliveries)."""
        return self.model.objects.filter(status=self.working, lease_expires_at__lt=timezone.now()).exclude(lease_owner="")

    def still_lapsed(self, row) -> QuerySet:
        """`row`, listed as lapsed, while its lease is still the lapsed one: an update through
        this leaves a worker that renewed since the listing alone."""
        return self.model.objects.filter(
            pk=row.pk, lease_owner=row.lease_owner, status=self.working, lease_expires_at__lt=timezone.now()
        )

    def recover(self) -> list[int]:
        """Queues again every row whose worker stopped renewing its lease; ends the rows
        that must not run again. Returns the ids queued."""
        lapsed = self.lapsed()
        if self.stopped is not None:
            nobody_runs = Q(status__in=self.waiting, lease_owner="") | Q(pk__in=lapsed.values("pk"))
            for row in self.model.objects.filter(self.stopped).filter(nobody_runs):
                self.stop(row)
            lapsed = lapsed.exclude(self.stopped)
        requeued = []
        for row in lapsed:
            if row.lost_leases + 1 >= settings.JOB_MAX_ATTEMPTS:
                self.give_up(row)
            elif self.still_lapsed(row).update(status=self.requeued_as, lease_owner="", lease_expires_at=lease_until(),
                                               lost_leases=F("lost_leases") + 1):
                log.warning("%s %s: worker %s stopped renewing its lease; queuing it again", self.what, row.pk, row.lease_owner)
                self.send(row.pk)
                requeued.append(row.pk)
        return requeued

    def lapse(self, pk: int, owner: str) -> bool:
        """`owner` lost part of the work (a rank of a multi-device fit died): the lease lapses
        now, and the next `recover` queues the row again, or gives up on it, as it would
        for a dead worker. Call it once the heartbeat has stopped renewing."""
        return self.held(pk, owner).update(lease_expires_at=timezone.now() - timedelta(seconds=1)) == 1

    def lapse_leases_of(self, pid: int) -> int:
        """Process `pid` on this machine died (its supervisor saw it exit): its leases lapse
        now instead of when they run out, and the next `recover` queues their rows again
        (or gives up on them) as it would after the lease. Returns how many lapsed.

        Only a process that takes leases itself may be named: a pool's parent process is
        not the one in its children's lease owners."""
        already_past = timezone.now() - timedelta(seconds=1)
        return self.model.objects.filter(status=self.working, lease_owner__startswith=process_prefix(pid)).update(
            lease_expires_at=already_past
        )

    def unheld(self) -> QuerySet:
        """Waiting rows that nobody holds: each needs a message in the queue."""
        return self._takeable().filter(lease_owner="")

    def _takeable(self) -> QuerySet:
        rows = self.model.objects.filter(status__in=self.waiting)
        return rows if self.stopped is None else rows.exclude(self.stopped)


class Heartbeat:
    """Calls `renew` every JOB_HEARTBEAT_SECONDS; `lost` is set once it returns False
    (another worker took the lease)."""

    def __init__(self, renew: Callable[[], bool], label: str):
        self.renew = renew
        self.label = label
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat {label}", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self):
        try:
            while not self._stop.wait(settings.JOB_HEARTBEAT_SECONDS):
                try:
                    if not self.renew():
                        log.warning("%s: lease lost to another worker", self.label)
                        self.lost.set()
                        return
                except Exception:  # a database hiccup: try again at the next beat
                    log.exception("%s: heartbeat failed", self.label)
                    close_old_connections()
        finally:
            connection.close()


def queue_depth(queue: str) -> int:
    """Messages waiting in `queue` (not counting those a worker has fetched)."""
    with app.connection_for_read() as conn:
        try:
            return conn.default_channel.queue_declare(queue=queue, passive=True).message_count
        except ChannelError:  # Redis drops an empty queue's key
            return 0


class LostDeliveries:
    """Sends again the rows of one kind whose queue message was lost; the recovery loop keeps
    one per kind between its checks.

    A message leaves the broker when a worker fetches it; the worker then takes the row's
    lease. A worker killed between the two leaves the row waiting for a message that no
    longer exists (the file-system broker forgets a fetched message at once; Redis gives an
    unacknowledged one back only after its visibility timeout, an hour).

    The check compares, queue by queue, how many rows wait with how many messages the queue
    holds. Messages do not say cheaply which row they name, so when a queue is short at two
    checks in a row, every row of it that waited through both is sent again. A surplus
    message is harmless: its delivery finds the row taken or finished and does nothing.
    """

    def __init__(self, work: LeasedWork):
        self.work = work
        self._short_last_time: set[int] = set()

    def check(self) -> list[int]:
        by_queue: dict[str, set[int]] = {}
        for pk in self.work.unheld().values_list("pk", flat=True):
            by_queue.setdefault(self.work.queue_of_row(pk), set()).add(pk)
        waiting = set().union(*[rows for queue, rows in by_queue.items() if len(rows) > queue_depth(queue)])
        if not waiting:
            self._short_last_time = set()
            return []
        lost = sorted(waiting & self._short_last_time)
        self._short_last_time = waiting - set(lost)
        for pk in lost:
            log.warning("%s %s waits for a worker but its queue message is gone; sending it again", self.work.what, pk)
            self.work.send(pk)
        return lost
