"""Deploying model versions and running predictions."""
from __future__ import annotations

import base64
import binascii
import io
import logging
import math
import threading
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from platform_api.deployments import runtime
from platform_api.deployments.batching import Closed, QueueFull, Withdrawn
from platform_api.deployments.predict_options import check_applies
from platform_api.problems import ClientGone, Conflict, Invalid, Unavailable
from platform_api.deployments.models import DEPLOYMENT_RUNTIMES, Deployment
from platform_api.registry import exports
from platform_api.registry.models import ModelVersion
from platform_api.ttl_cache import TtlCache
from trainers.core import INT8_RUNTIME
from trainers.data.images import unreadable_reason, upright

log = logging.getLogger(__name__)


class BadImages(Invalid):
    """Images a predict request cannot use, under the field the client sent them in."""


def deploy(owner, model_version, runtime_name: str | None = None) -> tuple[Deployment, bool]:
    """The owner's live deployment of this model in this runtime if there is one (False),
    else a new one that loads in the background (True). Refuses a new one past
    MAX_LIVE_DEPLOYMENTS_PER_USER: each holds a copy of its model in memory."""
    runtime_name = runtime_name or settings.PREDICT_RUNTIME
    if runtime_name not in DEPLOYMENT_RUNTIMES:
        raise Invalid({"runtime": [f"must be one of {', '.join(DEPLOYMENT_RUNTIMES)}, got {runtime_name!r}"]})
    if runtime_name == INT8_RUNTIME:
        _check_int8(model_version)
    with transaction.atomic():
        # Locking the owner's row makes one user's deploys take turns, so two at once
        # cannot both create a copy or both pass the limit (SQLite's immediate transactions
        # serialise them anyway).
        get_user_model().objects.select_for_update().filter(pk=owner.pk).first()
        # And the model's, so a delete of it either waits for this deploy (and is then
        # refused: the deployment is live) or has happened (and this is refused).
        if not ModelVersion.objects.select_for_update().filter(pk=model_version.pk).exists():
            raise Conflict(f"model {model_version.pk} has been deleted", "model_deleted")
        live = Deployment.objects.filter(owner=owner, status__in=Deployment.LIVE)
        existing = live.filter(model_version=model_version, runtime=runtime_name).order_by("pk").first()
        if existing is not None:
            return existing, False
        limit = settings.MAX_LIVE_DEPLOYMENTS_PER_USER
        if live.count() >= limit:
            raise Conflict(f"you have {limit} live deployments, the most allowed (MAX_LIVE_DEPLOYMENTS_PER_USER); "
                           "stop one (POST /api/v1/deployments/{id}/stop/) to deploy another",
                           "deployment_limit_reached")
        deployment = Deployment.objects.create(owner=owner, model_version=model_version, runtime=runtime_name)
        transaction.on_commit(lambda: _load_in_background(deployment.pk))
    return deployment, True


def _check_int8(model_version) -> None:
    """Before an INT8 deployment exists: the family quantizes (400 otherwise), and the INT8 export,
    built now if need be, passes its accuracy gate (409 accuracy_gate with both figures otherwise)."""
    refusal = exports.int8_refusal(model_version)
    if refusal:
        raise Invalid({"runtime": [refusal]})
    exports.int8_figures(model_version)


def _load_in_background(deployment_id: int) -> None:
    threading.Thread(target=load_deployment, args=(deployment_id,), name=f"load-deployment-{deployment_id}", daemon=True).start()


def resume_pending_loads() -> list[int]:
    """Loads, in this web process, every deployment still pending: one whose loading died
    with the process that started it (a restart or crash) would otherwise stay pending."""
    try:
        pending = list(Deployment.objects.filter(status=Deployment.Status.PENDING).values_list("pk", flat=True))
    finally:
        connection.close()  # called from a start-up thread: leave no connection behind
    for deployment_id in pending:
        log.info("deployment %s was left pending; loading it", deployment_id)
        _load_in_background(deployment_id)
    return pending


def load_deployment(deployment_id: int) -> None:
    """Loads the model into this process and marks the deployment ready (or failed)."""
    close_old_connections()
    try:
        deployment = Deployment.objects.select_related("model_version").get(pk=deployment_id)
        try:
            loaded = runtime.get_or_load(deployment.pk, deployment.model_version.artifact_key, deployment.runtime)
        except Exception as exc:
            log.exception("deployment %s failed to load", deployment_id)
            Deployment.objects.filter(pk=deployment_id).update(
                status=Deployment.Status.FAILED, error=f"{type(exc).__name__}: {exc}", updated_at=timezone.now()
            )
            return
        Deployment.objects.filter(pk=deployment_id, status=Deployment.Status.PENDING).update(
            status=Deployment.Status.READY, served_runtime=loaded.runtime, probe=loaded.probe, updated_at=timezone.now()
        )
    finally:
        connection.close()


