"""A succeeded job's model: its files saved, the job ended and its model version recorded in
one transaction."""
from __future__ import annotations

import logging
import uuid

from django.db import transaction

from platform_api.registry.services import record_model_version
from platform_api.storage import get_storage
from platform_api.training.lifecycle import finish
from platform_api.training.models import Job
from trainers.core import FitResult

log = logging.getLogger(__name__)


def register_model(job: Job, owner: str, result: FitResult) -> None:
    # A key of this attempt's own: a worker that lost its lease while saving can never
    # overwrite the files of the model its successor registered.
    artifact_key = f"models/job-{job.pk}-{uuid.uuid4().hex[:12]}"
    storage = get_storage()
    try:
        storage.save_dir(result.artifact_dir, artifact_key)
    except BaseException:  # a full disk, say: no half-copied model is left in storage
        storage.delete(artifact_key)
        raise
    with transaction.atomic():
        # The job keeps its latest evaluation's metrics (API.md); the model has the best epoch's.
        registered = finish(job.pk, owner, Job.Status.SUCCEEDED)
        if registered:
            record_model_version(job, artifact_key, result.metrics)
            progress = Job.objects.filter(pk=job.pk).values_list("progress", flat=True).first() or {}
            Job.objects.filter(pk=job.pk).update(progress={**progress, "percent": 100.0, "eta_seconds": 0})
    if not registered:
        log.warning("job %s: lease lost before the model was registered; leaving it to its new owner", job.pk)
        storage.delete(artifact_key)
        return
    log.info("job %s succeeded (best epoch %s)", job.pk, result.best_epoch)
