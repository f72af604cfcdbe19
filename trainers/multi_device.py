"""One fit on several devices: a process per rank, spawned with torch.multiprocessing, joined
in a torch.distributed process group (NCCL on CUDA, gloo on the CPU) whose collectives time
out after `timeout_s`. On several machines ("nodes"), each calls `fit_on_devices` with its
`node_rank` and the same `init_method`, the leader's address (node 0, which holds global rank
0 and the c10d TCPStore every rank meets at); rank r of node n is global rank n x devices + r.

The calling process (the platform's worker, which holds the job's lease and renews it)
watches the ranks. It passes rank 0's reports to its callbacks and the callbacks' stop and
checkpoint answers to rank 0; the engine shares them with the other ranks
(trainers/engine/distributed.py). When a rank dies, or a collective times out because a
rank hangs, every rank is stopped and `RanksFailed` says which: the job is queued again and
resumes from its last checkpoint. Nothing waits for ever.

The dataset is on local disk before the ranks start (the platform unpacks it first), so no
rank waits inside a collective on another's download.
"""
from __future__ import annotations

import logging
import os
import queue
import signal
import socket
import time
import traceback
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from trainers.core import Callbacks, Cancelled, DatasetSpec, FitResult, TrainerError

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.5  # how often the watcher asks its callbacks whether to stop or checkpoint
GONE_GRACE_S = 10.0  # after one rank failed or rank 0 ended, how long the others get to exit


class RanksFailed(Exception):
    """A rank died or crashed, or a collective timed out: the fit stopped on every rank."""


@dataclass(frozen=True)
class ResolvedWeights:
    """Registered weights resolved to files by the caller: ranks have no database."""

    files: dict[tuple[str, str], str] = field(default_factory=dict)

    def __call__(self, architecture: str, name: str) -> Path | None:
        path = self.files.get((architecture, name))
        return Path(path) if path else None


@dataclass(frozen=True)
class RankFit:
    """What every rank builds its trainer from: plain values that pickle."""

    trainer: str
    hyperparameters: dict[str, Any]
    dataset_root: str
    work_dir: str
    weights: ResolvedWeights = ResolvedWeights()
    device: str | None = None  # "cpu" or "cuda" (rank r takes cuda:r); None: cuda when available
    precision: str = "auto"
    recipe_options: dict[str, Any] = field(default_factory=dict)


def uses_cuda(device: str | None) -> bool:
    return device.startswith("cuda") if device else torch.cuda.is_available()


def fit_on_devices(request: RankFit, devices: int, callbacks: Callbacks | None = None, *,
                   timeout_s: float = 1800.0, init_method: str | None = None, node_rank: int = 0,
                   nodes: int = 1) -> FitResult | None:
    """Trains `request` on `devices` ranks of this machine (of `nodes` machines in all) and
    returns rank 0's result on node 0, None on the others. Raises Cancelled when the callbacks
    asked to stop, TrainerError when the fit refused, RanksFailed otherwise. On a node other
    than 0 only the callbacks' should_stop counts: True stops this node's ranks at once."""
    callbacks = callbacks or Callbacks()
    if devices > 1 and uses_cuda(request.device) and torch.cuda.device_count() < devices:
        raise TrainerError("not_enough_devices",
                           f"the job asks for {devices} GPUs; this worker sees {torch.cuda.device_count()}")
    if init_method is None:
        if nodes > 1:
            raise ValueError("ranks on several nodes meet at the leader's init_method")
        init_method = f"tcp://127.0.0.1:{free_port()}"
    context = mp.get_context("spawn")
    reports, stop, checkpoint = context.Queue(), context.Event(), context.Event()
    ranks = [context.Process(target=_rank_main, name=f"rank-{node_rank * devices + local}",
                             args=(request, local, devices, node_rank, nodes, init_method, timeout_s, reports,
                                   stop, checkpoint, os.getpid()))
             for local in range(devices)]
    try:
        for process in ranks:
            process.start()
        if node_rank == 0:
            return _watch(ranks, reports, stop, checkpoint, callbacks)
        return _follow(ranks, reports, callbacks)
    finally:
        for process in ranks:
            if process.is_alive():
                process.kill()
            process.join(timeout=10)


def _watch(ranks, reports, stop, checkpoint, callbacks: Callbacks) -> FitResult:
    outcome: tuple | None = None
    failed_at: float | None = None  # when a rank failed, or rank 0 told how the fit ended
    next_poll = time.monotonic()
    while True:
        try:
            report = reports.get(timeout=0.1)
        except queue.Empty:
            report = None
        if report is not None:
            outcome = _relay(report, callbacks) or outcome
            continue  # drain what is queued before looking at the exit codes
        now = time.monotonic()
        if outcome is not None and outcome[0] != "crashed" and failed_at is None:
            failed_at = now  # the others should be ending too; one stuck in teardown is killed
        if now >= next_poll and failed_at is None:
            next_poll = now + POLL_INTERVAL_S
            if callbacks.should_checkpoint and callbacks.should_checkpoint():
                checkpoint.set()
            if callbacks.should_stop and callbacks.should_stop():
                stop.set()
        codes = [process.exitcode for process in ranks]
        if all(code is not None for code in codes):  # what they sent before exiting is in the queue
            outcome = _drained(reports, callbacks, outcome)
        if all(code == 0 for code in codes):
            return _ended(outcome)
        broken = [rank for rank, code in enumerate(codes) if code not in (None, 0)]
        if broken and failed_at is None:
            failed_at = now
            log.warning("rank %s exited with code %s; stopping the other ranks", broken[0], codes[broken[0]])
        if failed_at is not None and (all(code is not None for code in codes) or now - failed_at > GONE_GRACE_S):
            if outcome and outcome[0] in ("result", "cancelled", "trainer_error"):
                return _ended(outcome)
            raise RanksFailed(_failure(codes, outcome))


