"""A Clarifai template's model for export and every runtime: the classifier (preprocessed
images in, concept logits out; the embed-norm head's flip averaging included) with the
templates' own preprocessing and post-processing around it."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from trainers.data.classification import stacked
from trainers.export.exportable import chosen_threshold, top, tuned_thresholds, with_defaults

from .evaluation import MULTI_LABEL_THRESHOLD
from .heads import activation
from .model import ClarifaiClassifier, build_feature_extractor
from .transforms import IMAGENET_MEAN, IMAGENET_STD, min_side_transform, square_transform

RSB_TEST_RESIZE = 236 / 224  # square_transform's evaluation resize of the short side


class ClarifaiExportable:
    output_names = ("logits",)

    def __init__(self, artifact_dir: str | Path):
        self.artifact_dir = Path(artifact_dir)
        self.config = json.loads((self.artifact_dir / "config.json").read_text())
        self.classes: list[str] = json.loads((self.artifact_dir / "labels.json").read_text())
        self.logreg = bool(self.config["logreg"])
        side = self.config["image_size"]
        self.input_size = (side, side)
        make = square_transform if self.config["resize"] == "square" else min_side_transform
        self.transform = make(side, train=False)
        self.prediction_options = {"threshold": 0.0, "top_k": None}  # every concept, Clarifai style
        self.task = "classification"  # what its evaluation scores (trainers.evaluation)
        self.multi_label = bool(self.config.get("multi_label_dataset", self.logreg))
        self.decision_threshold = MULTI_LABEL_THRESHOLD  # where a concept counts as predicted (evaluation)
        self.tuned_thresholds = (tuned_thresholds(self.artifact_dir, self.classes, MULTI_LABEL_THRESHOLD)
                                 if self.multi_label else None)

    def build_graph(self) -> nn.Module:
        model = ClarifaiClassifier(build_feature_extractor(self.config["architecture"]), len(self.classes),
                                   head=self.config["head"],
                                   average_horizontal_flips=self.config["average_horizontal_flips"])
        model.load_state_dict(torch.load(self.artifact_dir / "weights.pt", map_location="cpu", weights_only=True))
        return model.eval()

    def preprocess(self, images: list[Any]) -> Tensor:
        return stacked([self.transform(image) for image in images])

    def probabilities(self, outputs: dict[str, Tensor]) -> dict[str, Tensor]:
        return {"logits": activation(outputs["logits"].float(), self.logreg)}

    def postprocess(self, outputs: dict[str, Tensor], images: list[Any],
                    options: dict[str, Any] | None = None) -> list[list[dict[str, Any]]]:
        """Every concept with its probability, highest first (Clarifai style), unless the request
        sets a threshold or top_k."""
        chosen = with_defaults(self.prediction_options, options)
        results = []
        for row in self.probabilities(outputs)["logits"].cpu():
            order = torch.argsort(row, descending=True).tolist()
            concepts = [{"cls_id": i, "label": self.classes[i], "conf": float(row[i])} for i in order]
            results.append(top(concepts, chosen_threshold(chosen["threshold"], self.tuned_thresholds), chosen["top_k"]))
        return results

    def describe(self) -> dict[str, Any]:
        side = self.config["image_size"]
        if self.config["resize"] == "square":
            short = round(side * RSB_TEST_RESIZE)
            resize = {"rule": "short side to size, keeping the aspect ratio, then centre crop", "short_side": short,
                      "crop": [side, side], "interpolation": "bilinear, antialiased"}
        else:
            resize = {"rule": "short side to size, keeping the aspect ratio, then centre crop", "short_side": side,
                      "crop": [side, side], "interpolation": "bilinear, antialiased"}
        activation_rule = "sigmoid per concept (independent probabilities)" if self.logreg \
            else "softmax over concepts (they sum to 1)"
        return {
            "preprocessing": {
                "input_size": [side, side], "color": "RGB", "layout": "NCHW", "dtype": "float32",
                "resize": resize, "scale": 1 / 255, "mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD),
            },
            "outputs": {"logits": f"(batch, {len(self.classes)}) concept logits, in labels.json order"
                                  + ("; the graph averages each image with its mirror image"
                                     if self.config["average_horizontal_flips"] else "")},
            "postprocessing": f"{activation_rule}; list every concept with its probability, highest first",
        }
