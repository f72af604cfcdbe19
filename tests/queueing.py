"""What services queue, captured instead of sent: one Mock per task name, called with the
task's arguments (services queue by name through platform_api.celery.enqueue)."""
from __future__ import annotations

from contextlib import contextmanager
from unittest import mock

from platform_api.celery import EVALUATE_MODEL, IMPORT_DATASET, TRAIN_JOB, app

__all__ = ["EVALUATE_MODEL", "IMPORT_DATASET", "TRAIN_JOB", "queued"]


@contextmanager
def queued(*names: str):
    """Nothing reaches the broker meanwhile; yields the Mock of each name asked for (one
    Mock for one name, a tuple for several)."""
    calls: dict[str, mock.Mock] = {TRAIN_JOB: mock.Mock(), IMPORT_DATASET: mock.Mock(), EVALUATE_MODEL: mock.Mock()}

    def send_task(name, args=(), **options):
        calls[name](*args)

    with mock.patch.object(app, "send_task", side_effect=send_task):
        asked = tuple(calls[name] for name in names)
        yield asked[0] if len(asked) == 1 else asked
