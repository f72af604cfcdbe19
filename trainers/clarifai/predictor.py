"""Inference from an artifact directory.

Like Clarifai, a prediction lists every concept with its score, highest first: with
logreg=1 each `conf` is that concept's own sigmoid probability (several may exceed
0.5); with logreg=0 the confs are a softmax distribution summing to 1.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from trainers.engine.precision import predictor_precision, resolve_device

from .heads import activation
from .model import ClarifaiClassifier, build_feature_extractor
from .transforms import min_side_transform, square_transform


PROBE_BATCH = 8  # images in the forward pass timed for the precision decision


class ClarifaiPredictor:
    def __init__(self, artifact_dir: str | Path, device: str | None = None, precision: str = "auto"):
        artifact_dir = Path(artifact_dir)
        self.config = json.loads((artifact_dir / "config.json").read_text())
        self.classes: list[str] = json.loads((artifact_dir / "labels.json").read_text())
        self.logreg = bool(self.config["logreg"])
        self.device = resolve_device(device)
        model = ClarifaiClassifier(build_feature_extractor(self.config["architecture"]), len(self.classes),
                                   head=self.config["head"],
                                   average_horizontal_flips=self.config["average_horizontal_flips"])
        model.load_state_dict(torch.load(artifact_dir / "weights.pt", map_location="cpu", weights_only=True))
        self.model = model.to(self.device).eval()
        make = square_transform if self.config["resize"] == "square" else min_side_transform
        self.transform = make(self.config["image_size"], train=False)
        self.precision = predictor_precision(precision, self.model, self.device, PROBE_BATCH, self.config["image_size"])

    @torch.no_grad()
    def probabilities(self, images: list[Any]) -> torch.Tensor:
        batch = torch.stack([self.transform(image) for image in images]).to(self.device)
        with self.precision.autocast():
            logits = self.model(batch)
        return activation(logits.float(), self.logreg).cpu()

    def predict(self, images: list[Any]) -> list[list[dict[str, Any]]]:
        if not images:
            return []
        results = []
        for row in self.probabilities(images):
            order = torch.argsort(row, descending=True).tolist()
            results.append([{"cls_id": i, "label": self.classes[i], "conf": float(row[i])} for i in order])
        return results
