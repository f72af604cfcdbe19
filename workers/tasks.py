"""Celery tasks: thin shims that take ids and call services."""
from celery import shared_task


@shared_task(name="datasets.import", acks_late=True)
def import_dataset_task(dataset_id: int) -> None:
    from platform_api.datasets.services import import_dataset

    import_dataset(dataset_id)


@shared_task(name="training.run", acks_late=True)
def train_job_task(job_id: int) -> None:
    from platform_api.training.runner import run_job

    run_job(job_id)

