"""Serve a fai_mf artifact: the model is built once; predict() runs one batched forward pass."""
from __future__ import annotations

import json
from pathlib import Path

import torch

from trainers.engine.precision import predictor_precision, resolve_device
from trainers.registry import register_predictor

from .config import MaskFormerConfig
from .mask_codec import encode_mask
from .model import build_mask_former
from .postprocessing import postprocess
from .recipe import TRAINER_KEY
from .transforms import image_to_tensor, resize_image


PROBE_BATCH = 2  # images in the forward pass timed for the precision decision


class FaiMfPredictor:
    def __init__(self, artifact_dir: Path, device: str | None = None, precision: str = "auto"):
        artifact_dir = Path(artifact_dir)
        config = json.loads((artifact_dir / "config.json").read_text())
        self.config = MaskFormerConfig(**config["model"])
        self.classes: list[str] = json.loads((artifact_dir / "labels.json").read_text())
        self.device = resolve_device(device)
        model = build_mask_former(self.config)
        model.load_state_dict(torch.load(artifact_dir / "weights.pt", map_location="cpu", weights_only=True))
        self.model = model.to(self.device).eval()
        self.precision = predictor_precision(precision, self.model, self.device, PROBE_BATCH, self.config.resolution)

    @torch.no_grad()
    def predict(self, images: list) -> list[list[dict]]:
        """PIL images -> per image [{cls_id, label, conf, bbox [x1, y1, x2, y2] (x2, y2 exclusive),
        mask (base64 PNG, original size)}], highest confidence first."""
        if not images:
            return []
        tensors = [image_to_tensor(image) for image in images]
        batch = torch.stack([resize_image(t, self.config.resolution) for t in tensors]).to(self.device)
        with self.precision.autocast():
            outputs = self.model(batch)
        # Post-processing (thresholds, mask upsampling) in fp32 whatever the model ran in.
        outputs = {k: v.float() if isinstance(v, torch.Tensor) else v for k, v in outputs.items()}
        c = self.config
        results = postprocess(outputs, [tuple(t.shape[-2:]) for t in tensors], c.postprocessing_type,
                              c.threshold, c.mask_threshold, c.predict_all_pixels)
        return [self._detections(result) for result in results]

    def _detections(self, result: dict[str, torch.Tensor]) -> list[dict]:
        order = result["scores"].argsort(descending=True).tolist()
        detections = []
        for i in order:
            cls_id = int(result["labels"][i])
            detections.append({
                "cls_id": cls_id,
                "label": self.classes[cls_id],
                "conf": float(result["scores"][i]),
                "bbox": [int(v) for v in result["boxes"][i].tolist()],
                "mask": encode_mask(result["masks"][i].cpu().numpy()),
            })
        return detections


@register_predictor(TRAINER_KEY)
def load_fai_mf_predictor(artifact_dir: Path, precision: str = "auto") -> FaiMfPredictor:
    return FaiMfPredictor(artifact_dir, precision=precision)
