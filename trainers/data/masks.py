"""Binary masks: on the wire, base64 of a single-channel PNG (mode "L", 0 or 255); from COCO
annotations, decoded with pycocotools. Torch-free: the platform's importers and the Clarifai
front use it too."""
from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils


def encode_mask(mask: np.ndarray) -> str:
    image = Image.fromarray(np.where(np.asarray(mask, dtype=bool), 255, 0).astype(np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def decode_mask(encoded: str) -> np.ndarray:
    """(H, W) bool: the pixels a client should treat as foreground (any value >= 128)."""
    image = Image.open(io.BytesIO(base64.b64decode(encoded))).convert("L")
    return np.asarray(image) >= 128


def annotation_mask(ann: dict, height: int, width: int) -> np.ndarray:
    """(H, W) uint8 mask of a COCO annotation (polygons, uncompressed or compressed RLE)."""
    segmentation = ann["segmentation"]
    if isinstance(segmentation, list):
        rle = mask_utils.merge(mask_utils.frPyObjects(segmentation, height, width))
    elif isinstance(segmentation.get("counts"), list):
        rle = mask_utils.frPyObjects(segmentation, height, width)
    else:
        rle = segmentation
    return mask_utils.decode(rle).astype(np.uint8)
