"""Riding out a database restart in a worker.

A query on a connection the server dropped fails, and so does every later one until the
connection is closed; a query while the server is down fails too. Both are
OperationalError or InterfaceError. A worker that meets one waits for the database with
`through_outage` instead of failing the job or the delivery it was running; one that it
outlasts ends the way a dead worker's does (its lease lapses; recovery takes over).
"""
from __future__ import annotations

import logging
import time
from typing import Callable, TypeVar

from django.db import InterfaceError, OperationalError, connection

log = logging.getLogger(__name__)
T = TypeVar("T")
OUTAGE = (OperationalError, InterfaceError)


def through_outage(call: Callable[[], T], seconds: float) -> T:
    """`call()`, tried again for up to `seconds` while the database does not answer."""
    deadline = time.monotonic() + seconds
    pause = 0.2
    while True:
        try:
            return call()
        except OUTAGE as exc:
            connection.close()  # the next try opens a new connection
            if time.monotonic() + pause > deadline:
                raise
            log.warning("database unreachable (%s); trying again in %.1f s", exc, pause)
            time.sleep(pause)
            pause = min(pause * 2, 5.0)


def best_effort(call: Callable[[], T]) -> T | None:
    """`call()`, or None while the database does not answer: for what can be done without."""
    try:
        return call()
    except OUTAGE as exc:
        log.warning("database unreachable; going on without it for now (%s)", exc)
        connection.close()  # the next call opens a new connection
        return None


def database_unreachable(exc: BaseException) -> bool:
    return isinstance(exc, OUTAGE)
