"""The one training loop every trainer runs: AMP, channels_last, checkpoints, exact resume,
early stopping, throttled callbacks, export of the best weights; on one device, or on each
rank of a process group (distributed.py says what the ranks share)."""
from __future__ import annotations

import copy
import json
import logging
import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, default_collate

from trainers.core import Callbacks, Cancelled, FitResult, Progress, TrainerError

from . import checkpoint as ckpt
from .distributed import (current_ranks, flags_from_main, from_main, gathered, items_per_rank, shard, summed,
                          with_synchronized_batch_norm, wrap)
from .precision import Precision, choose_precision, resolve_device
from .recipe import Recipe
from .sampling import epoch_indices, steps_per_epoch, trim_lone_last_item, worker_generator

log = logging.getLogger("trainers.engine")

PROGRESS_INTERVAL_S = 1.0
STOP_POLL_INTERVAL_S = 0.5
# On several ranks, rank 0's stop and checkpoint decisions reach the others every this many
# steps (one small broadcast; on CUDA each one waits for the step to finish).
DISTRIBUTED_POLL_STEPS = 8


@dataclass
class RunState:
    """Everything besides model/optimizer/scheduler/scaler that a resumed run must restore."""

    epoch: int = 0  # epochs completed
    global_step: int = 0
    # A checkpoint written mid-epoch: steps of epoch `epoch + 1` already done, and their loss.
    epoch_step: int = 0
    epoch_loss_sum: float = 0.0
    best_value: float | None = None
    best_epoch: int = 0
    best_metrics: dict[str, Any] = field(default_factory=dict)
    evals_without_improvement: int = 0
    stopped_early: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)


