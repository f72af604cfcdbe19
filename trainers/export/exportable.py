"""The contract between a trainer family and export: its graph and its own pre- and
post-processing, so every runtime (torch eager, ONNX Runtime) predicts through the same code.

A family's record (`trainers.families.TrainerFamily.exportable`) names its loader
`artifact_dir -> Exportable`; `trainers.families.load_exportable` finds it.
"""
from __future__ import annotations

from typing import Any, Protocol

from torch import Tensor, nn


class Exportable(Protocol):
    classes: list[str]
    input_size: tuple[int, int]  # (height, width) of the graph's input images
    output_names: tuple[str, ...]  # the graph's outputs, in order

    def build_graph(self) -> nn.Module:
        """The trained model in eval mode: a preprocessed float32 batch (B, 3, H, W) in,
        a tuple of tensors named `output_names` out (raw logits: no post-processing)."""
        ...

    def preprocess(self, images: list[Any]) -> Tensor:
        """PIL images (any mode, any size) -> the graph's float32 input batch."""
        ...

    def postprocess(self, outputs: dict[str, Tensor], images: list[Any]) -> list[list[dict[str, Any]]]:
        """The graph's outputs for `images` -> the inference output (trainers/README.md), one list per image."""
        ...

    def probabilities(self, outputs: dict[str, Tensor]) -> dict[str, Tensor]:
        """The probabilities the outputs stand for (softmax or sigmoid), by output name:
        what two runtimes must agree on."""
        ...

    def describe(self) -> dict[str, Any]:
        """How to feed the graph and read its outputs, for an export's config.json and README:
        {"preprocessing": {...}, "outputs": {name: meaning}, "postprocessing": text}."""
        ...
