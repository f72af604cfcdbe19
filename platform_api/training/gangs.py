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

from platform_api.training.models import GangRun, Job
from platform_api.training.rank_fit import rank_fit
from platform_api.work.leased_work import process_prefix
from trainers.core import Callbacks
from trainers.multi_device import fit_on_devices, free_port

log = logging.getLogger(__name__)
_following = threading.Lock()  # one run at a time on this machine


def worker_devices() -> tuple[int, str]:
    """(devices, kind) this training worker offers one job on its own machine: WORKER_DEVICES,
    else the GPUs torch sees, else 1 CPU."""
    import torch

    on_cuda = torch.cuda.is_available() and settings.TRAINING_DEVICE != "cpu"
    devices = settings.WORKER_DEVICES or (torch.cuda.device_count() if on_cuda else 1)
    return devices, "cuda" if on_cuda else "cpu"


def lead(job: Job, owner: str, devices_per_node: int) -> GangRun:
    """The run this worker leads as node 0: the others meet at its address."""
    nodes = job.devices // devices_per_node
    return GangRun.objects.create(job=job, leader=owner, gang=settings.WORKER_GANG, nodes=nodes,
                                  devices_per_node=devices_per_node,
                                  init_method=f"tcp://{settings.WORKER_NODE_ADDRESS}:{free_port()}")


def end(run: GangRun) -> None:
    GangRun.objects.filter(pk=run.pk).update(ended=True)


def join_a_run() -> None:
    """Takes the next node rank of a run of this worker's gang that still needs nodes, and
    trains it in a thread; one run at a time."""
    if not settings.WORKER_GANG or not _following.acquire(blocking=False):
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
    if GangRun.objects.filter(ended=False, leader__startswith=this_process).exists():
        return None, 0  # busy leading one: its devices are taken
    with transaction.atomic():
        run = (GangRun.objects.select_for_update(skip_locked=True).exclude(leader__startswith=this_process)
               .filter(gang=settings.WORKER_GANG, ended=False, joined__lt=F("nodes"), devices_per_node=devices)
               .exclude(job__status__in=Job.FINAL).order_by("pk").first())
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
        stopped = Callbacks(should_stop=lambda: GangRun.objects.filter(pk=run.pk, ended=True).exists())
        fit_on_devices(request, run.devices_per_node, stopped, timeout_s=settings.DISTRIBUTED_TIMEOUT_SECONDS,
                       init_method=run.init_method, node_rank=node_rank, nodes=run.nodes)
        log.info("job %s: node %d done", job.pk, node_rank)
    except Exception:
        log.exception("gang run %s: node %d stopped", run.pk, node_rank)
    finally:
        _following.release()
