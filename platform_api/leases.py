"""Leases on rows that a worker is working on (training jobs, dataset imports).

A worker owns a row while its lease is fresh and renews it from a heartbeat thread. A
worker that dies stops renewing; once the lease has lapsed, recovery hands the row to
the next worker. Taking a lease is one conditional UPDATE, so two deliveries of the same
work can never both run it.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import datetime, timedelta
from typing import Callable

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import Case, F, Q, When
from django.utils import timezone

log = logging.getLogger(__name__)


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def lease_until() -> datetime:
    return timezone.now() + timedelta(seconds=settings.JOB_LEASE_SECONDS)


def lease_is_free() -> Q:
    """Rows nobody holds: never taken, handed back (no owner), or whose owner stopped renewing."""
    return Q(lease_owner="") | Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=timezone.now())


def lost_leases_after_taking():
    """`lost_leases` for an update that takes a free lease: a free lease that still names its
    owner has lapsed, so that worker died (a delivery came before recovery noticed), and it
    counts toward JOB_MAX_ATTEMPTS as recovery would have counted it."""
    return F("lost_leases") + Case(When(~Q(lease_owner=""), then=1), default=0)


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
