"""COCO annotation files as pycocotools reads them (training, evaluation, reports)."""
from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

from pycocotools.coco import COCO


def load_coco(path: Path) -> COCO:
    """A pycocotools COCO object, quietly, with the fields COCOeval needs filled in."""
    data = json.loads(Path(path).read_text())
    for ann in data.get("annotations", []):
        ann.setdefault("iscrowd", 0)
        if "area" not in ann:
            ann["area"] = float(ann["bbox"][2] * ann["bbox"][3]) if "bbox" in ann else 0.0
    coco = COCO()
    coco.dataset = data
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco
