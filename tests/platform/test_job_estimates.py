"""POST /api/v1/jobs/estimate/: a job's steps on its dataset and a rough time from the speed of
the template's recent jobs, checked as a submission is, with nothing queued."""
from datetime import timedelta

import pytest
from django.utils import timezone

from platform_api.datasets.models import Dataset
from platform_api.training.models import Job, TrainingWorker
from tests.factories import store_manifest
from tests.queueing import TRAIN_JOB, queued


@pytest.fixture
def scenes(user):
    return store_manifest(Dataset.objects.create(
        owner=user, name="scenes", format="roboflow_seg", task="semantic_segmentation", status="ready",
        classes=["background", "cell"], splits={"train": 5, "valid": 2}, num_images=7,
    ))


def estimate(api, dataset, hyperparameters):
    return api.post("/api/v1/jobs/estimate/", {"template": "fai-mf", "dataset": dataset.pk,
                                                "hyperparameters": hyperparameters}, format="json")


def finished_job(api, dataset, hyperparameters, seconds, steps, attempts=1):
    """A fai-mf job as a worker leaves it: succeeded after `steps` steps in `seconds`."""
    with queued(TRAIN_JOB):
        job_id = api.post("/api/v1/jobs/", {"template": "fai-mf", "dataset": dataset.pk,
                                            "hyperparameters": hyperparameters}, format="json").json()["id"]
    started = timezone.now() - timedelta(hours=1)
    Job.objects.filter(pk=job_id).update(status="succeeded", started_at=started, attempts=attempts,
                                         finished_at=started + timedelta(seconds=seconds),
                                         progress={"percent": 100.0, "step": steps, "steps": steps})


def test_an_estimate_counts_the_steps_and_queues_nothing(api, templates, scenes):
    with queued(TRAIN_JOB) as train:
        response = estimate(api, scenes, {"epochs": 3, "batch_size": 2, "warmup_iters": 2})
    assert response.status_code == 200, response.content
    # As the engine counts: the fifth image would be a batch on its own, and is left out.
    assert response.json() == {"train_images": 5, "batch_size": 2, "epochs": 3, "steps_per_epoch": 2, "steps": 6,
                               "seconds": None, "measured_jobs": 0}  # no job has run: no speed yet
    assert not Job.objects.exists() and not train.called


def test_the_time_follows_the_pixels_per_second_of_recent_jobs_with_the_same_backbone(api, templates, scenes):
    # 100 steps of 2 images at 128 px in 60 s; the estimate reads 4x the pixels per step.
    run = {"resolution": 128, "batch_size": 2, "warmup_iters": 2}
    finished_job(api, scenes, {**run, "backbone": "resnet18"}, seconds=60, steps=100)
    finished_job(api, scenes, {**run, "backbone": "resnet50"}, seconds=600, steps=100)
    finished_job(api, scenes, {**run, "backbone": "resnet18"}, seconds=900, steps=100,
                 attempts=2)  # resumed: its time spans the interruption
    body = estimate(api, scenes, {**run, "backbone": "resnet18", "resolution": 256, "epochs": 3}).json()
    assert body["steps"] == 6 and body["measured_jobs"] == 1
    assert body["seconds"] == pytest.approx(6 * 4 * 60 / 100)


def test_an_estimate_refuses_what_a_submission_refuses(api, templates, scenes):
    response = estimate(api, scenes, {"epochs": 1, "batch_size": 5, "warmup_iters": 1})
    assert response.status_code == 400
    assert "warmup_iters 1 must be less than the run's 1 optimizer steps" in response.json()["hyperparameters"][0]
    assert "epochs" in estimate(api, scenes, {"epochs": 0}).json()["hyperparameters"]


def test_on_two_devices_each_rank_takes_the_steps_of_its_half(api, templates, scenes):
    TrainingWorker.objects.create(name="two", devices=2, device_kind="cpu", last_seen=timezone.now())
    body = {"template": "fai-mf", "dataset": scenes.pk, "devices": 2,
            "hyperparameters": {"epochs": 3, "batch_size": 2, "warmup_iters": 2}}
    response = api.post("/api/v1/jobs/estimate/", body, format="json")
    assert response.status_code == 200, response.content
    # 5 images dealt to 2 ranks: 2 each (the fifth waits), one batch of 2 an epoch
    assert (response.json()["steps_per_epoch"], response.json()["steps"]) == (1, 3)
