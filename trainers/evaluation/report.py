"""evaluate(): one predictor, one dataset split, one report (report.json) with its examples."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from trainers.core import TASK_CLASSIFICATION, TASK_INSTANCE_SEGMENTATION, TASK_SEMANTIC_SEGMENTATION, DatasetSpec, TrainerError

REPORT_DIR = "evaluation"  # in a model's artifact: the report on its own evaluation split
REPORT_FILE = "report.json"
EXAMPLES_DIR = "examples"
MAX_EXAMPLES = 24  # the worst images kept per report
BATCH_SIZE = 16

SETTINGS = ("threshold", "match_iou", "score_threshold")  # top-level numbers that are not figures
def evaluation_tasks(model_task: str) -> tuple[str, ...]:
    """The dataset tasks a model of `model_task` is evaluated on: its own, and for a classifier
    also instance segmentation (an image's labels are its objects' categories, as fai-cls trains)."""
    if model_task == TASK_CLASSIFICATION:
        return TASK_CLASSIFICATION, TASK_INSTANCE_SEGMENTATION
    return (model_task,)


def class_mapping(model_classes: list[str], dataset_classes: list[str]) -> list[int]:
    """Each dataset class's index among the model's; refuses classes the model does not know."""
    unknown = [name for name in dataset_classes if name not in model_classes]
    if unknown:
        raise TrainerError("unknown_classes", f"the dataset has classes the model does not know: {', '.join(unknown)}")
    return [model_classes.index(name) for name in dataset_classes]


def evaluate(predictor, dataset: DatasetSpec, split: str, out_dir: Path, max_examples: int = MAX_EXAMPLES,
             batch_size: int = BATCH_SIZE) -> dict[str, Any]:
    """Scores `predictor` (TorchPredictor, OnnxPredictor: anything with `exportable`, `outputs`
    and `predict`) on `split` of `dataset`, writes `out_dir`/report.json and the pictures of its
    worst examples under `out_dir`/examples/, and returns the report."""
    from . import classification, instances, semantic

    model_task = predictor.exportable.task
    if dataset.task not in evaluation_tasks(model_task):
        raise TrainerError("unsupported_task", f"a {model_task} model is not evaluated on a {dataset.task} dataset")
    if not (dataset.manifest.get("splits") or {}).get(split):
        raise TrainerError("unknown_split", f"the dataset has no {split!r} split "
                                            f"(it has {', '.join(dataset.manifest.get('splits') or {}) or 'none'})")
    to_model = class_mapping(list(predictor.exportable.classes), dataset.classes)
    out_dir = Path(out_dir)
    staging = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    started = time.perf_counter()
    task_module = {TASK_CLASSIFICATION: classification, TASK_INSTANCE_SEGMENTATION: instances,
                   TASK_SEMANTIC_SEGMENTATION: semantic}[model_task]
    result = task_module.evaluate(predictor, dataset, split, to_model, batch_size, staging / EXAMPLES_DIR,
                                  max_examples)
    figures = result["report"]
    report = {"task": model_task, "dataset_task": dataset.task, "split": split, "runtime": predictor.runtime,
              "multi_label": bool(getattr(predictor.exportable, "multi_label", False)), "classes": list(predictor.exportable.classes),
              "seconds": round(time.perf_counter() - started, 3),
              "metrics": {key: value for key, value in figures.items() if _is_metric(key, value)},
              **{key: value for key, value in figures.items() if not _is_metric(key, value)},
              "examples": result["examples"]}
    staging.mkdir(parents=True, exist_ok=True)
    (staging / REPORT_FILE).write_text(json.dumps(report, indent=1, allow_nan=False))
    shutil.rmtree(out_dir, ignore_errors=True)
    staging.rename(out_dir)
    return report


def _is_metric(key: str, value: Any) -> bool:
    """A figure of the model (named as a job's metrics), not a setting it was scored at."""
    return key not in SETTINGS and (value is None or isinstance(value, (int, float))) and not isinstance(value, bool)


def write_report(artifact_dir: str | Path, dataset: DatasetSpec, split: str, predictor) -> dict[str, Any]:
    """The report a model keeps, on its evaluation split, into `artifact_dir`/evaluation/, made
    by `predictor` (the artifact's PyTorch one, as a deployment serves it)."""
    return evaluate(predictor, dataset, split, Path(artifact_dir) / REPORT_DIR)
