"""Exports of registered models, kept as a cache: a zip per (model, format), built from the
artifact by `trainers.export` on first use and kept in storage next to it (ONNX Runtime
deployments load the same `model.onnx`). An `Export` row records each one's size and last
use; past EXPORT_CACHE_BYTES in all, the least recently used are dropped, and rebuilt when
asked for again."""
from __future__ import annotations

import logging
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from platform_api.problems import Conflict, Invalid
from platform_api.registry.models import Export, ModelVersion
from platform_api.storage import get_storage
from trainers.core import TrainerError
from trainers.export import FORMATS, ONNX_FILE

log = logging.getLogger(__name__)

# One build at a time in this process (exports are rare); other processes may build the same
# one at the same time, harmlessly: storage replaces a key whole.
_build_lock = threading.Lock()


def export_model(artifact_dir: Path, fmt: str, out_dir: Path) -> None:
    """trainers.export.export_model, imported with the first export: torch and onnx take a
    second and a half to load, which a process that never exports should not pay."""
    from trainers.export import export_model as write_export

    write_export(artifact_dir, fmt, out_dir)


def zip_key(artifact_key: str, fmt: str) -> str:
    return f"exports/{artifact_key}/{fmt}.zip"


def onnx_key(artifact_key: str) -> str:
    return f"exports/{artifact_key}/{ONNX_FILE}"


def _keys(artifact_key: str, fmt: str) -> list[str]:
    return [zip_key(artifact_key, fmt)] + ([onnx_key(artifact_key)] if fmt == "onnx" else [])


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise Invalid({"format": [f"must be one of {', '.join(FORMATS)}, got {fmt!r}"]})
    return fmt


def open_export(model_version: ModelVersion, fmt: str) -> BinaryIO:
    """The model's export in `fmt` (pytorch or onnx), opened for reading; built on first use.
    An open file stays readable if the cache drops it meanwhile."""
    check_format(fmt)
    for attempt in (1, 2):
        path = _ensure(model_version, fmt, zip_key(model_version.artifact_key, fmt))
        try:
            return path.open("rb")
        except FileNotFoundError:  # dropped between the build and the open by another request
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def onnx_file(artifact_key: str) -> Path:
    """The local path of the artifact's `model.onnx`, exported on first use."""
    model_version = ModelVersion.objects.filter(artifact_key=artifact_key).first()
    if model_version is None:
        raise FileNotFoundError(f"no model has the artifact {artifact_key!r}")
    return _ensure(model_version, "onnx", onnx_key(artifact_key))


def _ensure(model_version: ModelVersion, fmt: str, key: str) -> Path:
    storage = get_storage()
    with _build_lock:
        if all(storage.exists(part) for part in _keys(model_version.artifact_key, fmt)):
            try:
                _record_use(model_version, fmt)
                return storage.local_file(key)
            except FileNotFoundError:  # another process dropped it meanwhile: build it again
                pass
        size = _build(model_version.artifact_key, fmt)
        _record_build(model_version, fmt, size)
        drop_least_recently_used(keep=(model_version.pk, fmt))
        return storage.local_file(key)


def _build(artifact_key: str, fmt: str) -> int:
    """Builds and stores the export; its size in bytes."""
    storage = get_storage()
    with tempfile.TemporaryDirectory(dir=settings.DATA_DIR / "tmp", prefix="export-") as tmp:
        folder = Path(tmp) / "model"
        try:
            export_model(storage.local_dir(artifact_key), fmt, folder)
        except TrainerError as exc:
            raise Conflict(f"this model cannot be exported to {fmt}: {exc.message}", exc.code) from exc
        archive = Path(tmp) / f"{fmt}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zipped:
            for path in sorted(folder.iterdir()):
                zipped.write(path, path.name)
        size = archive.stat().st_size
        if fmt == "onnx":
            size += (folder / ONNX_FILE).stat().st_size
            storage.save_file(onnx_key(artifact_key), folder / ONNX_FILE, move=True)
        storage.save_file(zip_key(artifact_key, fmt), archive, move=True)
    log.info("exported %s to %s (%d bytes)", artifact_key, fmt, size)
    return size


def _record_build(model_version: ModelVersion, fmt: str, size: int) -> None:
    now = timezone.now()
    try:
        with transaction.atomic():
            Export.objects.update_or_create(model_version_id=model_version.pk, format=fmt,
                                            defaults=dict(size_bytes=size, last_used_at=now))
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
