"""Exports of registered models, kept as a cache: a zip per (model, format), built from the
artifact by `trainers.export` on first use and kept in storage next to it (ONNX Runtime
deployments load the same `model.onnx`). An `Export` row records each one's size and last
use; past EXPORT_CACHE_BYTES in all, the least recently used are dropped, and rebuilt when
asked for again."""
from __future__ import annotations

import json
import logging
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from platform_api.datasets.services import local_dataset_dir
from platform_api.problems import Conflict, Invalid
from platform_api.registry.models import Export, ModelVersion
from platform_api.storage import get_storage
from trainers.core import INT8_RUNTIME, TrainerError
from trainers.export import FORMATS, INT8_FILE, ONNX_FILE, RUNTIME_FORMATS
from trainers.families import family

log = logging.getLogger(__name__)

# One build at a time in this process (exports are rare); other processes may build the same
# one at the same time, harmlessly: storage replaces a key whole.
_build_lock = threading.Lock()


def export_model(artifact_dir: Path, fmt: str, out_dir: Path, dataset_dir: Path | None = None) -> None:
    """trainers.export.export_model, imported with the first export: torch and onnx take a
    second and a half to load, which a process that never exports should not pay. An INT8
    export reads the model's dataset (`dataset_dir`): calibration images and the gate's split."""
    from trainers.core import DatasetSpec
    from trainers.export import export_model as write_export

    write_export(artifact_dir, fmt, out_dir, dataset=DatasetSpec.load(dataset_dir) if dataset_dir else None,
                 max_drop_points=settings.QUANTIZED_MAX_METRIC_DROP)


def zip_key(artifact_key: str, fmt: str) -> str:
    return f"exports/{artifact_key}/{fmt}.zip"


def onnx_key(artifact_key: str, fmt: str = "onnx") -> str:
    """Where the graph a deployment loads is kept: the fp32 `model.onnx`, or the INT8 one."""
    return f"exports/{artifact_key}/{INT8_FILE if fmt == 'onnx-int8' else ONNX_FILE}"


def _keys(artifact_key: str, fmt: str) -> list[str]:
    return [zip_key(artifact_key, fmt)] + ([onnx_key(artifact_key, fmt)] if fmt != "pytorch" else [])


def check_format(fmt: str, model_version: ModelVersion | None = None) -> str:
    if fmt not in FORMATS:
        raise Invalid({"format": [f"must be one of {', '.join(FORMATS)}, got {fmt!r}"]})
    if fmt == "onnx-int8" and model_version is not None:
        refusal = int8_refusal(model_version)
        if refusal:
            raise Invalid({"format": [refusal]})
    return fmt


def int8_refusal(model_version: ModelVersion) -> str | None:
    """Why the model's family is not served in INT8, or None."""
    try:
        return family(model_version.trainer).int8_refusal
    except TrainerError as exc:
        return exc.message


def open_export(model_version: ModelVersion, fmt: str) -> BinaryIO:
    """The model's export in `fmt` (pytorch, onnx or onnx-int8), opened for reading; built on
    first use. An open file stays readable if the cache drops it meanwhile."""
    check_format(fmt, model_version)
    for attempt in (1, 2):
        path = _ensure(model_version, fmt, zip_key(model_version.artifact_key, fmt))
        try:
            return path.open("rb")
        except FileNotFoundError:  # dropped between the build and the open by another request
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def onnx_file(artifact_key: str, runtime: str = "onnxruntime") -> Path:
    """The local path of the ONNX graph `runtime` loads (fp32, or INT8 past its gate), exported
    on first use."""
    model_version = ModelVersion.objects.filter(artifact_key=artifact_key).first()
    if model_version is None:
        raise FileNotFoundError(f"no model has the artifact {artifact_key!r}")
    fmt = RUNTIME_FORMATS[runtime]
    check_format(fmt, model_version)
    return _ensure(model_version, fmt, onnx_key(artifact_key, fmt))


def predictor(artifact_key: str, runtime: str):
    """The artifact's predictor in `runtime`: ONNX Runtime on its fp32 or INT8 graph (built on first
    use; INT8 past its gate), or torch in PREDICT_PRECISION. What deployments serve and
    evaluations score with."""
    from trainers.export import load_onnx_predictor  # torch and the runtimes load with the first model
    from trainers.families import load_predictor

    artifact_dir = get_storage().local_dir(artifact_key)
    if runtime in RUNTIME_FORMATS:
        return load_onnx_predictor(artifact_dir, onnx_file(artifact_key, runtime))
    return load_predictor(artifact_dir, precision=settings.PREDICT_PRECISION)


def int8_figures(model_version: ModelVersion) -> dict:
    """The INT8 export's gate figures, building it (and so running its gate) if need be."""
    onnx_file(model_version.artifact_key, INT8_RUNTIME)
    export = model_version.exports.filter(format="onnx-int8").first()
    return export.figures if export is not None else {}


