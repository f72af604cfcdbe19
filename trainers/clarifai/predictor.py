"""Inference from an artifact directory.

Like Clarifai, a prediction lists every concept with its score, highest first: with
logreg=1 each `conf` is that concept's own sigmoid probability (several may exceed
0.5); with logreg=0 the confs are a softmax distribution summing to 1.
Pre- and post-processing are the templates' own (exportable.py), shared with ONNX Runtime.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from trainers.engine.precision import predictor_precision, resolve_device

from .exportable import ClarifaiExportable


PROBE_BATCH = 8  # images in the forward pass timed for the precision decision


class ClarifaiPredictor:
    def __init__(self, artifact_dir: str | Path, device: str | None = None, precision: str = "auto"):
        self.exportable = ClarifaiExportable(artifact_dir)
        self.config = self.exportable.config
        self.classes: list[str] = self.exportable.classes
        self.logreg = self.exportable.logreg
        self.transform = self.exportable.transform
        self.device = resolve_device(device)
        self.model = self.exportable.build_graph().to(self.device)
        self.precision = predictor_precision(precision, self.model, self.device, PROBE_BATCH, self.config["image_size"])

    @torch.no_grad()
    def outputs(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        with self.precision.autocast():
            return {"logits": self.model(batch.to(self.device)).float()}

    def probabilities(self, images: list[Any]) -> torch.Tensor:
        outputs = self.outputs(self.exportable.preprocess(images))
        return self.exportable.probabilities(outputs)["logits"].cpu()

    def predict(self, images: list[Any]) -> list[list[dict[str, Any]]]:
        if not images:
            return []
        return self.exportable.postprocess(self.outputs(self.exportable.preprocess(images)), images)