def _drained(reports, callbacks: Callbacks, outcome: tuple | None) -> tuple | None:
    while True:
        try:
            outcome = _relay(reports.get(timeout=0.5), callbacks) or outcome
        except queue.Empty:
            return outcome


def _follow(ranks, reports, callbacks: Callbacks) -> None:
    """This node's ranks, whose rank 0 is on another node: None when they all end well."""
    crash = None
    while True:
        try:
            report = reports.get(timeout=0.2)
            crash = report if report[0] == "crashed" else crash
            continue
        except queue.Empty:
            pass
        codes = [process.exitcode for process in ranks]
        if all(code == 0 for code in codes):
            return None
        if callbacks.should_stop and callbacks.should_stop():
            raise Cancelled()  # the leader ended the fit; the ranks are killed on the way out
        if any(code not in (None, 0) for code in codes):
            raise RanksFailed(_failure(codes, crash))


def _relay(report: tuple, callbacks: Callbacks) -> tuple | None:
    """Calls the callback a rank-0 report names; returns the report when it is an outcome."""
    kind, args = report[0], report[1:]
    if kind.startswith("on_"):
        hook = getattr(callbacks, kind)
        if hook is not None:
            hook(*args)
        return None
    return report


def _ended(outcome: tuple | None) -> FitResult:
    if outcome is None:
        raise RanksFailed("every rank exited, and rank 0 reported no result")
    kind = outcome[0]
    if kind == "result":
        return outcome[1]
    if kind == "cancelled":
        raise Cancelled()
    if kind == "trainer_error":
        raise TrainerError(outcome[1], outcome[2])
    raise RanksFailed(_failure([], outcome))


def _failure(codes: list[int | None], outcome: tuple | None) -> str:
    exits = ", ".join(f"local rank {rank}: {'still running' if code is None else _exit(code)}"
                      for rank, code in enumerate(codes))
    crash = f"; rank {outcome[1]} raised {outcome[2]}" if outcome and outcome[0] == "crashed" else ""
    return f"the fit stopped on every rank ({exits}){crash}"


def _exit(code: int) -> str:
    return f"killed by signal {-code}" if code < 0 else f"exit code {code}"


def free_port() -> int:
    """A TCP port free on this machine now, for the TCPStore the ranks meet at."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- in each rank's process ---------------------------------------------------------------

def _rank_main(request: RankFit, local_rank: int, devices: int, node_rank: int, nodes: int, init_method: str,
               timeout_s: float, reports, stop, checkpoint, watcher_pid: int) -> None:
    from trainers.families import build_trainer

    # The watcher decides when ranks stop (a warm shutdown checkpoints first); a Ctrl-C or a
    # SIGTERM to the whole process group must not kill them half-way.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    on_cuda = uses_cuda(request.device)
    device = f"cuda:{local_rank}" if on_cuda else "cpu"
    if on_cuda:
        torch.cuda.set_device(local_rank)
    else:  # this machine's ranks share its cores
        torch.set_num_threads(max(1, torch.get_num_threads() // devices))
    rank, world_size = node_rank * devices + local_rank, nodes * devices
    dist.init_process_group("nccl" if on_cuda else "gloo", init_method=init_method, rank=rank,
                            world_size=world_size, timeout=timedelta(seconds=timeout_s))
    main = rank == 0
    try:
        trainer = build_trainer(request.trainer, request.hyperparameters, DatasetSpec.load(request.dataset_root),
                                Path(request.work_dir), weights_resolver=request.weights, device=device,
                                precision=request.precision, **request.recipe_options)
        result = trainer.fit(_relaying_callbacks(reports, stop, checkpoint, watcher_pid) if main else None)
        if main:
            reports.put(("result", result))
    except Cancelled:
        if main:
            reports.put(("cancelled",))
    except TrainerError as exc:
        if main:
            reports.put(("trainer_error", exc.code, exc.message))
    except BaseException as exc:  # noqa: BLE001  (the watcher names it; the exit code says it failed)
        reports.put(("crashed", rank, f"{type(exc).__name__}: {exc}"))
        log.error("rank %s failed:\n%s", rank, traceback.format_exc())
        reports.close()
        reports.join_thread()  # the report reaches the watcher before the process ends
        os._exit(1)  # not through the process group's teardown, which may wait on dead ranks
    reports.close()
    reports.join_thread()
    dist.destroy_process_group()


def _relaying_callbacks(reports, stop, checkpoint, watcher_pid: int) -> Callbacks:
    def relay(kind: str):
        return lambda *args: reports.put((kind, *args))

    def should_checkpoint() -> bool:
        if checkpoint.is_set():
            checkpoint.clear()
            return True
        return False

    def should_stop() -> bool:
        # A watcher killed outright (SIGKILL, a lost machine) leaves the ranks orphaned: they
        # stop rather than train on for nobody.
        return stop.is_set() or os.getppid() != watcher_pid

    return Callbacks(on_progress=relay("on_progress"), on_metrics=relay("on_metrics"), on_best=relay("on_best"),
                     on_checkpoint=relay("on_checkpoint"), on_precision=relay("on_precision"),
                     on_resume=relay("on_resume"), should_stop=should_stop, should_checkpoint=should_checkpoint)
