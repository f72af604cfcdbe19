"""Celery tasks: thin shims that take ids and call services. Their names are
platform_api/celery.py's, by which the services queue them."""
from celery import shared_task

from platform_api.celery import EVALUATE_MODEL, IMPORT_DATASET, TRAIN_JOB
from platform_api.datasets.services import import_dataset
from platform_api.registry.evaluations import run_evaluation
from platform_api.training.runner import run_job
from workers import recovery  # noqa: F401  (connects the worker signals: recovery loop, hand-back)
from workers import study_driver  # noqa: F401  (connects the study driver's loop)
from workers import devices  # noqa: F401  (a training worker offers its devices: queues and announcement)


@shared_task(name=IMPORT_DATASET, acks_late=True)
def import_dataset_task(dataset_id: int) -> None:
    import_dataset(dataset_id)


@shared_task(name=TRAIN_JOB, acks_late=True)
def train_job_task(job_id: int) -> None:
    run_job(job_id)


@shared_task(name=EVALUATE_MODEL, acks_late=True)
def evaluate_model_task(evaluation_id: int) -> None:
    run_evaluation(evaluation_id)
