"""Inference from an fai_cls artifact: the model is built once; predict() runs one batched
forward pass under inference_mode in channels_last, in the precision
`trainers.engine.precision` decides for this hardware (the head always in fp32).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from trainers.data.classification import image_to_tensor
from trainers.engine.precision import predictor_precision, resolve_device
from trainers.registry import register_predictor

from .hyperparameters import FaiClsHyperparameters
from .model import build_model
from .postprocess import postprocess
from .recipe import TRAINER_KEY


PROBE_BATCH = 8  # images in the forward pass timed for the precision decision


@register_predictor(TRAINER_KEY)
class FaiClsPredictor:
    def __init__(self, artifact_dir: str | Path, device: str | None = None, precision: str = "auto"):
        artifact_dir = Path(artifact_dir)
        config = json.loads((artifact_dir / "config.json").read_text())
        self.classes: list[str] = json.loads((artifact_dir / "labels.json").read_text())
        self.hp = FaiClsHyperparameters(**config["hyperparameters"])
        self.device = resolve_device(device)
        model = build_model(self.hp, len(self.classes))
        model.load_state_dict(torch.load(artifact_dir / "weights.pt", map_location="cpu", weights_only=True))
        self.model = model.eval().to(self.device, memory_format=torch.channels_last)
        self.precision = predictor_precision(precision, self.model, self.device, PROBE_BATCH, self.hp.resolution)

    def predict(self, images: list[Any]) -> list[list[dict[str, Any]]]:
        if not images:
            return []
        batch = torch.stack([image_to_tensor(image, self.hp.resolution) for image in images])
        batch = batch.to(self.device, memory_format=torch.channels_last)
        with torch.inference_mode(), self.precision.autocast():
            logits = self.model(batch)
        return postprocess(logits, self.classes, self.hp.multi_label, self.hp.threshold)
