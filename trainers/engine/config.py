"""Engine configuration: everything the shared loop needs that is not the model itself."""
from __future__ import annotations

from dataclasses import dataclass

from .precision import REQUESTABLE


@dataclass
class EngineConfig:
    epochs: int
    batch_size: int
    seed: int = 0
    device: str | None = None  # None: "cuda" if available else "cpu"
    # "auto" | "fp32" | "bf16" | "fp16", resolved by trainers.engine.precision (auto decides
    # from the hardware and a timed step of the model).
    precision: str = "auto"
    channels_last: bool = True  # model and 4-D floating batch tensors
    grad_clip_norm: float | None = None
    early_stopping_patience: int = 0  # 0 = off; evaluations without improvement
    monitor: str = "accuracy"  # key in Recipe.evaluate()'s metrics
    monitor_mode: str = "max"  # "max" | "min"
    eval_every_epochs: int = 1
    # An epoch is this many samples (with replacement if larger than the dataset).
    items_per_epoch: int | None = None
    num_workers: int = 0
    drop_last: bool = False
    # On several ranks: batch-norm statistics over the global batch (SyncBatchNorm).
    sync_batchnorm: bool = False

    def __post_init__(self):
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch_size must be >= 1")
        if self.precision not in REQUESTABLE:
            raise ValueError(f"precision must be {'|'.join(REQUESTABLE)}, got {self.precision!r}")
        if self.monitor_mode not in ("max", "min"):
            raise ValueError(f"monitor_mode must be max|min, got {self.monitor_mode!r}")
        if self.eval_every_epochs < 1:
            raise ValueError("eval_every_epochs must be >= 1")
        if self.items_per_epoch is not None and self.items_per_epoch < 1:
            raise ValueError("items_per_epoch must be >= 1 or None")
