"""Exports of registered models: a zip per (model, format), built once from the artifact by
`trainers.export` and kept in storage next to it; ONNX Runtime deployments load the same
`model.onnx`."""
from __future__ import annotations

import logging
import tempfile
import threading
import zipfile
from pathlib import Path

from django.conf import settings

from platform_api.problems import Conflict, Invalid
from platform_api.registry.models import ModelVersion
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


def export_zip(model_version: ModelVersion, fmt: str) -> Path:
    """The local path of the model's export in `fmt` (pytorch or onnx), built on first use."""
    if fmt not in FORMATS:
        raise Invalid({"format": [f"must be one of {', '.join(FORMATS)}, got {fmt!r}"]})
    return _ensure(model_version.artifact_key, fmt, zip_key(model_version.artifact_key, fmt))


def onnx_file(artifact_key: str) -> Path:
    """The local path of the artifact's `model.onnx`, exported on first use."""
    return _ensure(artifact_key, "onnx", onnx_key(artifact_key))


def _ensure(artifact_key: str, fmt: str, key: str) -> Path:
    storage = get_storage()
    with _build_lock:
        if not storage.exists(key):
            _build(artifact_key, fmt)
    return storage.local_file(key)


def _build(artifact_key: str, fmt: str) -> None:
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
        if fmt == "onnx":
            storage.save_file(onnx_key(artifact_key), folder / ONNX_FILE, move=True)
        storage.save_file(zip_key(artifact_key, fmt), archive, move=True)
    log.info("exported %s to %s", artifact_key, fmt)


def download_name(model_version: ModelVersion, fmt: str) -> str:
    return f"model-{model_version.pk}-{fmt}.zip"
