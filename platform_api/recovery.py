"""The kinds of leased work the platform runs, and what is done when one of their workers dies.

The mechanism is platform_api/work/leased_work.py. Every worker's recovery loop
(workers/recovery.py) finds lapsed leases of LEASED_WORK; a supervisor that sees a worker
process exit (`manage.py serve`) need not wait for the lease and calls `recover_dead_worker`.
"""
from __future__ import annotations

from platform_api.datasets.services import DATASET_IMPORTS
from platform_api.registry.evaluations import EVALUATIONS
from platform_api.training.lifecycle import TRAINING_JOBS

LEASED_WORK = (TRAINING_JOBS, DATASET_IMPORTS, EVALUATIONS)


def recover_dead_worker(pid: int) -> list[tuple[str, int]]:
    """The worker process `pid` on this machine has exited: its leases lapse now and its
    work is queued again (or given up on, after JOB_MAX_ATTEMPTS deaths) at once. Returns
    (what, id) of the work queued again."""
    requeued = []
    for work in LEASED_WORK:
        if work.lapse_leases_of(pid):
            requeued += [(work.what, pk) for pk in work.recover()]
    return requeued
