"""Evaluations: a model scored on a split of any dataset of its task, in a runtime of its choice,
as leased background work (platform_api/work/leased_work.py); and the report every model keeps
of its own evaluation split (trainers.evaluation, written by the job into the artifact)."""
from __future__ import annotations

import json
import logging
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from platform_api.celery import EVALUATE_MODEL, enqueue
from platform_api.datasets.models import Dataset
from platform_api.datasets.services import local_dataset_dir
from platform_api.problems import Conflict, Invalid
from platform_api.registry.exports import int8_refusal, predictor
from platform_api.registry.models import Evaluation, ModelVersion
from platform_api.storage import get_storage
from platform_api.work.leased_work import LeasedWork, new_worker_id
from trainers.core import INT8_RUNTIME, RUNTIMES, TASK_CLASSIFICATION, TrainerError
from trainers.evaluation import EXAMPLES_DIR, REPORT_DIR, REPORT_FILE, evaluation_tasks
from trainers.families import family

log = logging.getLogger(__name__)

EXAMPLE_FILE = re.compile(r"^(misclassified|worst_iou)-\d{3}\.jpg$")


class NoReport(Exception):
    """The model or evaluation has no report (yet, or made before reports existed)."""


def request_evaluation(model_version: ModelVersion, dataset: Dataset, split: str, runtime: str) -> Evaluation:
    """Queues an evaluation of `model_version` on `split` of `dataset`; refuses, changing
    nothing, a dataset of another task or not imported, classes the model does not know, a
    split the dataset lacks and an unknown runtime (Invalid, naming the field)."""
    task = model_task(model_version)
    if runtime not in RUNTIMES:
        raise Invalid({"runtime": [f"must be one of {', '.join(RUNTIMES)}, got {runtime!r}"]})
    refusal = int8_refusal(model_version) if runtime == INT8_RUNTIME else None
    if refusal:
        raise Invalid({"runtime": [refusal]})
    if dataset.status != Dataset.Status.READY:
        raise Invalid({"dataset": [f"dataset {dataset.pk} is {dataset.status}, not ready"]})
    if dataset.task not in evaluation_tasks(task):
        raise Invalid({"dataset": [f"dataset {dataset.pk} is a {dataset.task} dataset; model {model_version.pk} "
                                   f"is a {task} model, evaluated on {' or '.join(evaluation_tasks(task))} datasets"]})
    unknown = [name for name in dataset.classes if name not in model_version.classes]
    if unknown:
        raise Invalid({"dataset": [f"dataset {dataset.pk} has classes model {model_version.pk} does not know: "
                                   f"{', '.join(unknown)}"]})
    splits = [name for name, count in (dataset.splits or {}).items() if count]
    if split not in splits:
        raise Invalid({"split": [f"dataset {dataset.pk} has no {split!r} split with images "
                                 f"(it has: {', '.join(splits) or 'none'})"]})
    with transaction.atomic():
        evaluation = Evaluation.objects.create(model_version=model_version, dataset=dataset, split=split,
                                               runtime=runtime)
        transaction.on_commit(lambda: enqueue(EVALUATE_MODEL, evaluation.pk))
    return evaluation


def model_task(model_version: ModelVersion) -> str:
    """What the model does: a classifier's family (fai-cls, the Clarifai templates) classifies
    whatever its dataset's task; a segmenter does its dataset's task."""
    try:
        classifier = TASK_CLASSIFICATION in family(model_version.trainer).tasks
    except TrainerError:  # a trainer this version no longer registers
        classifier = False
    return TASK_CLASSIFICATION if classifier else model_version.dataset.task


