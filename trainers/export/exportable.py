"""The contract between a trainer family and export: its graph and its own pre- and
post-processing, so every runtime (torch eager, ONNX Runtime) predicts through the same code.

A family's record (`trainers.families.TrainerFamily.exportable`) names its loader
`artifact_dir -> Exportable`; `trainers.families.load_exportable` finds it.
"""
from __future__ import annotations

from typing import Any, Protocol

from torch import Tensor, nn


from .formats import PREDICT_OPTIONS  # noqa: F401  (what prediction_options may name)


def with_defaults(defaults: dict[str, Any], options: dict[str, Any] | None) -> dict[str, Any]:
    """A request's options over the model's defaults (options it does not name are ignored)."""
    return {**defaults, **{k: v for k, v in (options or {}).items() if k in defaults and v is not None}}


def top(results: list[dict[str, Any]], threshold: float, top_k: int | None) -> list[dict[str, Any]]:
    """Results (highest confidence first) at or above `threshold`, at most `top_k` of them."""
    kept = [result for result in results if result["conf"] >= threshold]
    return kept[:top_k] if top_k else kept


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

    # Classification families also say whether the model is multi-label (`multi_label`) and the
    # probability at which a multi-label model reports a class (`decision_threshold`); semantic
    # segmentation ones give every pixel's class, `class_maps(outputs, sizes) -> [(H, W) int64]`.
    # trainers.evaluation reads them.

    def describe(self) -> dict[str, Any]:
        """How to feed the graph and read its outputs, for an export's config.json and README:
        {"preprocessing": {...}, "outputs": {name: meaning}, "postprocessing": text}."""
        ...
