"""Training jobs: submission, cancellation and recovery of jobs whose worker died."""
from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Max, ProtectedError
from django.utils import timezone

from platform_api.celery import TRAIN_JOB, enqueue, training_queue
from platform_api.datasets.contents import annotation_spec
from platform_api.datasets.models import Dataset
from platform_api.problems import Conflict, InUse, Invalid
from platform_api.registry.services import weights_registered
from platform_api.training.estimates import estimate
from platform_api.training.files import discard_job_files
from platform_api.training.models import Job, TrainingWorker
from platform_api.training.queries import forget_status
from training_templates.models import Template
from training_templates.hyperparameter_specs import HyperparameterErrors
from training_templates.services import resolve_for_template
from trainers.core import TrainerError
from trainers.families import check_hyperparameters, resolve_hyperparameters

log = logging.getLogger(__name__)


# A training worker counts as offering its devices while it announced itself this recently
# (workers/devices.py announces every minute).
WORKER_SEEN_SECONDS = 600

# Progress of a job no worker has started yet (the trainer fills in the plan).
NOT_STARTED = {"percent": 0.0, "epoch": 0, "epochs": None, "step": 0, "steps": None, "eta_seconds": None}


class JobRejected(Invalid):
    """The submission cannot be accepted; `errors` maps request fields to messages."""


def submit_job(owner, template_id: str, dataset_id: int, hyperparameters: dict, name: str = "",
               precision: str = "auto", devices: int = 1) -> Job:
    template, dataset, resolved, spec = check_submission(owner, template_id, dataset_id, hyperparameters, precision,
                                                         devices)
    with transaction.atomic():
        # Locked, as a delete of the dataset locks it: that delete then sees this job, or
        # happened first and this is refused.
        if not Dataset.objects.select_for_update().filter(pk=dataset.pk, status=Dataset.Status.READY).exists():
            raise JobRejected({"dataset": [f"dataset {dataset.pk} has just been deleted"]})
        job = Job.objects.create(
            owner=owner,
            name=name,
            template=template,
            dataset=dataset,
            trainer=template.trainer,
            hyperparameters=resolved,
            hyperparameter_spec=spec,
            requested_precision=precision,
            devices=devices,
            progress=dict(NOT_STARTED),
        )
        transaction.on_commit(lambda: enqueue(TRAIN_JOB, job.pk, queue=training_queue(devices)))
    return job


def estimate_job(owner, template_id: str, dataset_id: int, hyperparameters: dict, precision: str = "auto",
                 devices: int = 1) -> dict:
    """What submit_job would queue, checked as it checks it, and its cost (estimates.py);
    nothing is queued."""
    template, dataset, resolved, _ = check_submission(owner, template_id, dataset_id, hyperparameters, precision,
                                                      devices)
    return estimate(template, annotation_spec(dataset), resolved, devices)


def check_submission(owner, template_id: str, dataset_id: int, hyperparameters: dict, precision: str = "auto",
                     devices: int = 1):
    """(template, dataset, resolved values, their spec) of a submission the platform takes;
    JobRejected naming each field it refuses."""
    template, dataset = submission_target(owner, template_id, dataset_id, precision)
    _check_devices(devices)
    try:
        resolved, spec = resolve_for_template(template, hyperparameters or {})
    except HyperparameterErrors as exc:
        raise JobRejected({"hyperparameters": exc.errors}) from None
    _check_with_the_trainer(owner, template.trainer, resolved, dataset)
    resolved = resolve_hyperparameters(template.trainer, resolved)  # auto values as the job will use them
    return template, dataset, resolved, spec


def submission_target(owner, template_id: str, dataset_id: int, precision: str = "auto"):
    """(template, dataset) a submission names, when the template is active, the dataset is the
    owner's, ready and of a task the template trains, and the precision one it allows."""
    template = Template.objects.filter(pk=template_id).first()
    if template is None:
        raise JobRejected({"template": [f"no template {template_id!r}"]})
    if not template.is_active:
        raise JobRejected({"template": [f"template {template_id!r} is inactive and takes no new jobs"]})
    dataset = Dataset.objects.filter(pk=dataset_id, owner=owner).first()
    if dataset is None:
        raise JobRejected({"dataset": [f"no dataset {dataset_id!r}"]})
    if dataset.status != Dataset.Status.READY:
        raise JobRejected({"dataset": [f"dataset {dataset.pk} is {dataset.status}, not ready"]})
    if dataset.task not in template.dataset_tasks:
        raise JobRejected(
            {"dataset": [f"template {template.pk} trains on {', '.join(template.dataset_tasks)} data; this dataset is {dataset.task}"]}
        )
    if precision not in template.precisions:
        raise JobRejected({"precision": [f"template {template.pk} allows {', '.join(template.precisions)}; "
                                         f"got {precision!r}"]})
    return template, dataset