def _ensure(model_version: ModelVersion, fmt: str, key: str) -> Path:
    storage = get_storage()
    with _build_lock:
        if all(storage.exists(part) for part in _keys(model_version.artifact_key, fmt)):
            try:
                _record_use(model_version, fmt)
                return storage.local_file(key)
            except FileNotFoundError:  # another process dropped it meanwhile: build it again
                pass
        size, figures = _build(model_version, fmt)
        _record_build(model_version, fmt, size, figures)
        drop_least_recently_used(keep=(model_version.pk, fmt))
        return storage.local_file(key)


def _build(model_version: ModelVersion, fmt: str) -> tuple[int, dict]:
    """Builds and stores the export; (its size in bytes, its INT8 gate's figures or {})."""
    artifact_key = model_version.artifact_key
    storage = get_storage()
    with tempfile.TemporaryDirectory(dir=settings.DATA_DIR / "tmp", prefix="export-") as tmp:
        folder = Path(tmp) / "model"
        try:
            export_model(storage.local_dir(artifact_key), fmt, folder,
                         local_dataset_dir(model_version.dataset) if fmt == "onnx-int8" else None)
        except TrainerError as exc:
            raise Conflict(f"this model cannot be exported to {fmt}: {exc.message}", exc.code) from exc
        figures = json.loads((folder / "config.json").read_text()).get("quantization") or {}
        archive = Path(tmp) / f"{fmt}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zipped:
            for path in sorted(folder.iterdir()):
                zipped.write(path, path.name)
        size = archive.stat().st_size
        if fmt != "pytorch":
            size += (folder / ONNX_FILE).stat().st_size
            storage.save_file(onnx_key(artifact_key, fmt), folder / ONNX_FILE, move=True)
        storage.save_file(zip_key(artifact_key, fmt), archive, move=True)
    log.info("exported %s to %s (%d bytes)%s", artifact_key, fmt, size, f"; gate: {figures}" if figures else "")
    return size, figures


def _record_build(model_version: ModelVersion, fmt: str, size: int, figures: dict | None = None) -> None:
    now = timezone.now()
    try:
        with transaction.atomic():
            Export.objects.update_or_create(model_version_id=model_version.pk, format=fmt,
                                            defaults=dict(size_bytes=size, last_used_at=now,
                                                          **({"figures": figures} if figures is not None else {})))
    except IntegrityError:  # the model was deleted while its export was built: drop the files
        for key in _keys(model_version.artifact_key, fmt):
            get_storage().delete(key)
        raise Conflict(f"model {model_version.pk} was deleted", "model_deleted") from None


def _record_use(model_version: ModelVersion, fmt: str) -> None:
    touched = Export.objects.filter(model_version_id=model_version.pk, format=fmt).update(last_used_at=timezone.now())
    if not touched:  # stored before exports were counted (or its row was dropped meanwhile): count it now
        storage = get_storage()
        size = sum(storage.local_file(key).stat().st_size for key in _keys(model_version.artifact_key, fmt))
        _record_build(model_version, fmt, size)


def drop_least_recently_used(keep: tuple[int, str] | None = None) -> list[Export]:
    """Drops exports, least recently used first, until all of them fit EXPORT_CACHE_BYTES;
    never `keep` (model id, format), the one a request is about to hand out."""
    entries = list(Export.objects.select_related("model_version").order_by("last_used_at", "id"))
    total = sum(entry.size_bytes for entry in entries)
    dropped = []
    for entry in entries:
        if total <= settings.EXPORT_CACHE_BYTES:
            break
        if (entry.model_version_id, entry.format) == keep:
            continue
        drop(entry)
        total -= entry.size_bytes
        dropped.append(entry)
    if dropped:
        log.info("export cache over EXPORT_CACHE_BYTES (%d): dropped %s", settings.EXPORT_CACHE_BYTES,
                 ", ".join(map(str, dropped)))
    return dropped


def drop(entry: Export) -> bool:
    """Deletes the export's row, then its files; False when it was already gone."""
    deleted = Export.objects.filter(pk=entry.pk).delete()[0]
    if deleted:
        for key in _keys(entry.model_version.artifact_key, entry.format):
            get_storage().delete(key)
    return bool(deleted)


def delete_export(model_version: ModelVersion, fmt: str) -> bool:
    """DELETE of one export: False when none is stored."""
    check_format(fmt)
    storage = get_storage()
    with _build_lock:
        entry = Export.objects.filter(model_version=model_version, format=fmt).select_related("model_version").first()
        if entry is not None:
            return drop(entry)
        stored = [key for key in _keys(model_version.artifact_key, fmt) if storage.exists(key)]
        for key in stored:  # stored before exports were counted
            storage.delete(key)
        return bool(stored)


def download_name(model_version: ModelVersion, fmt: str) -> str:
    return f"model-{model_version.pk}-{fmt}.zip"
