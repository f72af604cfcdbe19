"""A job on several devices: refused while no worker offers them, queued where the workers
that do listen, trained by one rank per device (gloo on the CPU here), and queued again to
resume when a rank dies."""
import os
import signal
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.utils import timezone

from platform_api.celery import app
from platform_api.training import gangs, runner
from platform_api.training.lifecycle import TRAINING_JOBS
from platform_api.training.models import GangRun, Job, MetricsEntry, TrainingWorker
from platform_api.training.runner import run_job
from platform_api.training.services import WORKER_SEEN_SECONDS
from tests.conftest import wait_for
from tests.platform.flows import FAST_FAI_CLS, wait_job
from trainers.multi_device import RanksFailed

pytestmark = pytest.mark.django_db(transaction=True)
TWO_DEVICES = {**FAST_FAI_CLS, "batch_size": 4, "epochs": 2}


def submit(api, dataset, devices):
    return api.post("/api/v1/jobs/", {"template": "fai-cls", "dataset": dataset.pk, "hyperparameters": TWO_DEVICES,
                                      "devices": devices}, format="json")


def announce(devices: int, seen_ago: float = 0.0, name: str = "gpu-box", gang: str = "", gang_nodes: int = 1) -> None:
    TrainingWorker.objects.update_or_create(name=name, defaults={
        "devices": devices, "device_kind": "cuda", "last_seen": timezone.now() - timedelta(seconds=seen_ago),
        "gang": gang, "gang_nodes": gang_nodes})


def test_more_devices_than_any_worker_seen_lately_offers_is_refused_and_queues_nothing(api, templates, dataset):
    announce(4, seen_ago=WORKER_SEEN_SECONDS + 60, name="gone")  # offered 4, but long ago
    announce(2)
    with mock.patch.object(app, "send_task") as send:
        response = submit(api, dataset, 3)
    assert response.status_code == 400 and "WORKER_DEVICES=3" in response.json()["devices"][0]
    assert "the most one seen in the last 10 minutes offers 2" in response.json()["devices"][0]
    assert not Job.objects.exists() and not send.called
    assert submit(api, dataset, 0).status_code == 400  # at least one


def test_a_gang_offers_multiples_of_its_machines_devices_once_all_its_machines_were_seen(api, templates, dataset):
    announce(4, name="a", gang="racks", gang_nodes=3)
    announce(4, name="b", gang="racks", gang_nodes=3)
    with mock.patch.object(app, "send_task"):
        assert submit(api, dataset, 8).status_code == 400  # 2 of its 3 machines seen
        announce(4, name="c", gang="racks", gang_nodes=3)
        assert submit(api, dataset, 8).status_code == 201 and submit(api, dataset, 12).status_code == 201
        refused = submit(api, dataset, 10)  # not a whole number of machines
    assert refused.status_code == 400 and "gang 'racks' offers 4 x 1 to 3 machines" in refused.json()["devices"][0]


def test_a_job_on_n_devices_waits_in_the_queue_of_the_workers_that_offer_n(api, templates, dataset):
    announce(2)
    with mock.patch.object(app, "send_task") as send:
        two, one = submit(api, dataset, 2).json(), submit(api, dataset, 1).json()
    assert (two["devices"], one["devices"]) == (2, 1)
    assert [call.kwargs.get("queue") for call in send.call_args_list] == ["training-2", "training"]
    with mock.patch.object(app, "send_task") as send:
        TRAINING_JOBS.send(two["id"])  # a hand-back or recovery sends it to the same queue
    assert send.call_args.kwargs["queue"] == "training-2"


@pytest.mark.slow
def test_a_two_device_job_trains_on_two_ranks_in_the_worker_and_makes_one_model(api, templates, dataset, settings):
    settings.WORKER_DEVICES = 2  # this process is the worker
    announce(2)
    with mock.patch.object(app, "send_task"):
        job_id = submit(api, dataset, 2).json()["id"]
    run_job(job_id)  # the worker process: it spawns the ranks and keeps the lease
    job = Job.objects.get(pk=job_id)
    assert job.status == "succeeded", (job.error_code, job.error_message)
    assert job.model_version is not None and job.progress["percent"] == 100.0
    # 16 training images, 2 ranks of 4 each: 2 steps an epoch
    assert job.progress["steps"] == 4 and list(job.metrics_history.values_list("epoch", flat=True)) == [1, 2]


def test_a_lost_rank_lapses_the_lease_so_recovery_queues_the_job_again_counted_as_a_lost_worker(
        api, templates, dataset, monkeypatch, settings):
    settings.WORKER_DEVICES = 2
    announce(2)
    with mock.patch.object(app, "send_task"):
        job_id = submit(api, dataset, 2).json()["id"]

    def rank_1_dies(*args, **kwargs):
        raise RanksFailed("the fit stopped on every rank (rank 0: exit code 1, rank 1: killed by signal 9)")

    monkeypatch.setattr(runner, "fit_on_devices", rank_1_dies)
    run_job(job_id)
    assert Job.objects.get(pk=job_id).status == "running"  # its lease lapsed: nobody renews it
    with mock.patch.object(app, "send_task") as send:
        assert TRAINING_JOBS.recover() == [job_id]
    job = Job.objects.get(pk=job_id)
    assert (job.status, job.lease_owner, job.lost_leases) == ("queued", "", 1)
    assert send.call_args.kwargs["queue"] == "training-2"


