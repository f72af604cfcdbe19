"""Inference from an fai_cls artifact: the model is built once; predict() runs one batched
forward pass under inference_mode in channels_last, in the precision
`trainers.engine.precision` decides for this hardware (the head always in fp32).
Pre- and post-processing are the family's own (exportable.py), shared with ONNX Runtime.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from trainers.engine.precision import predictor_precision, resolve_device
from trainers.trainer_registry import register_predictor

from .exportable import FaiClsExportable
from .recipe import TRAINER_KEY


PROBE_BATCH = 8  # images in the forward pass timed for the precision decision


@register_predictor(TRAINER_KEY)
class FaiClsPredictor:
    def __init__(self, artifact_dir: str | Path, device: str | None = None, precision: str = "auto"):
        self.exportable = FaiClsExportable(artifact_dir)
        self.classes: list[str] = self.exportable.classes
        self.hp = self.exportable.hp
        self.device = resolve_device(device)
        self.model = self.exportable.build_graph().to(self.device, memory_format=torch.channels_last)
        self.precision = predictor_precision(precision, self.model, self.device, PROBE_BATCH, self.hp.resolution)

    def outputs(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        batch = batch.to(self.device, memory_format=torch.channels_last)
        with torch.inference_mode(), self.precision.autocast():
            return {"logits": self.model(batch)}

    def predict(self, images: list[Any]) -> list[list[dict[str, Any]]]:
        if not images:
            return []
        return self.exportable.postprocess(self.outputs(self.exportable.preprocess(images)), images)