def run_evaluation(evaluation_id: int) -> None:
    """Runs in a worker. Only the worker holding the lease evaluates; an evaluation that has
    ended is left alone. Its report goes to storage under a key of this run's own."""
    owner = new_worker_id()
    if not EVALUATIONS.acquire(evaluation_id, owner):
        return
    evaluation = Evaluation.objects.select_related("model_version", "dataset").get(pk=evaluation_id)
    mine = EVALUATIONS.held(evaluation_id, owner)
    work_dir = Path(settings.DATA_DIR) / "tmp" / f"evaluation-{evaluation_id}-{uuid.uuid4().hex}"
    storage = get_storage()
    with EVALUATIONS.heartbeat(evaluation_id, owner) as beat:
        try:
            report = _evaluate(evaluation, work_dir / "report")
            if beat.lost.is_set():
                return
            report_key = f"evaluations/{evaluation_id}/report-{uuid.uuid4().hex[:12]}"
            try:
                storage.save_dir(work_dir / "report", report_key, move=True)
            except BaseException:  # a full disk, say: no half-copied report is left in storage
                storage.delete(report_key)
                raise
            ended = mine.update(status=Evaluation.Status.SUCCEEDED, metrics=report["metrics"], report_key=report_key,
                                error="", lease_owner="", lease_expires_at=None, finished_at=timezone.now())
            if not ended:  # lost meanwhile: the other worker's report is the one kept
                storage.delete(report_key)
        except (TrainerError, Conflict) as exc:  # Conflict: an INT8 export refused by its gate
            _fail(mine, _without_server_paths(exc.message))
        except Exception as exc:  # a bug or an I/O failure: the evaluation must not stay running
            log.exception("evaluation %s crashed", evaluation_id)
            _fail(mine, _without_server_paths(f"internal error while evaluating: {type(exc).__name__}: {exc}"))
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)


def _evaluate(evaluation: Evaluation, out_dir: Path) -> dict[str, Any]:
    from trainers.core import DatasetSpec
    from trainers.evaluation import evaluate

    dataset = DatasetSpec.load(local_dataset_dir(evaluation.dataset))
    return evaluate(predictor(evaluation.model_version.artifact_key, evaluation.runtime), dataset, evaluation.split,
                    out_dir)


def _without_server_paths(message: str) -> str:
    """The server's folders out of a message a user reads: a dataset's files by their path in it
    ('/srv/data/storage/datasets/3/content-ab12/valid/x.png' -> 'valid/x.png')."""
    message = re.sub(r"[^\s'\"]*/datasets/\d+/content-[0-9a-f]+/", "", message)
    return message.replace(f"{settings.DATA_DIR}/", "")


def _fail(rows, message: str) -> None:
    rows.update(status=Evaluation.Status.FAILED, error=message, lease_owner="", lease_expires_at=None,
                finished_at=timezone.now())


def _give_up(evaluation: Evaluation) -> None:
    _fail(EVALUATIONS.still_lapsed(evaluation),
          f"the worker running this evaluation died {evaluation.lost_leases + 1} times; giving up")


EVALUATIONS = LeasedWork(
    model=Evaluation,
    task_name=EVALUATE_MODEL,
    what="evaluation",
    waiting=(Evaluation.Status.QUEUED,),
    working=Evaluation.Status.RUNNING,
    requeued_as=Evaluation.Status.QUEUED,
    give_up=_give_up,
)


# --- reading reports ------------------------------------------------------------------------

def report_prefix(owner: ModelVersion | Evaluation) -> str:
    if isinstance(owner, Evaluation):
        if owner.status != Evaluation.Status.SUCCEEDED or not owner.report_key:
            raise NoReport(f"evaluation {owner.pk} is {owner.status}: its report comes when it has succeeded")
        return owner.report_key
    return f"{owner.artifact_key}/{REPORT_DIR}"


def read_report(owner: ModelVersion | Evaluation) -> dict[str, Any]:
    key = f"{report_prefix(owner)}/{REPORT_FILE}"
    storage = get_storage()
    if not storage.exists(key):
        raise NoReport(f"model {owner.pk} has no evaluation report (trained before models kept one, or its report "
                       f"could not be made); evaluate it with POST /api/v1/models/{owner.pk}/evaluations/ "
                       "and read that evaluation's report")
    return json.loads(storage.local_file(key).read_text())


def example_file(owner: ModelVersion | Evaluation, name: str) -> Path | None:
    """The local path of one of the report's example pictures; None for a name it has not."""
    if not EXAMPLE_FILE.match(name):
        return None
    key = f"{report_prefix(owner)}/{EXAMPLES_DIR}/{name}"
    storage = get_storage()
    return storage.local_file(key) if storage.exists(key) else None
