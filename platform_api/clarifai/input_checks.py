"""Everything a PostInputs request sends, checked before anything is stored: each problem
is named by its field (`inputs[3].data.regions[0].region_info.mask`), all of them at once."""
from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from platform_api.clarifai.models import App, Input
from platform_api.clarifai.namespace import check_id, id_or_new
from platform_api.deployments.services import BadImages, decode_images
from platform_api.problems import Invalid
from trainers.data.masks import decode_mask

# Formats the dataset importers read, by the extension an image is stored under.
EXTENSIONS = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "BMP": "bmp", "WEBP": "webp", "GIF": "gif", "TIFF": "tif"}
NO_URLS = ("this server does not download images: send the image bytes as data.image.base64 "
           "(the SDK's get_input_from_bytes / get_input_from_file do)")


@dataclass
class NewRegion:
    region_id: str
    concepts: list[tuple[str, str, float]]  # (id, name, value)
    polygon: list[tuple[float, float]] | None = None  # (row, col), normalised
    mask: bytes | None = None  # image bytes; a pixel is inside where its gray level is >= 128
    has_box_only: bool = False


@dataclass
class NewInput:
    input_id: str
    image: bytes
    url: str
    concepts: list[tuple[str, str, float]]  # (id, name, value)
    regions: list[NewRegion] = field(default_factory=list)
    dataset_ids: list[str] = field(default_factory=list)


@dataclass
class Checked:
    new: NewInput
    input_id: str
    extension: str
    width: int
    height: int
    masks: dict[int, np.ndarray]  # region index -> boolean mask


def check_inputs(app: App, new_inputs: list[NewInput]) -> list[Checked]:
    """The inputs ready to store; raises Invalid naming every problem."""
    errors: dict[str, list[str]] = {}
    checked = [_check(index, new, errors) for index, new in enumerate(new_inputs)]
    _check_unique_ids(app, checked, errors)
    if errors:
        raise Invalid(errors)
    return checked


def _check(index: int, new: NewInput, errors: dict) -> Checked | None:
    where = f"inputs[{index}]"
    problems_before = len(errors)
    input_id = _checked(errors, lambda: id_or_new(f"{where}.id", new.input_id))
    for n, (concept_id, _, value) in enumerate(new.concepts):
        _check_label(errors, f"{where}.data.concepts[{n}]", concept_id, value)
    if len({c[0] for c in new.concepts}) != len(new.concepts):
        errors[f"{where}.data.concepts"] = ["names a concept twice"]
    if new.url:
        errors[f"{where}.data.image.url"] = [NO_URLS]
        return None
    if not new.image:
        errors[f"{where}.data.image"] = ["send the image as data.image.base64"]
        return None
    try:
        image = decode_images([new.image], field="image")[0]
    except BadImages as exc:
        errors[f"{where}.data.image"] = [message for messages in exc.errors["image"].values() for message in messages]
        return None
    extension = EXTENSIONS.get(Image.open(io.BytesIO(new.image)).format or "")
    if extension is None:
        errors[f"{where}.data.image"] = ["the format must be JPEG, PNG, BMP, WEBP, GIF or TIFF"]
        return None
    width, height = image.size  # upright: regions are drawn on the image as people see it
    masks = {}
    for n, region in enumerate(new.regions):
        mask = _check_region(errors, f"{where}.data.regions[{n}]", region, width, height)
        if mask is not None:
            masks[n] = mask
    if len(errors) > problems_before:
        return None
    return Checked(new, input_id, extension, width, height, masks)


def _checked(errors: dict, value_of):
    """value_of(), or None with its Invalid's messages added to `errors`."""
    try:
        return value_of()
    except Invalid as exc:
        errors.update(exc.errors)
        return None


def _check_label(errors: dict, where: str, concept_id: str, value: float) -> None:
    valid_id = _checked(errors, lambda: check_id(f"{where}.id", concept_id))
    if valid_id is not None and value not in (0.0, 1.0):
        errors[f"{where}.value"] = [f"must be 1 (positive) or 0 (negative), got {value}"]


def _check_region(errors: dict, where: str, region: NewRegion, width: int, height: int) -> np.ndarray | None:
    if region.region_id:
        _checked(errors, lambda: check_id(f"{where}.id", region.region_id))
    positives = [c for c in region.concepts if c[2] == 1.0]
    for n, (concept_id, _, value) in enumerate(region.concepts):
        _check_label(errors, f"{where}.data.concepts[{n}]", concept_id, value)
    if len(positives) != 1:
        errors[f"{where}.data.concepts"] = [f"a region needs exactly one positive concept (value 1), got {len(positives)}"]
    if region.polygon is not None:
        if len(region.polygon) < 3:
            errors[f"{where}.region_info.polygon"] = [f"needs 3 or more points, got {len(region.polygon)}"]
        elif not all(0.0 <= row <= 1.0 and 0.0 <= col <= 1.0 for row, col in region.polygon):
            errors[f"{where}.region_info.polygon"] = ["points have row and col normalised to the image: from 0 to 1"]
        return None
    if region.mask is not None:
        return _checked_mask(errors, f"{where}.region_info.mask", region.mask, width, height)
    what = "only a bounding box" if region.has_box_only else "no shape"
    errors[f"{where}.region_info"] = [f"has {what}; a segmentation region needs a polygon or a mask"]
    return None


def _checked_mask(errors: dict, where: str, raw: bytes, width: int, height: int) -> np.ndarray | None:
    try:
        size = Image.open(io.BytesIO(raw)).size
    except Exception as exc:  # PIL raises many types for bytes that are no image
        errors[where] = [f"cannot decode the mask image: {exc}"]
        return None
    if size != (width, height):
        errors[where] = [f"is {size[0]}x{size[1]}; the mask must be the image's size, {width}x{height}"]
        return None
    mask = decode_mask(base64.b64encode(raw).decode("ascii"))  # the predictors' own mask rule
    if not mask.any():
        errors[where] = ["is empty: no pixel is inside (gray level >= 128)"]
        return None
    return mask


def _check_unique_ids(app: App, checked: list[Checked | None], errors: dict) -> None:
    ids = [c.input_id for c in checked if c is not None]
    taken = set(Input.objects.filter(app=app, input_id__in=ids).values_list("input_id", flat=True))
    seen = set()
    for index, item in enumerate(checked):
        if item is None:
            continue
        if item.input_id in taken:
            errors[f"inputs[{index}].id"] = [f"input '{item.input_id}' already exists in app '{app.app_id}'"]
        elif item.input_id in seen:
            errors[f"inputs[{index}].id"] = [f"input '{item.input_id}' is sent twice"]
        seen.add(item.input_id)