@pytest.mark.slow
@pytest.mark.worker
def test_a_two_device_job_through_the_api_on_a_worker_with_two_cpu_ranks(api, templates, dataset, start_worker):
    worker = start_worker(env={"WORKER_DEVICES": "2"})
    wait_for(lambda: TrainingWorker.objects.filter(devices=2).exists(), 60, message="the worker's announcement")
    response = submit(api, dataset, 2)
    assert response.status_code == 201, response.content
    job = wait_job(api, response.json()["id"], worker=worker)
    assert job["status"] == "succeeded", (job, worker.log())
    assert job["devices"] == 2 and job["model"] is not None
    assert "2 cpu device(s) for one job" in worker.log()


@pytest.mark.slow
@pytest.mark.worker
def test_two_workers_of_a_gang_train_one_job_as_two_nodes_over_loopback(api, templates, dataset, start_worker):
    gang = {"WORKER_DEVICES": "1", "WORKER_GANG": "pair", "WORKER_GANG_NODES": "2", "WORKER_NODE_ADDRESS": "127.0.0.1"}
    workers = [start_worker("training,default", "node-a", env=gang), start_worker("training", "node-b", env=gang)]
    wait_for(lambda: TrainingWorker.objects.filter(gang="pair").count() == 2, 60, message="both announcements")
    response = submit(api, dataset, 2)
    assert response.status_code == 201, response.content
    job = wait_job(api, response.json()["id"], worker=workers[0])
    logs = workers[0].log() + workers[1].log()
    assert job["status"] == "succeeded", (job, logs)
    run = GangRun.objects.get(job_id=job["id"])
    assert (run.nodes, run.joined, run.ended) == (2, 2, True) and "joining as node 1 of 2" in logs


def rank_processes(worker_pid: int) -> list[int]:
    """The ranks a worker spawned (its children running multiprocessing's spawn_main)."""
    ranks = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if parent == worker_pid and b"spawn_main" in command:
            ranks.append(int(stat.parent.name))
    return ranks


@pytest.mark.slow
@pytest.mark.worker
def test_a_rank_killed_mid_run_hands_the_job_back_and_it_resumes_and_succeeds(api, templates, dataset, start_worker):
    worker = start_worker(env={"WORKER_DEVICES": "2"})
    wait_for(lambda: TrainingWorker.objects.filter(devices=2).exists(), 60, message="the worker's announcement")
    body = {"template": "fai-cls", "dataset": dataset.pk, "devices": 2,
            "hyperparameters": {**TWO_DEVICES, "epochs": 15}}  # long enough to be killed in
    job_id = api.post("/api/v1/jobs/", body, format="json").json()["id"]
    wait_for(lambda: MetricsEntry.objects.filter(job_id=job_id).exists(), 120, message="epoch 1's evaluation")
    victim = rank_processes(worker.process.pid)[-1]
    os.kill(victim, signal.SIGKILL)
    job = wait_job(api, job_id, worker=worker)
    assert job["status"] == "succeeded", (job, worker.log())
    assert job["attempts"] == 2 and job["resumed_from_epoch"] >= 1, job
    assert Job.objects.get(pk=job_id).lost_leases == 1 and "queued again to resume" in worker.log()


def test_a_gang_trains_one_job_at_a_time_a_second_leader_hands_its_job_back(api, templates, dataset, settings):
    settings.WORKER_GANG, settings.WORKER_GANG_NODES, settings.WORKER_DEVICES = "pair", 2, 1
    announce(1, name="a", gang="pair", gang_nodes=2)
    announce(1, name="b", gang="pair", gang_nodes=2)
    with mock.patch.object(app, "send_task"):
        first, second = (submit(api, dataset, 2).json()["id"] for _ in range(2))
    assert TRAINING_JOBS.acquire(first, "other-host:1:abcd")  # another member leads the first
    GangRun.objects.create(job_id=first, leader="other-host:1:abcd", gang="pair", nodes=2, devices_per_node=1,
                           init_method="tcp://127.0.0.1:1")
    with mock.patch.object(app, "send_task") as send, mock.patch.object(gangs, "PASS_ON_AFTER_SECONDS", 0):
        run_job(second)
    job = Job.objects.get(pk=second)
    assert (job.status, job.lease_owner, job.lost_leases) == ("queued", "", 0)
    assert send.call_args.kwargs["queue"] == "training-2" and not GangRun.objects.filter(job_id=second).exists()
