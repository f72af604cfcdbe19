"""Models held in memory by this web process, one per ready deployment.

A deployment's predictor is built from its artifact once; predict requests only run it.
Each web process loads a deployment the first time it needs it (at deploy time in the
process that took the request), never again while it stays deployed.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from django.conf import settings

from platform_api.storage import get_storage
from trainers.registry import load_predictor

log = logging.getLogger(__name__)


@dataclass
class LoadedModel:
    predictor: object
    lock: threading.Lock = field(default_factory=threading.Lock)


# Keyed by deployment and artifact, so a reused id can never serve another model.
_models: dict[tuple[int, str], LoadedModel] = {}
_registry_lock = threading.Lock()
load_count = 0  # loads from storage in this process; tests check models are not reloaded


def get_or_load(deployment_id: int, artifact_key: str) -> LoadedModel:
    global load_count
    key = (deployment_id, artifact_key)
    loaded = _models.get(key)
    if loaded is not None:
        return loaded
    with _registry_lock:
        loaded = _models.get(key)
        if loaded is None:
            artifact_dir = get_storage().local_dir(artifact_key)
            loaded = LoadedModel(predictor=load_predictor(artifact_dir, precision=settings.PREDICT_PRECISION))
            _models[key] = loaded
            load_count += 1
            log.info("deployment %s: model loaded from %s", deployment_id, artifact_key)
    return loaded


def unload(deployment_id: int) -> None:
    with _registry_lock:
        for key in [key for key in _models if key[0] == deployment_id]:
            del _models[key]


def keep_only(deployment_ids: set[int]) -> list[int]:
    """Frees every model whose deployment is not in `deployment_ids`; returns their ids."""
    with _registry_lock:
        gone = [key for key in _models if key[0] not in deployment_ids]
        for key in gone:
            del _models[key]
    return sorted({deployment_id for deployment_id, _ in gone})


def predict(deployment_id: int, artifact_key: str, images: list) -> list:
    loaded = get_or_load(deployment_id, artifact_key)
    with loaded.lock:  # one batch at a time per model keeps memory bounded
        return loaded.predictor.predict(images)
