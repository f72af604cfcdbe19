"""Inputs: labelled images uploaded into an app, kept until a dataset version freezes them.

An input's image comes as bytes (this server does not download URLs). Its labels are
concepts (value 1 positive, 0 negative) and, for segmentation, regions, each a polygon or
a mask with one positive concept. A request is taken whole or refused whole
(input_checks.py names every problem).
"""
from __future__ import annotations

import io
import tempfile
import uuid
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import transaction
from PIL import Image

from platform_api.clarifai.concepts import ensure_concept
from platform_api.clarifai.input_checks import Checked, NewInput, NewRegion, check_inputs
from platform_api.clarifai.models import App, ClarifaiDataset, Input
from platform_api.clarifai.problems import Missing
from platform_api.problems import Invalid
from platform_api.storage import get_storage

MAX_INPUTS_PER_REQUEST = 128  # Clarifai's own limit (the SDK uploads in batches of 128)


def add_inputs(app: App, new_inputs: list[NewInput]) -> list[Input]:
    if not new_inputs:
        raise Invalid({"inputs": ["send one or more inputs"]})
    if len(new_inputs) > MAX_INPUTS_PER_REQUEST:
        raise Invalid({"inputs": [f"at most {MAX_INPUTS_PER_REQUEST} inputs per request, got {len(new_inputs)}"]})
    datasets = _datasets_named(app, {d for new in new_inputs for d in new.dataset_ids})
    return _store(app, check_inputs(app, new_inputs), datasets)


def _datasets_named(app: App, dataset_ids: set[str]) -> dict[str, ClarifaiDataset]:
    found = {d.dataset_id: d for d in ClarifaiDataset.objects.filter(app=app, dataset_id__in=dataset_ids)}
    missing = sorted(dataset_ids - set(found))
    if missing:
        raise Missing("dataset", missing[0], f"app '{app.app_id}' (create it with PostDatasets first)")
    return found


def _store(app: App, checked: list[Checked], datasets: dict[str, ClarifaiDataset]) -> list[Input]:
    storage = get_storage()
    saved: list[str] = []
    try:
        with transaction.atomic():
            rows = []
            for item in checked:
                folder = f"clarifai/apps/{app.pk}/inputs/{uuid.uuid4().hex}"
                _save_bytes(storage, f"{folder}/image.{item.extension}", item.new.image)
                saved.append(folder)
                regions = [_stored_region(app, storage, folder, n, region, item.masks.get(n))
                           for n, region in enumerate(item.new.regions)]
                for concept_id, name, _ in item.new.concepts:
                    ensure_concept(app, concept_id, name)
                row = Input.objects.create(
                    app=app, input_id=item.input_id, image_key=f"{folder}/image.{item.extension}",
                    image_format=item.extension, width=item.width, height=item.height,
                    concepts=[{"id": c, "value": v} for c, _, v in item.new.concepts], regions=regions,
                )
                row.datasets.set([datasets[d] for d in item.new.dataset_ids])
                rows.append(row)
    except BaseException:
        for folder in saved:
            storage.delete(folder)
        raise
    return rows


def _stored_region(app: App, storage, folder: str, index: int, region: NewRegion, mask: np.ndarray | None) -> dict:
    concept_id, name, _ = next(c for c in region.concepts if c[2] == 1.0)
    ensure_concept(app, concept_id, name)
    stored = {"id": region.region_id or uuid.uuid4().hex, "concept": concept_id}
    if mask is not None:
        buffer = io.BytesIO()
        Image.fromarray(np.where(mask, 255, 0).astype(np.uint8)).save(buffer, format="PNG", optimize=True)
        stored["mask_key"] = f"{folder}/region-{index}.png"
        _save_bytes(storage, stored["mask_key"], buffer.getvalue())
    else:
        stored["polygon"] = [[row, col] for row, col in region.polygon]
    return stored


def _save_bytes(storage, key: str, data: bytes) -> None:
    with tempfile.NamedTemporaryFile(dir=Path(settings.DATA_DIR) / "tmp", delete=False) as tmp:
        tmp.write(data)
    storage.save_file(key, Path(tmp.name), move=True)


def delete_inputs(app: App, input_ids: list[str]) -> None:
    """Deleting is idempotent: ids already gone are not an error. Frozen dataset versions
    keep their own copies."""
    if not input_ids:
        raise Invalid({"ids": ["name one or more inputs"]})
    rows = list(Input.objects.filter(app=app, input_id__in=input_ids))
    folders = [row.image_key.rsplit("/", 1)[0] for row in rows]
    with transaction.atomic():
        Input.objects.filter(pk__in=[row.pk for row in rows]).delete()
        transaction.on_commit(lambda: [get_storage().delete(folder) for folder in folders])


def get_input(app: App, input_id: str) -> Input:
    row = Input.objects.filter(app=app, input_id=input_id).first()
    if row is None:
        raise Missing("input", input_id, f"app '{app.app_id}'")
    return row


def image_bytes(row: Input) -> bytes:
    return get_storage().local_file(row.image_key).read_bytes()


def mask_bytes(region: dict) -> bytes:
    return get_storage().local_file(region["mask_key"]).read_bytes()
