from celery import current_app
from django.conf import settings

from workers.tasks import import_dataset_task, train_job_task


def test_tasks_queued_by_the_web_process_use_the_configured_broker():
    assert current_app.main == "platform"
    assert train_job_task.app.conf.broker_url == settings.CELERY_BROKER_URL
    assert import_dataset_task.app is train_job_task.app


def test_training_and_imports_go_to_separate_queues():
    routes = train_job_task.app.conf.task_routes
    assert routes["training.*"]["queue"] == "training"
    assert routes["datasets.*"]["queue"] == "default"
