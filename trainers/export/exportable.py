"""The contract between a trainer family and export: its graph and its own pre- and
post-processing, so every runtime (torch eager, ONNX Runtime) predicts through the same code.

A family's record (`trainers.families.TrainerFamily.exportable`) names its loader
`artifact_dir -> Exportable`; `trainers.families.load_exportable` finds it.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

from torch import Tensor, nn


from .formats import PREDICT_OPTIONS, TUNED  # noqa: F401  (what prediction_options may name)


def with_defaults(defaults: dict[str, Any], options: dict[str, Any] | None) -> dict[str, Any]:
    """A request's options over the model's defaults (options it does not name are ignored)."""
    return {**defaults, **{k: v for k, v in (options or {}).items() if k in defaults and v is not None}}


def top(results: list[dict[str, Any]], threshold: float | list[float], top_k: int | None) -> list[dict[str, Any]]:
    """Results (highest confidence first) at or above `threshold` (one for all, or one per
    class id), at most `top_k` of them."""
    if isinstance(threshold, (list, tuple)):
        kept = [result for result in results if result["conf"] >= threshold[result["cls_id"]]]
    else:
        kept = [result for result in results if result["conf"] >= threshold]
    return kept[:top_k] if top_k else kept


def tuned_thresholds(artifact_dir: Path, classes: list[str], default: float) -> list[float] | None:
    """Per class id, the threshold the model's evaluation report tuned (`default` for a class it
    could not tune: no positives in the split); None without a multi-label report."""
    from trainers.evaluation import REPORT_DIR, REPORT_FILE

    report_path = Path(artifact_dir) / REPORT_DIR / REPORT_FILE
    if not report_path.exists():
        return None
    tuned = json.loads(report_path.read_text()).get("tuned_thresholds")
    return None if tuned is None else [float(tuned.get(name, default)) for name in classes]


def chosen_threshold(threshold: float | str, tuned: list[float] | None) -> float | list[float]:
    """A request's threshold as `top` takes it; "tuned" needs the model's tuned thresholds."""
    if threshold == TUNED:
        if tuned is None:
            raise ValueError("this model has no tuned thresholds")
        return tuned
    return threshold


class Exportable(Protocol):
    classes: list[str]
    # The predict options (PREDICT_OPTIONS) this model honours, with its defaults.
    prediction_options: dict[str, Any]
    input_size: tuple[int, int]  # (height, width) of the graph's input images
    output_names: tuple[str, ...]  # the graph's outputs, in order

    def build_graph(self) -> nn.Module:
        """The trained model in eval mode: a preprocessed float32 batch (B, 3, H, W) in,
        a tuple of tensors named `output_names` out (raw logits: no post-processing)."""
        ...

    def preprocess(self, images: list[Any]) -> Tensor:
        """PIL images (any mode, any size) -> the graph's float32 input batch."""
        ...

    def postprocess(self, outputs: dict[str, Tensor], images: list[Any],
                    options: dict[str, Any] | None = None) -> list[list[dict[str, Any]]]:
        """The graph's outputs for `images` -> the inference output (trainers/README.md), one list
        per image, under the request's `options` (prediction_options' names; None = defaults)."""
        ...

    def probabilities(self, outputs: dict[str, Tensor]) -> dict[str, Tensor]:
        """The probabilities the outputs stand for (softmax or sigmoid), by output name:
        what two runtimes must agree on."""
        ...

    # `task` names what the model's evaluation scores: classification, instance_segmentation or
    # semantic_segmentation (trainers.evaluation). Classification families also say whether the model is multi-label (`multi_label`), the
    # probability at which a multi-label model reports a class (`decision_threshold`) and, when its
    # report tuned them, each class's own (`tuned_thresholds`, used for threshold "tuned"); semantic
    # segmentation ones give every pixel's class, `class_maps(outputs, sizes) -> [(H, W) int64]`.
    # trainers.evaluation reads them.

    def describe(self) -> dict[str, Any]:
        """How to feed the graph and read its outputs, for an export's config.json and README:
        {"preprocessing": {...}, "outputs": {name: meaning}, "postprocessing": text}."""
        ...