def to_jsonable(value: Any) -> Any:
    """Metrics may hold numpy or tensor scalars; checkpoints and metrics.json need plain types."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, torch.Tensor):
        return to_jsonable(value.tolist())
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def move_batch(batch: Any, device: torch.device, channels_last: bool) -> Any:
    if isinstance(batch, torch.Tensor):
        batch = batch.to(device, non_blocking=True)
        if channels_last and batch.dim() == 4 and batch.is_floating_point():
            batch = batch.contiguous(memory_format=torch.channels_last)
        return batch
    if isinstance(batch, dict):
        return {k: move_batch(v, device, channels_last) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # namedtuple
        return type(batch)(*(move_batch(v, device, channels_last) for v in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(move_batch(v, device, channels_last) for v in batch)
    return batch


class _Throttle:
    def __init__(self, interval: float):
        self.interval = interval
        self.last = time.monotonic()

    def due(self, now: float) -> bool:
        if now - self.last >= self.interval:
            self.last = now
            return True
        return False


def _is_improvement(value: float, best: float | None, mode: str) -> bool:
    if value is None or not math.isfinite(value):
        return False
    if best is None:
        return True
    return value > best if mode == "max" else value < best


def fit(recipe: Recipe, work_dir: Path, callbacks: Callbacks | None = None) -> FitResult | None:
    """Trains `recipe` in `work_dir`. In a process group, every rank calls it; rank 0's
    callbacks are the ones called, and only rank 0 returns the result (the others None)."""
    return _Fit(recipe, Path(work_dir), callbacks or Callbacks()).run()


class _Fit:
    def __init__(self, recipe: Recipe, work_dir: Path, callbacks: Callbacks):
        self.ranks = current_ranks()
        # Only rank 0 reports; the others follow its decisions (distributed.py).
        self.recipe, self.config, self.cb = recipe, recipe.config, callbacks if self.ranks.is_main else Callbacks()
        self.work_dir = work_dir
        self.last_path = work_dir / "checkpoints" / "last.pt"
        self.best_path = work_dir / "checkpoints" / "best.pt"
        self.device = resolve_device(self.config.device)
        self.state = RunState()

    # --- setup -------------------------------------------------------------------------
    def _build(self) -> bool:
        config, ranks = self.config, self.ranks
        ckpt.seed_everything(config.seed + ranks.rank)  # rank 0's initial weights reach the others
        model = self.recipe.build_model()
        if config.sync_batchnorm:
            model = with_synchronized_batch_norm(model, self.device, ranks)
        model = model.to(self.device)
        if config.channels_last:
            model = model.to(memory_format=torch.channels_last)
        self.model = model
        resumed = from_main(self.last_path.exists(), ranks)  # only rank 0's disk need hold it
        if ranks.is_main:  # pretrained weights load once, and reach the others when wrapped
            self.recipe.on_train_start(model, resumed)
        self.dataset = self.recipe.train_dataset()
        if len(self.dataset) == 0:
            raise TrainerError("no_train_split", "the training split has no items")
        self.items_per_epoch = config.items_per_epoch or len(self.dataset)
        rank_items = items_per_rank(self.items_per_epoch, ranks)
        self.steps_per_epoch = steps_per_epoch(rank_items, config.batch_size, config.drop_last)
        if self.steps_per_epoch == 0:
            shared = f" ({rank_items} on each of {ranks.world_size} devices)" if ranks.distributed else ""
            raise TrainerError("dataset_too_small",
                               f"{self.items_per_epoch} training items{shared} make no batch of {config.batch_size} "
                               "(a last batch of one item is left out); add images or lower batch_size")
        self.precision = self._choose_precision()
        self.optimizer = self.recipe.build_optimizer(model)
        self.scheduler = self.recipe.build_scheduler(self.optimizer, self.steps_per_epoch, config.epochs)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=self.precision.needs_grad_scaler)
        if resumed:
            self._restore(from_main(ckpt.load(self.last_path) if ranks.is_main else None, ranks))
            log.info("resuming %s after epoch %d, step %d of the next (global step %d)", self.work_dir,
                     self.state.epoch, self.state.epoch_step, self.state.global_step)
        self.train_model = wrap(model, self.device, ranks)
        return resumed

    def _choose_precision(self) -> Precision:
        """Decided afresh by every run (a resume may be on other hardware). Where it times
        the work, the probe runs on a copy of the model with every RNG restored after it,
        so the fit itself is the same as without the probe."""
        rng = ckpt.capture_rng()
        try:
            if self.ranks.is_main:
                precision = choose_precision(self.config.precision, self.device, workload=self._probe_step())
            chosen = from_main(precision.name if self.ranks.is_main else None, self.ranks)
            if not self.ranks.is_main:  # every rank computes in rank 0's choice
                precision = choose_precision(chosen, self.device)
        finally:
            ckpt.restore_rng(rng)
        log.info("training %s on %s in %s (%s)", self.work_dir, self.device, precision.name, precision.reason)
        if self.cb.on_precision:
            self.cb.on_precision(precision)
        return precision

    def _probe_step(self):
        """A workload for the precision decision: forward + backward of the recipe's own
        train_step, on a copy of the model and the first training batch (built on first use)."""
        probe: dict[str, Any] = {}

        def step(dtype: torch.dtype | None) -> None:
            if not probe:
                count = min(self.config.batch_size, len(self.dataset))
                collate = self.recipe.collate_fn() or default_collate
                probe["batch"] = move_batch(collate([self.dataset[i] for i in range(count)]), self.device,
                                            self.config.channels_last)
                probe["model"] = copy.deepcopy(self.model).train()
            with torch.autocast(self.device.type, dtype=dtype or torch.bfloat16, enabled=dtype is not None):
                loss = self.recipe.train_step(probe["model"], probe["batch"], self.device)["loss"]
            loss.backward()
            probe["model"].zero_grad(set_to_none=True)

        return step

    def _restore(self, saved: dict[str, Any]) -> None:
        self.model.load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        if self.scheduler is not None and saved.get("scheduler") is not None:
            self.scheduler.load_state_dict(saved["scheduler"])
        if saved["scaler"] and self.scaler.is_enabled():
            # Resumed on hardware that picked another precision (bf16 vs fp16) a saved or an
            # absent scaler state does not apply; the scaler then starts afresh.
            self.scaler.load_state_dict(saved["scaler"])
        self.state = RunState(**saved["state"])
        # Each rank goes on with its own random state and loss sum, when the run saved them
        # on as many ranks as this one has.
        rank_states = saved.get("rank_states") or []
        if len(rank_states) == self.ranks.world_size > 1:
            mine = rank_states[self.ranks.rank]
            self.state.epoch_loss_sum = mine["epoch_loss_sum"]
            ckpt.restore_rng(mine["rng"])
        else:
            ckpt.restore_rng(saved["rng"])

    def _save_last(self) -> None:
        """Every rank calls it; rank 0 writes."""
        s = self.state
        rank_states = gathered({"rng": ckpt.capture_rng(), "epoch_loss_sum": s.epoch_loss_sum}, self.ranks)
        if not self.ranks.is_main:
            return
        ckpt.atomic_save({
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "scaler": self.scaler.state_dict(),
            "state": dict(epoch=s.epoch, global_step=s.global_step, epoch_step=s.epoch_step,
                          epoch_loss_sum=s.epoch_loss_sum, best_value=s.best_value,
                          best_epoch=s.best_epoch, best_metrics=s.best_metrics,
                          evals_without_improvement=s.evals_without_improvement,
                          stopped_early=s.stopped_early, history=s.history),
            "rng": rank_states[0]["rng"],
            **({"rank_states": rank_states} if self.ranks.distributed else {}),
        }, self.last_path)
        if self.cb.on_checkpoint:
            self.cb.on_checkpoint(self.last_path)

    # --- loop --------------------------------------------------------------------------
    def run(self) -> FitResult:
        resumed = self._build()
        resumed_from = (self.state.epoch, self.state.global_step) if resumed else (0, 0)
        self.total_steps = self.steps_per_epoch * self.config.epochs
        self.run_start, self.run_start_step = time.monotonic(), self.state.global_step
        self.progress_throttle = _Throttle(PROGRESS_INTERVAL_S)
        self.stop_throttle = _Throttle(STOP_POLL_INTERVAL_S)
        if resumed:
            self._report_resume(resumed_from)
        self._check_stop()
        while self.state.epoch < self.config.epochs and not self.state.stopped_early:
            epoch = self.state.epoch + 1
            train_loss = self._train_epoch(epoch)
            self.state.epoch = epoch
            metrics = None
            if self.ranks.is_main and (epoch % self.config.eval_every_epochs == 0 or epoch == self.config.epochs):
                metrics = self._evaluate(epoch, train_loss)
            (self.state.stopped_early,) = flags_from_main((self.state.stopped_early,), self.device, self.ranks)
            # Report before the checkpoint: a run killed between the two repeats this epoch
            # and reports it again, rather than resuming past an epoch nobody heard of.
            if metrics is not None and self.state.best_epoch == epoch and self.cb.on_best:
                self.cb.on_best(epoch, self.config.monitor)
            if metrics is not None and self.cb.on_metrics:
                self.cb.on_metrics(epoch, self.state.global_step, metrics)
            self._save_last()
            self._check_stop()
        if not self.ranks.is_main:
            return None
        return self._finish(resumed_from)

    def _report_resume(self, resumed_from: tuple[int, int]) -> None:
        """Said before training: the steps a dead run did past its checkpoint are done again,
        so progress goes back to the checkpoint's step rather than showing the dead run's."""
        if self.cb.on_resume:
            self.cb.on_resume(*resumed_from)
        if self.cb.on_progress:
            self._emit_progress(min(self.state.epoch + 1, self.config.epochs), None, self.run_start)

    def _train_epoch(self, epoch: int) -> float:
        config, model, device = self.config, self.model, self.device
        # After a mid-epoch checkpoint the epoch's order is rebuilt and the batches already
        # trained on are skipped without being loaded.
        done = self.state.epoch_step
        indices = shard(epoch_indices(len(self.dataset), config.items_per_epoch, config.seed, epoch), self.ranks)
        if not config.drop_last:
            indices = trim_lone_last_item(indices, config.batch_size)
        indices = indices[done * config.batch_size:]
        loader = DataLoader(self.dataset, batch_size=config.batch_size, sampler=indices,
                            collate_fn=self.recipe.collate_fn(), num_workers=config.num_workers,
                            drop_last=config.drop_last, pin_memory=device.type == "cuda",
                            generator=worker_generator(config.seed, epoch, self.ranks.rank))
        model.train()
        # accumulated on device: no per-step sync
        loss_sum = torch.full((), self.state.epoch_loss_sum, device=device)
        steps = done
        for batch in loader:
            batch = move_batch(batch, device, config.channels_last)
            loss = self._step(batch)
            loss_sum += loss.detach().float()
            steps += 1
            self.state.global_step += 1
            now = time.monotonic()
            checkpoint, stop = self._decisions(now)
            if checkpoint:
                self.state.epoch_step, self.state.epoch_loss_sum = steps, float(loss_sum)
                self._save_last()
            if stop:
                raise Cancelled()
            if self.cb.on_progress and self.progress_throttle.due(now):
                self._emit_progress(epoch, float(loss.detach()), now)
        self.state.epoch_step, self.state.epoch_loss_sum = 0, 0.0
        mean_loss = float(summed(loss_sum, self.ranks)) / max(1, steps * self.ranks.world_size)
        if not math.isfinite(mean_loss):
            raise TrainerError("non_finite_loss",
                               f"training loss became {mean_loss} in epoch {epoch}; "
                               "try a lower learning_rate")
        if self.cb.on_progress:
            self._emit_progress(epoch, mean_loss, time.monotonic(), epoch_mean=True)
        return mean_loss

    def _step(self, batch: Any) -> torch.Tensor:
        optimizer, scaler = self.optimizer, self.scaler
        optimizer.zero_grad(set_to_none=True)
        with self.precision.autocast():
            loss = self.recipe.train_step(self.train_model, batch, self.device)["loss"]
        scaler.scale(loss).backward()
        if self.config.grad_clip_norm:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip_norm)
        scaler.step(optimizer)
        scaler.update()
        if self.scheduler is not None:
            self.scheduler.step()
        return loss

    def _emit_progress(self, epoch: int, loss: float | None, now: float, epoch_mean: bool = False) -> None:
        done = self.state.global_step - self.run_start_step
        eta = None
        if done > 0:
            eta = (now - self.run_start) / done * max(0, self.total_steps - self.state.global_step)
        self.cb.on_progress(Progress(epoch=epoch, epochs=self.config.epochs, step=self.state.global_step,
                                     steps=self.total_steps, eta_seconds=eta, loss=loss, epoch_mean=epoch_mean))

    def _decisions(self, now: float) -> tuple[bool, bool]:
        """(checkpoint now?, stop?) between two steps: the callbacks' answers, asked at most
        every STOP_POLL_INTERVAL_S; on several ranks, rank 0's, every DISTRIBUTED_POLL_STEPS."""
        if self.ranks.distributed and self.state.global_step % DISTRIBUTED_POLL_STEPS:
            return False, False
        decided = (False, False)
        if self.ranks.is_main and self.stop_throttle.due(now):
            decided = (bool(self.cb.should_checkpoint and self.cb.should_checkpoint()),
                       bool(self.cb.should_stop and self.cb.should_stop()))
        return flags_from_main(decided, self.device, self.ranks)

    def _check_stop(self) -> None:
        stop = self.ranks.is_main and bool(self.cb.should_stop and self.cb.should_stop())
        if flags_from_main((stop,), self.device, self.ranks)[0]:
            raise Cancelled()

    def _evaluate(self, epoch: int, train_loss: float) -> dict[str, Any]:
        config, s = self.config, self.state
        self.model.eval()
        with torch.no_grad(), self.precision.autocast():
            metrics = to_jsonable(self.recipe.evaluate(self.model, self.device))
        self.model.train()
        if config.monitor not in metrics:
            raise KeyError(f"evaluate() returned no {config.monitor!r} (got {sorted(metrics)})")
        value = float(metrics[config.monitor])
        s.history.append({"epoch": epoch, "step": s.global_step, "train_loss": train_loss, **metrics})
        if _is_improvement(value, s.best_value, config.monitor_mode):
            s.best_value, s.best_epoch, s.best_metrics = value, epoch, metrics
            s.evals_without_improvement = 0
            ckpt.atomic_save({"model": self.model.state_dict(), "epoch": epoch, "metrics": metrics},
                             self.best_path)
        else:
            s.evals_without_improvement += 1
            patience = config.early_stopping_patience
            s.stopped_early = bool(patience) and s.evals_without_improvement >= patience
            if s.stopped_early:
                log.info("early stopping after epoch %d: %s has not improved on %s (epoch %d) for %d evaluations",
                         epoch, config.monitor, s.best_value, s.best_epoch, patience)
        return metrics

    def _record_precision(self, config_path: Path) -> None:
        """The resolved config says in which precision the weights were trained (on a resume,
        the last run's; each run decides for its own hardware)."""
        config = json.loads(config_path.read_text()) if config_path.exists() else {}
        config["training_precision"] = self.precision.describe()
        config_path.write_text(json.dumps(config, indent=2))

    def _finish(self, resumed_from: tuple[int, int]) -> FitResult:
        s = self.state
        if self.best_path.exists():
            self.model.load_state_dict(ckpt.load(self.best_path)["model"])
        self.model.eval()
        artifact = self.work_dir / "artifact"
        staging = self.work_dir / "artifact.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        self.recipe.export(self.model, staging, s.best_metrics)
        self._record_precision(staging / "config.json")
        (staging / "metrics.json").write_text(json.dumps(
            {**s.best_metrics, "best_epoch": s.best_epoch, "epochs_run": s.epoch,
             "stopped_early": s.stopped_early}, indent=2))
        shutil.rmtree(artifact, ignore_errors=True)
        staging.rename(artifact)
        return FitResult(artifact_dir=artifact, metrics=s.best_metrics, best_epoch=s.best_epoch,
                         resumed_from_epoch=resumed_from[0], resumed_from_step=resumed_from[1],
                         history=list(s.history), precision=self.precision.name)
