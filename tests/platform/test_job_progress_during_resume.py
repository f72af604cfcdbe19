"""What a poll shows while a job is between workers or resuming: no worker, no `running`;
a resumed run's starting point as soon as it starts, not once the job has ended."""
from datetime import timedelta

import pytest
from django.utils import timezone

from platform_api.training import runner
from platform_api.training.lifecycle import TRAINING_JOBS as lease
from platform_api.training.models import Job
from platform_api.training.runner import run_job
from platform_api.training.services import submit_job
from trainers.engine import loop

pytestmark = pytest.mark.django_db(transaction=True)

TINY = {"backbone": "tiny_test", "resolution": 32, "epochs": 2, "batch_size": 4}  # 16 images: 4 steps an epoch


@pytest.fixture
def steps(monkeypatch):
    """`steps.run(job_id, {n: hook})` runs the job, calling each hook before its run's step n."""
    monkeypatch.setattr(loop, "STOP_POLL_INTERVAL_S", 0)  # look for a stop after every step
    step = loop._Fit._step

    class Steps:
        before: dict = {}
        done = 0

        @staticmethod
        def run(job_id: int, hooks: dict) -> None:
            """run_job, as the next worker, with `hooks` by step number."""
            Steps.before, Steps.done = hooks, 0
            run_job(job_id)

    def hooked_step(fit, batch):
        Steps.done += 1
        if Steps.done in Steps.before:
            Steps.before[Steps.done]()
        return step(fit, batch)

    monkeypatch.setattr(loop._Fit, "_step", hooked_step)
    yield Steps
    runner.worker_stopping.clear()


def poll(api, job_id) -> dict:
    return api.get(f"/api/v1/jobs/{job_id}/").json()


def hand_back_at_step_3(job, steps):
    """SIGTERM arrives during the third step: the job is checkpointed there and handed back."""
    steps.run(job.pk, {3: runner.worker_stopping.set})
    runner.worker_stopping.clear()


def test_a_handed_back_job_shows_queued_while_no_worker_holds_it(api, user, templates, dataset, steps):
    job = submit_job(user, "fai-cls", dataset.pk, TINY)
    hand_back_at_step_3(job, steps)
    body = poll(api, job.pk)
    assert body["status"] == "queued"
    assert Job.objects.get(pk=job.pk).lease_owner == ""


def test_a_job_queued_again_after_its_worker_died_shows_queued(api, user, templates, dataset, no_queue):
    job = submit_job(user, "fai-cls", dataset.pk, TINY)
    assert lease.acquire(job.pk, "dead-worker")
    Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert lease.recover() == [job.pk]
    assert poll(api, job.pk)["status"] == "queued"


def test_a_resumed_job_shows_the_step_it_resumed_from_while_it_runs(api, user, templates, dataset, steps):
    job = submit_job(user, "fai-cls", dataset.pk, TINY)
    hand_back_at_step_3(job, steps)
    seen = []
    steps.run(job.pk, {1: lambda: seen.append(poll(api, job.pk))})  # the next worker's first step
    [running] = seen
    assert running["status"] == "running"
    assert (running["resumed_from_epoch"], running["resumed_from_step"]) == (0, 3)
    assert Job.objects.get(pk=job.pk).status == "succeeded"


def test_a_resumed_job_s_progress_goes_back_to_its_checkpoint(api, user, templates, dataset, steps):
    job = submit_job(user, "fai-cls", dataset.pk, TINY)
    hand_back_at_step_3(job, steps)
    # The worker that died had reported steps past its last checkpoint (step 3).
    Job.objects.filter(pk=job.pk).update(progress={"percent": 75.0, "epoch": 2, "epochs": 2, "step": 6, "steps": 8,
                                                    "eta_seconds": 1.0, "loss": 0.5})
    seen = []
    steps.run(job.pk, {1: lambda: seen.append(poll(api, job.pk)["progress"])})
    [progress] = seen
    assert (progress["step"], progress["percent"], progress["epoch"]) == (3, 37.5, 1)
