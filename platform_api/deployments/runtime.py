"""Models held in memory by this web process, one per ready deployment.

A deployment's predictor is built from its artifact once, in the deployment's runtime
(torch eager, or ONNX Runtime on the artifact's fp32 or INT8 export: registry.exports.predictor;
`auto` probes them and keeps the fastest); predict requests
only run it, through the model's batcher (batching.py): concurrent requests share forward
passes and the queue in front of the model is bounded. A request preprocesses its images and
post-processes its results in its own thread (`prepare`, `finish`), so the batch thread runs
forward passes back to back. Each web process loads a deployment
the first time it needs it (at deploy time in the process that took the request), never
again while it stays deployed: a model exists once per web process that serves it.
"""
from __future__ import annotations

import logging
import threading

from typing import TYPE_CHECKING

import numpy as np
from django.conf import settings

from platform_api.deployments.batching import Batcher
from platform_api.deployments.models import AUTO_RUNTIME
from platform_api.problems import Conflict, Invalid
from platform_api.registry import exports
from trainers.core import RUNTIMES, TrainerError

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)


class LoadedModel:
    def __init__(self, predictor, runtime: str, name: str, probe: dict | None = None):
        self.predictor = predictor
        self.runtime = runtime  # the one serving it (auto's choice for an auto deployment)
        self.probe = probe or {}
        self.batcher = Batcher(self._forward, window_s=settings.PREDICT_BATCH_WINDOW_MS / 1000,
                               max_batch=settings.PREDICT_MAX_BATCH, queue_limit=settings.PREDICT_QUEUE_IMAGES,
                               name=name)

    def prepare(self, images: list) -> torch.Tensor:
        """The request's images as the graph's input batch (in the request's thread)."""
        return self.predictor.exportable.preprocess(images)

    def finish(self, outputs: dict[str, torch.Tensor], images: list, options: dict | None = None) -> list:
        """The request's predictions from its share of a forward pass (in the request's thread),
        under its own options (predict_options.py)."""
        return self.predictor.exportable.postprocess(outputs, images, options)

    def _forward(self, inputs: list[torch.Tensor]) -> list[dict[str, torch.Tensor]]:
        """One forward pass over several requests' inputs; each request's rows of every output."""
        # NumPy's copy on one core, not torch.cat's threads (see trainers/data/classification.py).
        import torch  # loaded with the first model, never by a process that serves none

        batch = inputs[0] if len(inputs) == 1 else torch.from_numpy(np.concatenate([x.numpy() for x in inputs]))
        outputs = self.predictor.outputs(batch)  # looked up at each batch: tests wrap it
        sizes = [len(request) for request in inputs]
        return [dict(zip(outputs, rows)) for rows in zip(*(output.split(sizes) for output in outputs.values()))]


# Keyed by deployment and artifact, so a reused id can never serve another model.
_models: dict[tuple[int, str], LoadedModel] = {}
_models_lock = threading.Lock()
load_count = 0  # loads from storage in this process; tests check models are not reloaded


def get_or_load(deployment_id: int, artifact_key: str, runtime: str | None = None) -> LoadedModel:
    """The deployment's model, loaded in `runtime` (default PREDICT_RUNTIME) if not yet here."""
    global load_count
    key = (deployment_id, artifact_key)
    loaded = _models.get(key)
    if loaded is not None:
        return loaded
    with _models_lock:
        loaded = _models.get(key)
        if loaded is None:
            runtime = runtime or settings.PREDICT_RUNTIME
            loaded = _load(deployment_id, artifact_key, runtime)
            _models[key] = loaded
            load_count += 1
            log.info("deployment %s: model loaded from %s in %s", deployment_id, artifact_key, runtime)
    return loaded


def _load(deployment_id: int, artifact_key: str, runtime: str) -> LoadedModel:
    name = f"deployment-{deployment_id}"
    if runtime == AUTO_RUNTIME:
        chosen, predictor, probe = _fastest(artifact_key)
        log.info("deployment %s: auto chose %s (images/s at batch 1: %s)", deployment_id, chosen, probe)
        return LoadedModel(predictor, chosen, name, probe)
    return LoadedModel(exports.predictor(artifact_key, runtime), runtime, name)


def _fastest(artifact_key: str) -> tuple[str, object, dict]:
    """(runtime, its predictor, the probe): of the runtimes this model may be served in, the
    fastest at batch 1 here, as a short timed probe measures it. INT8 is a candidate once it
    passes its accuracy gate (built now if need be); a candidate that cannot load is left out,
    with its reason in the probe."""
    from trainers.export import images_per_second

    speeds, reasons, loaded = {}, {}, {}
    for candidate in RUNTIMES:
        try:
            loaded_predictor = exports.predictor(artifact_key, candidate)
        except (Conflict, Invalid, TrainerError) as exc:  # a family that does not quantize; a failed gate
            reasons[candidate] = getattr(exc, "message", None) or str(exc)
            continue
        loaded[candidate] = loaded_predictor
        speeds[candidate] = round(images_per_second(loaded_predictor, loaded_predictor.exportable), 2)
    chosen = max(speeds, key=speeds.get)
    return chosen, loaded[chosen], {"images_per_s_batch_1": speeds, "left_out": reasons, "chose": chosen}


def unload(deployment_id: int) -> None:
    with _models_lock:
        gone = [_models.pop(key) for key in [key for key in _models if key[0] == deployment_id]]
    for loaded in gone:
        loaded.batcher.close()


def keep_only(deployment_ids: set[int]) -> list[int]:
    """Frees every model whose deployment is not in `deployment_ids`; returns their ids."""
    with _models_lock:
        gone = {key: _models.pop(key) for key in [key for key in _models if key[0] not in deployment_ids]}
    for loaded in gone.values():
        loaded.batcher.close()
    return sorted({deployment_id for deployment_id, _ in gone})


def loaded(deployment_id: int, artifact_key: str) -> LoadedModel | None:
    return _models.get((deployment_id, artifact_key))
