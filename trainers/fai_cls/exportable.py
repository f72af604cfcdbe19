"""FAI-CLS for export and every runtime: the model (preprocessed images in, class logits out)
with the family's own preprocessing and post-processing around it."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from trainers.data.classification import IMAGENET_MEAN, IMAGENET_STD, preprocess_batch
from trainers.export.exportable import chosen_threshold, tuned_thresholds, with_defaults

from .hyperparameters import FaiClsHyperparameters
from .model import build_model
from .postprocess import postprocess


class FaiClsExportable:
    output_names = ("logits",)

    def __init__(self, artifact_dir: str | Path):
        self.artifact_dir = Path(artifact_dir)
        config = json.loads((self.artifact_dir / "config.json").read_text())
        self.classes: list[str] = json.loads((self.artifact_dir / "labels.json").read_text())
        self.hp = FaiClsHyperparameters(**config["hyperparameters"])
        self.input_size = (self.hp.resolution, self.hp.resolution)
        self.task = "classification"  # what its evaluation scores (trainers.evaluation)
        self.multi_label = self.hp.multi_label
        self.decision_threshold = self.hp.threshold
        self.tuned_thresholds = (tuned_thresholds(self.artifact_dir, self.classes, self.hp.threshold)
                                 if self.hp.multi_label else None)
        self.prediction_options = ({"threshold": self.hp.threshold, "top_k": None} if self.hp.multi_label
                                   else {"threshold": 0.0, "top_k": 1})

    def build_graph(self) -> nn.Module:
        model = build_model(self.hp, len(self.classes))
        model.load_state_dict(torch.load(self.artifact_dir / "weights.pt", map_location="cpu", weights_only=True))
        return model.eval()

    def preprocess(self, images: list[Any]) -> Tensor:
        return preprocess_batch(images, self.hp.resolution)

    def postprocess(self, outputs: dict[str, Tensor], images: list[Any],
                    options: dict[str, Any] | None = None) -> list[list[dict[str, Any]]]:
        chosen = with_defaults(self.prediction_options, options)
        threshold = chosen_threshold(chosen["threshold"], self.tuned_thresholds)
        return postprocess(outputs["logits"], self.classes, self.hp.multi_label, threshold, chosen["top_k"])

    def probabilities(self, outputs: dict[str, Tensor]) -> dict[str, Tensor]:
        logits = outputs["logits"].float()
        return {"logits": logits.sigmoid() if self.hp.multi_label else logits.softmax(-1)}

    def describe(self) -> dict[str, Any]:
        side = self.hp.resolution
        rule = ("sigmoid per class; report every class whose probability >= "
                f"{self.hp.threshold}, highest first") if self.hp.multi_label else \
            "softmax over classes; report the top class with its probability"
        return {
            "preprocessing": {
                "input_size": [side, side], "color": "RGB", "layout": "NCHW", "dtype": "float32",
                "resize": {"rule": "stretch", "size": [side, side], "interpolation": "bilinear (PIL)"},
                "scale": 1 / 255, "mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD),
            },
            "outputs": {"logits": f"(batch, {len(self.classes)}) class logits, in labels.json order"},
            "postprocessing": rule,
        }
