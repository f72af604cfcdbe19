"""FAI-MF for export and every runtime: Mask2Former as a graph that outputs the final layer's
class logits and mask logits (post-processing runs outside the graph, in postprocessing.py),
with the family's own resize in front and its post-processing behind."""
from __future__ import annotations

import json
from pathlib import Path

import torch
from PIL import Image
from torch import Tensor, nn


from .config import MaskFormerConfig
from trainers.data.masks import encode_mask
from trainers.export.exportable import with_defaults
from .model import IMAGENET_MEAN, IMAGENET_STD, MaskFormer, build_mask_former
from .postprocessing import postprocess, semantic_class_map, upsample_masks
from .transforms import image_to_tensor, resize_image


class MaskLogitsGraph(nn.Module):
    """Images (B, 3, H, W) in [0, 1] -> (class logits (B, Q, K+1), mask logits (B, Q, H/4, W/4));
    the deep-supervision outputs of earlier layers are left out."""

    def __init__(self, model: MaskFormer):
        super().__init__()
        self.model = model

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        outputs = self.model(images)
        return outputs["pred_logits"], outputs["pred_masks"]


class FaiMfExportable:
    output_names = ("pred_logits", "pred_masks")

    def __init__(self, artifact_dir: str | Path):
        self.artifact_dir = Path(artifact_dir)
        config = json.loads((self.artifact_dir / "config.json").read_text())
        self.config = MaskFormerConfig(**config["model"])
        self.classes: list[str] = json.loads((self.artifact_dir / "labels.json").read_text())
        self.input_size = (self.config.resolution, self.config.resolution)
        # What its evaluation scores: the task it trained on (its post-processing may be the other one).
        self.task = config.get("task") or f"{self.config.postprocessing_type}_segmentation"
        self.prediction_options = {"threshold": self.config.threshold, "mask_threshold": self.config.mask_threshold,
                                   "top_k": None}

    def build_model(self) -> MaskFormer:
        model = build_mask_former(self.config)
        model.load_state_dict(torch.load(self.artifact_dir / "weights.pt", map_location="cpu", weights_only=True))
        return model.eval()

    def build_graph(self) -> nn.Module:
        return MaskLogitsGraph(self.build_model()).eval()

    def preprocess(self, images: list[Image.Image]) -> Tensor:
        return torch.stack([resize_image(image_to_tensor(image), self.config.resolution) for image in images])

    def postprocess(self, outputs: dict[str, Tensor], images: list[Image.Image],
                    options: dict | None = None) -> list[list[dict]]:
        """Per image [{cls_id, label, conf, bbox [x1, y1, x2, y2] (x2, y2 exclusive), mask (base64
        PNG, original size)}], highest confidence first, at most top_k; computed in fp32 whatever
        the graph ran in. A segment is kept above `threshold` (the request's or the model's)."""
        outputs = {name: outputs[name].float() for name in self.output_names}
        c, chosen = self.config, with_defaults(self.prediction_options, options)
        sizes = [(image.height, image.width) for image in images]
        results = postprocess(outputs, sizes, c.postprocessing_type, chosen["threshold"], chosen["mask_threshold"],
                              c.predict_all_pixels)
        return [self._detections(result)[:chosen["top_k"]] for result in results]

    def _detections(self, result: dict[str, Tensor]) -> list[dict]:
        order = result["scores"].argsort(descending=True).tolist()
        return [{
            "cls_id": int(result["labels"][i]),
            "label": self.classes[int(result["labels"][i])],
            "conf": float(result["scores"][i]),
            "bbox": [int(v) for v in result["boxes"][i].tolist()],
            "mask": encode_mask(result["masks"][i].cpu().numpy()),
        } for i in order]

    def class_maps(self, outputs: dict[str, Tensor], sizes: list[tuple[int, int]]) -> list[Tensor]:
        """Semantic models: per image, every pixel's class (H, W) int64 at its (height, width), by
        Mask2Former's semantic inference, the one the training's mIoU scores."""
        return [semantic_class_map(logits.float(), upsample_masks(masks, size))
                for logits, masks, size in zip(outputs["pred_logits"], outputs["pred_masks"], sizes)]

    def probabilities(self, outputs: dict[str, Tensor]) -> dict[str, Tensor]:
        return {"pred_logits": outputs["pred_logits"].float().softmax(-1),
                "pred_masks": outputs["pred_masks"].float().sigmoid()}

    def describe(self) -> dict:
        c, side = self.config, self.config.resolution
        if c.postprocessing_type == "instance":
            rule = (f"instance: top {c.num_queries} (query, class) pairs by softmax probability (the last class "
                    "is 'no object' and is dropped); upsample each pair's mask logits bilinearly to the image "
                    f"size; mask = sigmoid > {c.mask_threshold}; score = class probability x mean mask "
                    f"probability inside the mask; keep score > {c.threshold}")
        elif c.predict_all_pixels:
            rule = ("semantic, every pixel: p(class, pixel) = sum over queries of softmax(class logits)[class] "
                    "x sigmoid(upsampled mask logits); each pixel takes its argmax class; one segment per class")
        else:
            rule = (f"semantic per query: best real class by softmax, kept when > {c.threshold}; "
                    f"mask = sigmoid(upsampled mask logits) > {c.mask_threshold}")
        return {
            "preprocessing": {
                "input_size": [side, side], "color": "RGB", "layout": "NCHW", "dtype": "float32",
                "resize": {"rule": "stretch", "size": [side, side], "interpolation": "bilinear, antialiased"},
                "scale": 1 / 255, "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0],
                "note": f"ImageNet normalisation (mean {list(IMAGENET_MEAN)}, std {list(IMAGENET_STD)}) "
                        "happens inside the graph: feed pixels / 255",
            },
            "outputs": {
                "pred_logits": f"(batch, {c.num_queries}, {len(self.classes) + 1}) class logits per query; "
                               "the last class is 'no object'",
                "pred_masks": f"(batch, {c.num_queries}, {side // 4}, {side // 4}) mask logits per query",
            },
            "postprocessing": rule,
        }
