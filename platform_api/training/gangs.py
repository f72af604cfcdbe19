"""Jobs on several machines: a gang of training workers (the same WORKER_GANG) trains a job
on more devices than one of them has.

The worker that takes such a job from its queue leads it (runner.py): it holds the lease,
records a `GangRun` naming where the ranks meet (its WORKER_NODE_ADDRESS and a free port) and
runs node 0's ranks. Every gang member looks for runs of its gang to join (`join_a_run`,
every second, workers/devices.py) and runs the next node's ranks. A lost node makes the
leader's collectives fail or time out: the leader's fit stops on every rank, the job is
queued again (counted as a lost worker) and resumes from its last checkpoint as a new run.
"""
from __future__ import annotations

import logging
import os
import threading

from django.conf import settings
from django.db import transaction
from django.db.models import F

from platform_api.training.models import GangRun, Job, TrainingWorker
from platform_api.training.rank_fit import rank_fit
from platform_api.work.db_outage import best_effort
from platform_api.work.leased_work import process_prefix
from trainers.core import Callbacks
from trainers.multi_device import fit_on_devices, free_port

log = logging.getLogger(__name__)
_following = threading.Lock()  # held while this worker trains a node of another's run
running_a_job = threading.Event()  # set while this worker's task runs a job (runner.run_job)
PASS_ON_AFTER_SECONDS = 2.0  # a delivery taken while following waits this long before going back


def following() -> bool:
    """Whether this worker's devices are busy with a node of another worker's run."""
    return _following.locked()


def worker_devices() -> tuple[int, str]:
    """(devices, kind) this training worker offers one job on its own machine: WORKER_DEVICES,
    else the GPUs torch sees, else 1 CPU."""
    import torch

    on_cuda = torch.cuda.is_available() and settings.TRAINING_DEVICE != "cpu"
    devices = settings.WORKER_DEVICES or (torch.cuda.device_count() if on_cuda else 1)
    return devices, "cuda" if on_cuda else "cpu"


class GangBusy(Exception):
    """Another run of this worker's gang is open: its machines are taken (two leaders would
    each wait for the other's machines)."""


def lead(job: Job, owner: str, devices_per_node: int) -> GangRun:
    """The run this worker leads as node 0: the others meet at its address. One open run per
    gang; an earlier attempt's run, whose leader died before ending it, ends here."""
    nodes = job.devices // devices_per_node
    with transaction.atomic():
        list(TrainingWorker.objects.select_for_update().filter(gang=settings.WORKER_GANG))  # one leader at a time
        GangRun.objects.filter(job=job, ended=False).update(ended=True)
        if _open_runs().exists():
            raise GangBusy(f"gang {settings.WORKER_GANG!r} is training another job")
        return GangRun.objects.create(job=job, leader=owner, gang=settings.WORKER_GANG, nodes=nodes,
                                      devices_per_node=devices_per_node,
                                      init_method=f"tcp://{settings.WORKER_NODE_ADDRESS}:{free_port()}")


def _open_runs():
    """This gang's runs whose leader still holds the job's lease (a dead leader's do not count)."""
    return GangRun.objects.filter(gang=settings.WORKER_GANG, ended=False, job__status=Job.Status.RUNNING,
                                  job__lease_owner=F("leader"))


def end(run: GangRun) -> None:
    GangRun.objects.filter(pk=run.pk).update(ended=True)


def join_a_run() -> None:
    """Takes the next node rank of a run of this worker's gang that still needs nodes, and
    trains it in a thread; one run at a time."""
    if not settings.WORKER_GANG or running_a_job.is_set() or not _following.acquire(blocking=False):
        return
    try:
        run, node_rank = _take_a_node_rank()
    except Exception:
        _following.release()
        raise
    if run is None:
        _following.release()
        return
    threading.Thread(target=_train_node, args=(run, node_rank), name=f"gang node {node_rank}", daemon=True).start()


def _take_a_node_rank() -> tuple[GangRun | None, int]:
    devices, _ = worker_devices()
    this_process = process_prefix(os.getpid())
    with transaction.atomic():
        # A run whose leader still holds the job's lease: one left by a dead leader is not joined.
        run = (_open_runs().select_for_update(skip_locked=True, of=("self",)).exclude(leader__startswith=this_process)
               .filter(joined__lt=F("nodes"), devices_per_node=devices).order_by("pk").first())
        if run is None:
            return None, 0
        node_rank = run.joined
        GangRun.objects.filter(pk=run.pk).update(joined=F("joined") + 1)
    return run, node_rank


def _train_node(run: GangRun, node_rank: int) -> None:
    try:
        job = Job.objects.select_related("dataset").get(pk=run.job_id)
        request = rank_fit(job)
        log.info("job %s: joining as node %d of %d at %s", job.pk, node_rank, run.nodes, run.init_method)
        # A database blip is not an end: the node trains on, and the next poll asks again.
        stopped = Callbacks(should_stop=lambda: bool(best_effort(
            lambda: GangRun.objects.filter(pk=run.pk, ended=True).exists())))
        fit_on_devices(request, run.devices_per_node, stopped, timeout_s=settings.DISTRIBUTED_TIMEOUT_SECONDS,
                       init_method=run.init_method, node_rank=node_rank, nodes=run.nodes)
        log.info("job %s: node %d done", job.pk, node_rank)
    except Exception:
        log.exception("gang run %s: node %d stopped", run.pk, node_rank)
    finally:
        _following.release()
