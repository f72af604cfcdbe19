"""The Recipe: what a trainer supplies to the shared engine (model, data, loss, eval, export)."""
from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from .config import EngineConfig


class Recipe(ABC):
    """One per trainer. The engine owns the loop, AMP, checkpoints, resume and callbacks.

    Batches reach `train_step` already on `device`, with 4-D floating tensors in
    channels_last when `config.channels_last` is set.
    """

    config: EngineConfig

    @abstractmethod
    def build_model(self) -> nn.Module: ...

    @abstractmethod
    def train_dataset(self) -> torch.utils.data.Dataset: ...

    def collate_fn(self):
        return None  # default_collate

    @abstractmethod
    def train_step(self, model: nn.Module, batch: Any, device: torch.device) -> dict[str, Tensor]:
        """Forward + loss for one batch; must return {"loss": scalar, ...}. Runs under autocast."""

    @abstractmethod
    def build_optimizer(self, model: nn.Module) -> torch.optim.Optimizer: ...

    def build_scheduler(self, optimizer, steps_per_epoch: int, epochs: int):
        """An LRScheduler stepped once per optimizer step, or None."""
        return None

    @abstractmethod
    def evaluate(self, model: nn.Module, device: torch.device) -> dict[str, Any]:
        """Metrics containing `config.monitor`; called in eval mode, without grad, under autocast."""

    @abstractmethod
    def export(self, model: nn.Module, artifact_dir: Path, metrics: dict[str, Any]) -> None:
        """Write weights.pt, config.json (with a "trainer" key) and labels.json."""

    def on_train_start(self, model: nn.Module, resumed: bool) -> None:
        """Hook after the model is built (e.g. load pretrained weights when not resumed)."""
