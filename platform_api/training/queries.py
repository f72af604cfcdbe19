"""The read a status poll makes, kept lean: it is the request the API serves most often.

A web process keeps each job's rendered body for JOB_STATUS_CACHE_SECONDS (1 s by
default: the worker writes progress about once a second), so clients polling the same
job several times a second cost one query a second between them. A poll may therefore
show a state up to that old; a cancel made through this process is shown at once.

Built through the ORM, the query costs about 1 ms to compile, several times its execution
(bench/bench_job_polling.py). Here the SQL, its columns and Django's own converters for
them (datetimes, JSON) are worked out once per database vendor; a poll then runs one
cursor execute and builds the Job with `Model.from_db`, as the ORM would. The
hyperparameter spec, which a poll does not show, is left deferred.
"""
from __future__ import annotations

import functools
import hashlib
import time
from dataclasses import dataclass
from typing import Any, Callable

from django.conf import settings
from django.db import connection
from rest_framework.renderers import JSONRenderer

from platform_api.registry.models import ModelVersion
from platform_api.training.models import Job
from platform_api.training.serializers import JobSerializer

NOT_POLLED = {"hyperparameter_spec"}
MAX_CACHED_BYTES = 32 << 20  # bodies kept at most; past it expired ones go, then all
MAX_ID = 2**63 - 1  # larger ids cannot name a row (and would overflow the query's parameter)

_bodies: dict[int, tuple[int, bytes, str, float]] = {}  # job id -> (owner id, body, ETag, expiry)
_cached_bytes = 0


@dataclass(frozen=True)
class _Plan:
    sql: str
    attnames: list[str]
    converters: list[tuple[list[Callable], Any]]  # per column: (converters, expression)


@functools.cache
def _plan(vendor: str) -> _Plan:
    q = connection.ops.quote_name
    fields = [f for f in Job._meta.concrete_fields if f.name not in NOT_POLLED]
    job, model = q(Job._meta.db_table), q(ModelVersion._meta.db_table)
    columns = ", ".join(f"{job}.{q(f.column)}" for f in fields)
    sql = (f"SELECT {columns}, {model}.{q('id')} FROM {job} "
           f"LEFT JOIN {model} ON {model}.{q(ModelVersion._meta.get_field('job').column)} = {job}.{q('id')} "
           f"WHERE {job}.{q('id')} = %s AND {job}.{q(Job._meta.get_field('owner').column)} = %s")
    converters = []
    for field in fields:
        column = field.get_col(Job._meta.db_table)
        converters.append((connection.ops.get_db_converters(column) + field.get_db_converters(connection), column))
    return _Plan(sql, [f.attname for f in fields], converters)


def job_for_status(owner_id: int, job_id: int) -> Job | None:
    """The owner's job, with `model_id` (its model version's id, or None); None if there is no such job."""
    plan = _plan(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(plan.sql, [job_id, owner_id])
        row = cursor.fetchone()
    if row is None:
        return None
    values = []
    for value, (converters, expression) in zip(row, plan.converters):
        for convert in converters:
            value = convert(value, expression, connection)
        values.append(value)
    job = Job.from_db(connection.alias, plan.attnames, values)
    job.model_id = row[-1]
    return job


def status_body(owner_id: int, job_id: int) -> tuple[bytes, str] | None:
    """(JSON body, ETag) of the owner's job as a poll shows it; None if there is no such job."""
    try:
        job_id = int(job_id)
    except (TypeError, ValueError):
        return None
    if not 0 < job_id <= MAX_ID:
        return None
    now = time.monotonic()
    cached = _bodies.get(job_id)
    if cached is not None:
        if cached[3] > now:
            return (cached[1], cached[2]) if cached[0] == owner_id else None
        _forget(job_id)
    job = job_for_status(owner_id, job_id)
    if job is None:
        return None
    body = JSONRenderer().render(JobSerializer(job).data)
    etag = f'"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'
    if settings.JOB_STATUS_CACHE_SECONDS > 0:
        _keep(job_id, (owner_id, body, etag, now + settings.JOB_STATUS_CACHE_SECONDS), now)
    return body, etag


def forget_status(job_id: int) -> None:
    """This process changed the job: its next poll reads it again."""
    _forget(job_id)


def _keep(job_id: int, entry: tuple[int, bytes, str, float], now: float) -> None:
    global _cached_bytes
    _forget(job_id)
    if _cached_bytes + len(entry[1]) > MAX_CACHED_BYTES:
        for stale in [key for key, kept in _bodies.items() if kept[3] <= now]:
            _forget(stale)
        if _cached_bytes + len(entry[1]) > MAX_CACHED_BYTES:
            _bodies.clear()
            _cached_bytes = 0
    _bodies[job_id] = entry
    _cached_bytes += len(entry[1])


def _forget(job_id: int) -> None:
    global _cached_bytes
    entry = _bodies.pop(job_id, None)
    if entry is not None:
        _cached_bytes -= len(entry[1])
