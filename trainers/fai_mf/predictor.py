"""Serve a fai_mf artifact: the model is built once; predict() runs one batched forward pass.
Pre- and post-processing are the family's own (exportable.py), shared with ONNX Runtime."""
from __future__ import annotations

from pathlib import Path

import torch

from trainers.engine.precision import predictor_precision, resolve_device
from trainers.trainer_registry import register_predictor

from .exportable import FaiMfExportable
from .recipe import TRAINER_KEY


PROBE_BATCH = 2  # images in the forward pass timed for the precision decision


class FaiMfPredictor:
    def __init__(self, artifact_dir: Path, device: str | None = None, precision: str = "auto"):
        self.exportable = FaiMfExportable(artifact_dir)
        self.config = self.exportable.config
        self.classes: list[str] = self.exportable.classes
        self.device = resolve_device(device)
        self.model = self.exportable.build_model().to(self.device)
        self.precision = predictor_precision(precision, self.model, self.device, PROBE_BATCH, self.config.resolution)

    @torch.no_grad()
    def outputs(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """The graph's outputs (class and mask logits) for a preprocessed batch."""
        with self.precision.autocast():
            outputs = self.model(batch.to(self.device))
        return {name: outputs[name] for name in self.exportable.output_names}

    def predict(self, images: list) -> list[list[dict]]:
        """PIL images -> per image [{cls_id, label, conf, bbox [x1, y1, x2, y2] (x2, y2 exclusive),
        mask (base64 PNG, original size)}], highest confidence first."""
        if not images:
            return []
        return self.exportable.postprocess(self.outputs(self.exportable.preprocess(images)), images)


@register_predictor(TRAINER_KEY)
def load_fai_mf_predictor(artifact_dir: Path, precision: str = "auto") -> FaiMfPredictor:
    return FaiMfPredictor(artifact_dir, precision=precision)