def devices_offered() -> tuple[int, dict[str, tuple[int, int]]]:
    """What the training workers seen lately offer one job: the most devices of one machine (1
    when none was seen: a one-device job waits for whichever worker starts), and each gang
    whose machines were all seen: name -> (devices per machine, machines)."""
    seen = TrainingWorker.objects.filter(last_seen__gte=timezone.now() - timedelta(seconds=WORKER_SEEN_SECONDS))
    one_machine = max(seen.aggregate(most=Max("devices"))["most"] or 1, 1)
    members: dict[str, list[tuple[int, int]]] = {}
    for gang, devices, nodes in seen.exclude(gang="").values_list("gang", "devices", "gang_nodes"):
        members.setdefault(gang, []).append((devices, nodes))
    gangs = {gang: (min(d for d, _ in machines), machines[0][1]) for gang, machines in members.items()
             if len(machines) >= machines[0][1] and len({d for d, _ in machines}) == 1}
    return one_machine, gangs


def _check_devices(devices: int) -> None:
    one_machine, gangs = devices_offered()
    if devices <= one_machine or any(devices % per_node == 0 and devices <= per_node * nodes
                                     for per_node, nodes in gangs.values()):
        return
    offers = "".join(f"; gang {name!r} offers {per_node} x 1 to {nodes} machines"
                     for name, (per_node, nodes) in sorted(gangs.items()))
    raise JobRejected({"devices": [
        f"no training worker offers {devices} devices: the most one seen in the last {WORKER_SEEN_SECONDS // 60} "
        f"minutes offers {one_machine}{offers}. Start a worker on a machine with {devices} GPUs, or with "
        f"WORKER_DEVICES={devices}, or a gang of machines (WORKER_GANG)"]})


def _check_with_the_trainer(owner, trainer: str, resolved: dict, dataset: Dataset) -> None:
    """The trainer's own check (rules across parameters, its hard limits, what the values
    need of the dataset's labels) and the weights the values name, at submission: a job it
    would refuse is a 400 now, not a failed job later."""
    try:
        check_hyperparameters(trainer, resolved)
    except TrainerError as exc:
        raise JobRejected({"hyperparameters": [exc.message]}) from None
    try:
        need = check_hyperparameters(trainer, resolved, annotation_spec(dataset))
    except TrainerError as exc:  # the values are fine alone; on this dataset, these values or the data must change
        field = "hyperparameters" if exc.code == "invalid_hyperparameters" else "dataset"
        raise JobRejected({field: [exc.message]}) from None
    if need and not weights_registered(owner.pk, need.architecture, need.name):
        raise JobRejected({"hyperparameters": {need.parameter: [need.missing().message]}})


class JobAlreadyEnded(Conflict):
    def __init__(self, message: str):
        super().__init__(message, "job_ended")


def cancel_job(job: Job) -> Job:
    """A waiting job ends cancelled at once; a running one is asked to stop at its next step.
    Raises JobAlreadyEnded for a job that has ended (checked under the row lock)."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.status in Job.FINAL:
            raise JobAlreadyEnded(f"job {job.pk} has already ended ({job.status})")
        job.cancel_requested = True
        if job.status == Job.Status.QUEUED or job.lease_owner == "":
            job.status = Job.Status.CANCELLED
            job.finished_at = timezone.now()
            transaction.on_commit(lambda: discard_job_files(job.pk))
        job.save(update_fields=["cancel_requested", "status", "finished_at"])
        transaction.on_commit(lambda: forget_status(job.pk))
    return job


def delete_job(job: Job) -> bool:
    """Deletes an ended job with its metrics and loss history (and the Clarifai model version
    that trained through it); False when it was already gone. A job still queued or running
    is refused (job_not_ended), as is one whose model exists (job_has_model)."""
    try:
        with transaction.atomic():
            locked = Job.objects.select_for_update().filter(pk=job.pk).first()
            if locked is None:
                return False
            if locked.status not in Job.FINAL:
                raise Conflict(f"job {job.pk} is {locked.status}; cancel it (POST /api/v1/jobs/{job.pk}/cancel/) "
                               "and delete it once it has ended", "job_not_ended")
            locked.delete()
            transaction.on_commit(lambda: forget_status(job.pk))
            transaction.on_commit(lambda: discard_job_files(job.pk))
    except ProtectedError as exc:
        raise InUse(f"job {job.pk}", exc, "delete the model first (DELETE /api/v1/models/{id}/)",
                    "job_has_model") from None
    return True