# (owner id, deployment id) -> the ready Deployment, with its model version. A predict's
# lookup through the ORM cost about 2 ms, a quarter of what a request spends outside the
# forward pass (bench/bench_predict_serving.py). Only ready deployments are kept, so one that
# becomes ready serves at once; one stopped through this process is refused at once, through
# another within DEPLOYMENT_CACHE_SECONDS.
_ready = TtlCache(lambda: settings.DEPLOYMENT_CACHE_SECONDS)


def _forget_lookups(deployment_ids: set[int]) -> None:
    _ready.forget_where(lambda key, kept: key[1] in deployment_ids)


def ready_deployment(owner, deployment_id) -> Deployment | None:
    """The owner's deployment to predict with; None if the owner has no such deployment,
    Conflict (deployment_not_ready) if it is pending, failed or stopped."""
    try:
        key = (owner.pk, int(deployment_id))
    except (TypeError, ValueError):
        return None
    deployment = _ready.get(key)
    if deployment is None:
        deployment = Deployment.objects.select_related("model_version").filter(owner=owner, pk=key[1]).first()
        if deployment is None:
            return None
        if deployment.status != Deployment.Status.READY:
            raise Conflict(f"deployment {deployment.pk} is {deployment.status}, not ready", "deployment_not_ready")
        _ready.put(key, deployment)
    return deployment


def stop(deployment: Deployment) -> Deployment:
    Deployment.objects.filter(pk=deployment.pk).update(status=Deployment.Status.STOPPED, updated_at=timezone.now())
    _forget_lookups({deployment.pk})
    runtime.unload(deployment.pk)
    deployment.refresh_from_db()
    return deployment


def decode_images(raw_images: list[bytes | None], errors: dict[str, list[str]] | None = None,
                  field: str = "images") -> list[Image.Image]:
    """Decodes every image or reports each one that fails, by its position, under `field`
    (multipart `image`, JSON `images`).

    `None` entries are images already refused (their message is in `errors`).
    """
    return load_pixels(open_images(raw_images, errors, field), field)


def open_images(raw_images: list[bytes | None], errors: dict[str, list[str]] | None = None,
                field: str = "images") -> list[Image.Image]:
    """Opens every image from its header, decoding no pixel: what is not an image, or is too
    large, is refused (BadImages, by position) before any model or memory is spent on it."""
    errors = dict(errors or {})
    check_count(raw_images, field)
    images = []
    for index, raw in enumerate(raw_images):
        if raw is None:
            continue
        if len(raw) > settings.MAX_PREDICT_IMAGE_BYTES:
            errors[str(index)] = [f"image is {len(raw)} bytes; the limit is {settings.MAX_PREDICT_IMAGE_BYTES}"]
            continue
        try:
            image = Image.open(io.BytesIO(raw))
            width, height = image.size  # from the header, before any pixel is decoded
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
            errors[str(index)] = [f"image {index} is not a readable image: {unreadable_reason(exc)}"]
            continue
        if width * height > settings.MAX_PREDICT_IMAGE_PIXELS:
            errors[str(index)] = [f"image is {width}x{height} pixels; the limit is "
                                  f"{settings.MAX_PREDICT_IMAGE_PIXELS} pixels"]
            continue
        images.append(image)
    _raise_by_position(errors, field)
    return images


def load_pixels(opened: list[Image.Image], field: str = "images") -> list[Image.Image]:
    """The opened images decoded, upright, in RGB; one whose data is broken is refused by position."""
    images, errors = [], {}
    for index, image in enumerate(opened):
        try:
            image.load()
            images.append(upright(image).convert("RGB"))
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            errors[str(index)] = [f"image {index} is not a readable image: {unreadable_reason(exc)}"]
    _raise_by_position(errors, field)
    return images


def _raise_by_position(errors: dict[str, list[str]], field: str) -> None:
    if errors:
        raise BadImages({field: dict(sorted(errors.items(), key=lambda item: int(item[0])))})


def check_count(raw_images: list, field: str = "images") -> None:
    if not raw_images:
        raise BadImages({field: ["send one or more images"]})
    if len(raw_images) > settings.MAX_PREDICT_IMAGES:
        raise BadImages({field: [f"at most {settings.MAX_PREDICT_IMAGES} images per request, got {len(raw_images)}"]})


