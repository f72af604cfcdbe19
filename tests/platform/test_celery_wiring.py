import os
import subprocess
import sys

from celery import current_app
from django.conf import settings

from tests.conftest import ROOT
from workers.tasks import import_dataset_task, train_job_task


def test_tasks_queued_by_the_web_process_use_the_configured_broker():
    assert current_app.main == "platform"
    assert train_job_task.app.conf.broker_url == settings.CELERY_BROKER_URL
    assert import_dataset_task.app is train_job_task.app


def test_training_and_imports_go_to_separate_queues():
    routes = train_job_task.app.conf.task_routes
    assert routes["training.*"]["queue"] == "training"
    assert routes["datasets.*"]["queue"] == "default"
    assert routes["registry.*"]["queue"] == "default"  # evaluations: not behind hours of training


WEB_PROCESS = """
import sys
import django
django.setup()
import platform_api.urls  # noqa: F401  (everything a web process loads)
from platform_api.celery import IMPORT_DATASET, TRAIN_JOB, enqueue
from platform_api.work.leased_work import queue_depth
enqueue(TRAIN_JOB, 12345)
enqueue(IMPORT_DATASET, 678)
print("workers.tasks" in sys.modules, queue_depth("training"), queue_depth("default"))
"""


def test_a_web_process_queues_by_name_onto_each_tasks_queue_without_loading_the_tasks(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env.update(DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="platform_api.settings")
    done = subprocess.run([sys.executable, "-c", WEB_PROCESS], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["False", "1", "1"]
