"""The contract between the platform and its trainers.

The platform (Django, Celery) sees only this module and `trainers.families`:
- a `DatasetSpec` (root folder + manifest written by the dataset importer),
- `Callbacks` it passes to `Trainer.fit`,
- the artifact directory a finished fit leaves behind, which `load_predictor` reads.

Trainers never import Django. Each trainer is a `Recipe` (model, data, loss,
evaluation, export) run by the one shared engine (`trainers.engine.fit`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

TASK_CLASSIFICATION = "classification"
TASK_INSTANCE_SEGMENTATION = "instance_segmentation"
TASK_SEMANTIC_SEGMENTATION = "semantic_segmentation"

MANIFEST_NAME = "manifest.json"

# Numeric precisions a fit or a predictor computes in; "auto" lets trainers.engine.precision
# decide from the hardware.
PRECISIONS = ("fp32", "bf16", "fp16")
REQUESTABLE_PRECISIONS = ("auto", *PRECISIONS)
# What serves a predictor: PyTorch eager (load_predictor), or ONNX Runtime on the fp32 or the
# INT8 export (trainers.export).
TORCH_RUNTIME, ONNX_RUNTIME, INT8_RUNTIME = "torch", "onnxruntime", "onnxruntime-int8"
RUNTIMES = (TORCH_RUNTIME, ONNX_RUNTIME, INT8_RUNTIME)


class TrainerError(Exception):
    """A problem a user can act on (bad config, missing weights, unusable data).

    `code` is a stable machine-readable identifier stored on the failed job.
    """

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# The split a fit evaluates on is the first of these with data: a held-out one when there is
# one (figures on the training split are optimistic).
EVALUATION_SPLITS = ("valid", "test", "train")


@dataclass(frozen=True)
class DatasetSpec:
    """An imported dataset on local disk.

    `manifest` follows the layout documented in `trainers/README.md`
    (task, classes, and per-split items; paths are relative to `root`).
    """

    root: Path
    manifest: dict[str, Any]

    @classmethod
    def load(cls, root: str | Path) -> "DatasetSpec":
        root = Path(root)
        return cls(root=root, manifest=json.loads((root / MANIFEST_NAME).read_text()))

    @property
    def task(self) -> str:
        return self.manifest["task"]

    @property
    def classes(self) -> list[str]:
        return list(self.manifest["classes"])

    def evaluation_split(self) -> str | None:
        """The first of EVALUATION_SPLITS with items or annotations; None when none has."""
        splits = self.manifest.get("splits", {})
        return next((name for name in EVALUATION_SPLITS
                     if splits.get(name) and (splits[name].get("items") or splits[name].get("coco"))), None)

    def train_images(self) -> int:
        """Images in the train split (0 when it has none)."""
        train = self.split("train") or {}
        return int(train["num_images"]) if "num_images" in train else len(train.get("items") or ())

    def split(self, *names: str) -> dict[str, Any] | None:
        """The first split present among `names` (e.g. "valid", "val", "validation")."""
        for name in names:
            if name in self.manifest["splits"]:
                return self.manifest["splits"][name]
        return None


def check_dataset(dataset: DatasetSpec, trainer: str, tasks: tuple[str, ...]) -> None:
    """What every trainer asks of its data, with one code per condition:
    `unsupported_task`, `no_classes`, `no_train_split` (absent or empty)."""
    if dataset.task not in tasks:
        raise TrainerError("unsupported_task", f"{trainer} trains {' and '.join(tasks)} datasets, not {dataset.task}")
    if not dataset.classes:
        raise TrainerError("no_classes", "the dataset declares no classes")
    train = dataset.split("train") or {}
    if not (train.get("items") or (train.get("coco") and train.get("num_images", 1))):
        raise TrainerError("no_train_split", "the dataset has no training images (no train split, or an empty one)")


# (architecture, registered name) -> the local state-dict file, or None when nothing is
# registered under that name; the platform's lookup of a user's pretrained weights.
WeightsResolver = Callable[[str, str], "Path | None"]


@dataclass
class Progress:
    epoch: int  # 1-based epoch being run
    epochs: int
    step: int  # global optimizer steps done
    steps: int  # global optimizer steps planned
    eta_seconds: float | None
    loss: float | None = None
    # False: `loss` is the last step's; True: the mean over the epoch that just ended.
    epoch_mean: bool = False

    @property
    def percent(self) -> float:
        return 100.0 * self.step / self.steps if self.steps else 0.0


@dataclass
class Callbacks:
    """Hooks the engine calls; every one is optional.

    - on_progress(Progress): throttled by the engine (about once a second); a resumed run
      reports first the step it goes on from (loss None).
    - on_metrics(epoch, step, metrics): after every evaluation.
    - on_best(epoch, monitor): just before on_metrics, when that evaluation is the best so
      far by the metric named `monitor` (the epoch whose weights the model will keep).
    - on_checkpoint(path): after a checkpoint is written.
    - on_precision(Precision): once a run, when it has chosen its numeric precision
      (trainers.engine.precision).
    - on_resume(epoch, step): once a run, before training, when it goes on from a
      checkpoint: the epochs completed and the global steps done before it.
    - should_stop() -> bool: polled between steps (throttled); True stops the fit,
      which then raises `Cancelled`.
    - should_checkpoint() -> bool: polled between steps (throttled, before should_stop);
      True writes a checkpoint in the middle of the epoch, from which a resumed fit goes
      on at the next step. Epoch ends always write one.
    """

    on_progress: Callable[[Progress], None] | None = None
    on_metrics: Callable[[int, int, dict[str, Any]], None] | None = None
    on_best: Callable[[int, str], None] | None = None
    on_checkpoint: Callable[[Path], None] | None = None
    on_precision: Callable[[Any], None] | None = None
    on_resume: Callable[[int, int], None] | None = None
    should_stop: Callable[[], bool] | None = None
    should_checkpoint: Callable[[], bool] | None = None


class Cancelled(Exception):
    """Raised by the engine when `should_stop` asked it to stop."""


@dataclass
class FitResult:
    artifact_dir: Path
    metrics: dict[str, Any]  # metrics of the selected (best) checkpoint
    best_epoch: int
    resumed_from_epoch: int = 0  # epochs completed before this run resumed; 0 = fresh start
    resumed_from_step: int = 0  # optimizer steps done before this run resumed; 0 = fresh start
    history: list[dict[str, Any]] = field(default_factory=list)
    precision: str = "fp32"  # what the run trained in (trainers.engine.precision)


class Trainer(Protocol):
    def fit(self, callbacks: Callbacks | None = None) -> FitResult: ...


class Predictor(Protocol):
    """predict(images) is exportable.postprocess(outputs(exportable.preprocess(images)), images);
    a server may run the three steps apart (preprocessing in the request's thread, one forward
    pass for several requests), which is why each is exposed."""
    classes: list[str]
    exportable: Any  # trainers.export.Exportable: the family's pre- and post-processing

    def outputs(self, batch: Any) -> dict[str, Any]:
        """The forward pass: a preprocessed batch in, the graph's raw outputs by name out."""
        ...

    def predict(self, images: list[Any]) -> list[list[dict[str, Any]]]:
        """PIL images in, one list of detections per image out (see trainers/README.md)."""
        ...