def decode_base64(items: list) -> tuple[list[bytes | None], dict[str, list[str]]]:
    """Raw bytes per item (None where the item is not base64) and the errors by position."""
    raw, errors = [], {}
    for index, item in enumerate(items):
        if not isinstance(item, str):
            errors[str(index)] = ["must be a base64 string"]
            raw.append(None)
            continue
        if item.strip().lower().startswith(("http://", "https://", "ftp://", "file:")):
            errors[str(index)] = ["is a URL: send the image's bytes (multipart `image`) or base64, not a URL; "
                                  "the platform fetches nothing"]
            raw.append(None)
            continue
        if item.startswith("data:") and "," in item:  # data URLs from browsers
            item = item.split(",", 1)[1]
        try:
            raw.append(base64.b64decode(item, validate=True))
        except (binascii.Error, ValueError):
            errors[str(index)] = ["is not valid base64"]
            raw.append(None)
    return raw, errors


def predict(deployment: Deployment, raw_images: list[bytes | None], errors: dict[str, list[str]] | None = None,
            field: str = "images", client_gone=None, options: dict | None = None) -> list:
    """Predictions for the raw images, in order (see predict_with_images)."""
    return predict_with_images(deployment, raw_images, errors, field, client_gone, options)[1]


def predict_with_images(deployment: Deployment, raw_images: list[bytes | None],
                        errors: dict[str, list[str]] | None = None, field: str = "images",
                        client_gone=None, options: dict | None = None) -> tuple[list[Image.Image], list]:
    """(the decoded upright images, their predictions in order), from a forward pass the
    request may share with others (dynamic batching). What is not an image is refused before
    the model is touched; room in the model's queue is held before the pixels are decoded
    (503 when there is none); `client_gone()` tells whether the client has left, which drops
    the request from its batch. `errors` and `field` are open_images'; `options` the request's
    own threshold, mask_threshold or top_k (predict_options.py), refused if the model takes none."""
    opened = open_images(raw_images, errors, field)
    _forget_stopped_deployments()
    try:
        loaded = _model_of_live(deployment)
        check_applies(options or {}, loaded.predictor.exportable, deployment.model_version.trainer)
        with loaded.batcher.reserve(len(opened)) as reservation:
            images = load_pixels(opened, field)
            ticket = reservation.submit(loaded.prepare(images), len(images), client_gone)
        return images, loaded.finish(ticket.result(), images, options)
    except QueueFull as full:
        raise _busy(deployment, full) from None
    except Withdrawn:
        raise ClientGone() from None
    except Closed:
        raise Conflict(f"deployment {deployment.pk} was stopped", "deployment_not_ready") from None


def _model_of_live(deployment: Deployment) -> runtime.LoadedModel:
    """The deployment's model in this process, loaded if need be, but only while the database
    still says it is live (ready, or pending: the Clarifai front predicts through a deployment
    still loading). A remembered lookup (ready_deployment) may be up to
    DEPLOYMENT_CACHE_SECONDS old, and a stopped deployment's model must not come back."""
    artifact_key = deployment.model_version.artifact_key
    loaded = runtime.loaded(deployment.pk, artifact_key)
    if loaded is None:
        if not Deployment.objects.filter(pk=deployment.pk, status__in=Deployment.LIVE).exists():
            _forget_lookups({deployment.pk})
            raise Closed()  # answered as a model unloaded by a stop
        loaded = runtime.get_or_load(deployment.pk, artifact_key, deployment.runtime)
    return loaded


def _busy(deployment: Deployment, full: QueueFull) -> Unavailable:
    return Unavailable(f"deployment {deployment.pk} has {settings.PREDICT_QUEUE_IMAGES} images waiting, the most "
                       "it queues (PREDICT_QUEUE_IMAGES); retry later", "deployment_busy", math.ceil(full.retry_after_s))


# A deployment stopped through another web process is still in this one's memory: predict
# requests sweep such models out, at most this often.
SWEEP_INTERVAL_S = 30.0
_last_sweep = float("-inf")


def _forget_stopped_deployments() -> None:
    global _last_sweep
    now = time.monotonic()
    if now - _last_sweep < SWEEP_INTERVAL_S:
        return
    _last_sweep = now
    ready = set(Deployment.objects.filter(status=Deployment.Status.READY).values_list("pk", flat=True))
    forgotten = runtime.keep_only(ready)
    if forgotten:
        _forget_lookups(set(forgotten))
        log.info("freed the models of deployments stopped elsewhere: %s", forgotten)
