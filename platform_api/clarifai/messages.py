"""Rows of the Clarifai side -> clarifai-grpc messages: apps, concepts, inputs, datasets and
dataset versions (model_messages.py: model types, models, versions, outputs)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from clarifai_grpc.grpc.api import resources_pb2 as pb
from google.protobuf import struct_pb2, timestamp_pb2, wrappers_pb2

from platform_api.clarifai.inputs import image_bytes, mask_bytes
from platform_api.clarifai.models import App, ClarifaiDataset, Concept, DatasetVersion, Input
from platform_api.clarifai.status import dataset_version_status, input_stored

FORMATS = {"jpg": "JPEG", "png": "PNG", "bmp": "BMP", "webp": "WEBP", "gif": "GIF", "tif": "TIFF"}


def timestamp(moment: datetime | None) -> timestamp_pb2.Timestamp | None:
    if moment is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def struct(values: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(values)
    return message


def app_message(app: App) -> pb.App:
    return pb.App(id=app.app_id, name=app.name or app.app_id, user_id=app.owner.get_username(),
                  description=app.description, created_at=timestamp(app.created_at),
                  modified_at=timestamp(app.modified_at))


def concept_message(concept: Concept) -> pb.Concept:
    return pb.Concept(id=concept.concept_id, name=concept.name, app_id=concept.app.app_id,
                      user_id=concept.app.owner.get_username(), created_at=timestamp(concept.created_at))


def label(concept_id: str, value: float, names: dict[str, str]) -> pb.Concept:
    return pb.Concept(id=concept_id, name=names.get(concept_id, concept_id), value=value)


def input_message(row: Input, names: dict[str, str], with_bytes: bool = False) -> pb.Input:
    """The input as stored; image and mask bytes only when asked for (GetInput), so
    listings stay small."""
    image = pb.Image(image_info=pb.ImageInfo(width=row.width, height=row.height,
                                             format=FORMATS.get(row.image_format, row.image_format)))
    if with_bytes:
        image.base64 = image_bytes(row)
    return pb.Input(
        id=row.input_id, created_at=timestamp(row.created_at), modified_at=timestamp(row.created_at),
        status=input_stored(), dataset_ids=[d.dataset_id for d in row.datasets.all()],
        data=pb.Data(image=image,
                     concepts=[label(c["id"], c["value"], names) for c in row.concepts],
                     regions=[_region(region, names, with_bytes) for region in row.regions]),
    )


def _region(region: dict, names: dict[str, str], with_bytes: bool) -> pb.Region:
    if "polygon" in region:
        info = pb.RegionInfo(polygon=pb.Polygon(points=[pb.Point(row=row, col=col) for row, col in region["polygon"]]))
    else:
        info = pb.RegionInfo(mask=pb.Mask(image=pb.Image(base64=mask_bytes(region) if with_bytes else b"")))
    return pb.Region(id=region["id"], region_info=info, data=pb.Data(concepts=[label(region["concept"], 1.0, names)]))


def dataset_message(dataset: ClarifaiDataset, latest: DatasetVersion | None) -> pb.Dataset:
    app = dataset.app
    return pb.Dataset(id=dataset.dataset_id, app_id=app.app_id, user_id=app.owner.get_username(),
                      description=dataset.description, created_at=timestamp(dataset.created_at),
                      modified_at=timestamp(dataset.modified_at),
                      version=dataset_version_message(latest) if latest else None)


# The version's counts (frozen_archive.py) under Clarifai's metric names.
VERSION_METRICS = {
    "inputs": "inputs_count", "unlabeled_inputs": "unlabeled_inputs_count",
    "positive_tags": "positive_input_tags_count", "region_inputs": "region_inputs_count",
    "regions": "regions_count", "polygons": "polygons_count", "masks": "masks_count",
    "positive_region_tags": "positive_region_tags_count",
}


def dataset_version_message(version: DatasetVersion) -> pb.DatasetVersion:
    """Counts under `metrics`: "/" the whole version, "/split/<name>" its train/valid
    split, "/concept/<id>" each concept's positives."""
    dataset, counts = version.dataset, version.counts
    segmentation = "regions" in counts
    metrics = {"/": _metrics({VERSION_METRICS[k]: v for k, v in counts.items() if k in VERSION_METRICS})}
    for split, n in counts.get("splits", {}).items():
        metrics[f"/split/{split}"] = _metrics({"inputs_count": n})
    for concept_id, n in counts.get("concepts", {}).items():
        key = "positive_region_tags_count" if segmentation else "positive_input_tags_count"
        metrics[f"/concept/{concept_id}"] = _metrics({key: n})
    return pb.DatasetVersion(
        id=version.version_id, dataset_id=dataset.dataset_id, app_id=dataset.app.app_id,
        user_id=dataset.app.owner.get_username(), description=version.description,
        created_at=timestamp(version.created_at), modified_at=timestamp(version.created_at),
        status=dataset_version_status(version), metrics=metrics,
        metadata=struct({"platform_dataset_id": version.platform_dataset_id, "splits": counts.get("splits", {})}),
    )


def _metrics(counts: dict[str, int]) -> pb.DatasetVersionMetrics:
    return pb.DatasetVersionMetrics(**{name: wrappers_pb2.UInt64Value(value=n) for name, n in counts.items()})
