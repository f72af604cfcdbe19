"""The worker side of a job, run in-process: leases, recovery, failures."""
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from platform_api.registry.models import PretrainedWeights
from platform_api.training.lifecycle import TRAINING_JOBS as lease
from platform_api.training.models import Job
from platform_api.training.runner import run_job
from platform_api.training.services import submit_job
from tests.queueing import TRAIN_JOB, queued

pytestmark = pytest.mark.django_db(transaction=True)

recover_stale_jobs = lease.recover


def test_two_deliveries_of_one_job_cannot_both_take_it(user, templates, dataset):
    job = submit_job(user, "fai-cls", dataset.pk, {})
    assert lease.acquire(job.pk, "worker-a")
    assert not lease.acquire(job.pk, "worker-b")
    assert Job.objects.get(pk=job.pk).lease_owner == "worker-a"


def test_a_lapsed_lease_is_recovered_and_taken_by_the_next_worker(user, templates, dataset, no_queue):
    job = submit_job(user, "fai-cls", dataset.pk, {})
    no_queue.reset_mock()
    assert lease.acquire(job.pk, "dead-worker")
    Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert recover_stale_jobs() == [job.pk]
    no_queue.assert_called_once_with(job.pk)
    assert recover_stale_jobs() == []  # not queued twice while waiting for a worker
    assert lease.acquire(job.pk, "next-worker")
    assert Job.objects.get(pk=job.pk).attempts == 2
    assert Job.objects.get(pk=job.pk).lost_leases == 1


def test_a_job_whose_worker_keeps_dying_fails_as_worker_lost(user, templates, dataset, settings):
    job = submit_job(user, "fai-cls", dataset.pk, {})
    Job.objects.filter(pk=job.pk).update(
        status="running", lease_owner="w", attempts=settings.JOB_MAX_ATTEMPTS,
        lost_leases=settings.JOB_MAX_ATTEMPTS - 1, lease_expires_at=timezone.now() - timedelta(seconds=1),
    )
    recover_stale_jobs()
    job.refresh_from_db()
    assert job.status == "failed" and job.error_code == "worker_lost"
    assert job.error_message == f"the worker running this job died {settings.JOB_MAX_ATTEMPTS} times; giving up"


def test_a_job_whose_rank_fails_at_every_attempt_says_why_when_it_is_given_up(user, templates, dataset, settings):
    from platform_api.training.runner import _lost_a_rank
    from trainers.multi_device import RanksFailed

    job = submit_job(user, "fai-cls", dataset.pk, {})
    Job.objects.filter(pk=job.pk).update(status="running", lease_owner="w", attempts=settings.JOB_MAX_ATTEMPTS,
                                         lost_leases=settings.JOB_MAX_ATTEMPTS - 1,
                                         lease_expires_at=timezone.now() + timedelta(seconds=60))
    _lost_a_rank(job.pk, "w", RanksFailed("rank 1 crashed: ValueError: shapes (3, 4) and (5,) do not match"))
    job.refresh_from_db()
    assert job.status == "running" and job.error_code == ""  # nothing shown while it may still resume
    recover_stale_jobs()
    job.refresh_from_db()
    assert job.status == "failed" and job.error_code == "worker_lost"
    assert job.error_message.endswith("giving up; the last attempt ended: rank 1 crashed: ValueError: shapes (3, 4) "
                                      "and (5,) do not match")


def test_a_job_naming_unregistered_weights_fails_before_training(user, templates, dataset):
    # Submission checks the name; weights deleted before a worker takes the job fail it.
    weights = PretrainedWeights.objects.create(owner=user, name="imagenet", architecture="tiny_test", file_key="w/1")
    job = submit_job(user, "fai-cls", dataset.pk, {"backbone": "tiny_test", "pretrained_weights": "imagenet"})
    weights.delete()
    run_job(job.pk)
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.error_code == "weights_not_registered"
    assert "imagenet" in job.error_message
    assert job.metrics_history.count() == 0


def test_a_stored_snapshot_that_no_longer_validates_fails_the_job_without_training(user, templates, dataset):
    job = submit_job(user, "fai-cls", dataset.pk, {"backbone": "tiny_test"})
    Job.objects.filter(pk=job.pk).update(hyperparameters={**job.hyperparameters, "batch_size": 0})
    run_job(job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and job.error_code == "invalid_hyperparameters"
    assert "batch_size" in job.error_message


def test_a_job_cancelled_while_queued_is_not_run(user, templates, dataset):
    job = submit_job(user, "fai-cls", dataset.pk, {"backbone": "tiny_test"})
    Job.objects.filter(pk=job.pk).update(status="cancelled", cancel_requested=True)
    run_job(job.pk)
    job.refresh_from_db()
    assert job.status == "cancelled" and job.attempts == 0


def shutdown_once_running():
    """SIGTERM arrives right after this worker took the job."""
    from platform_api.training import runner

    take = lease.acquire

    def take_then_stop(job_id, owner):
        taken = take(job_id, owner)
        runner.worker_stopping.set()
        return taken

    return mock.patch.object(lease, "acquire", side_effect=take_then_stop)


def test_a_worker_shutting_down_hands_its_job_back_to_the_queue(user, templates, dataset, no_queue):
    from platform_api.training import runner

    job = submit_job(user, "fai-cls", dataset.pk, {"backbone": "tiny_test", "resolution": 32})
    no_queue.reset_mock()  # forget the submission's own queuing
    earlier_work = runner.job_work_dir(job.pk) / "from-an-earlier-attempt"
    earlier_work.parent.mkdir(parents=True)
    earlier_work.write_text("kept")
    try:
        with shutdown_once_running():
            run_job(job.pk)
    finally:
        runner.worker_stopping.clear()
    job.refresh_from_db()
    assert job.status == "queued" and job.lease_owner == ""
    no_queue.assert_called_once_with(job.pk)
    assert earlier_work.exists()  # the job resumes later: its work is kept
    assert lease.acquire(job.pk, "next-worker")  # the next delivery takes it at once


def test_a_cancel_wins_over_a_shutdown(user, templates, dataset, no_queue):
    from platform_api.training import callbacks, runner

    job = submit_job(user, "fai-cls", dataset.pk, {"backbone": "tiny_test", "resolution": 32})
    no_queue.reset_mock()  # forget the submission's own queuing
    try:  # the user cancels while the worker is stopping: the job must end, not be queued again
        with shutdown_once_running(), mock.patch.object(callbacks, "cancel_requested", return_value=True):
            run_job(job.pk)
    finally:
        runner.worker_stopping.clear()
    job.refresh_from_db()
    assert job.status == "cancelled"
    no_queue.assert_not_called()


def test_a_requeued_job_cancelled_before_a_worker_took_it_ends_cancelled(user, templates, dataset):
    job = submit_job(user, "fai-cls", dataset.pk, {"backbone": "tiny_test"})
    assert lease.acquire(job.pk, "w") and lease.release(job.pk, "w")
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    run_job(job.pk)
    job.refresh_from_db()
    assert job.status == "cancelled" and job.attempts == 1


def test_a_leaving_worker_passes_a_new_delivery_on_without_taking_it(user, templates, dataset, no_queue):
    from platform_api.training import runner

    job = submit_job(user, "fai-cls", dataset.pk, {"backbone": "tiny_test"})
    no_queue.reset_mock()
    runner.worker_stopping.set()
    try:
        run_job(job.pk)
    finally:
        runner.worker_stopping.clear()
    job.refresh_from_db()
    assert job.status == "queued" and job.attempts == 0
    no_queue.assert_called_once_with(job.pk)


def test_graceful_hand_backs_do_not_count_as_lost_workers(user, templates, dataset, settings):
    job = submit_job(user, "fai-cls", dataset.pk, {})
    for n in range(settings.JOB_MAX_ATTEMPTS + 1):
        assert lease.acquire(job.pk, f"w{n}") and lease.release(job.pk, f"w{n}")
    Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1), lease_owner="w",
                                         status="running")
    with queued(TRAIN_JOB):
        assert recover_stale_jobs() == [job.pk]
    assert Job.objects.get(pk=job.pk).status == "queued"  # queued again, not given up


@pytest.mark.parametrize("outcome", ["succeeded", "failed"])
def test_a_finished_job_frees_its_checkpoints_and_keeps_its_model(user, templates, dataset, outcome):
    from platform_api.registry.models import ModelVersion
    from platform_api.storage import get_storage
    from platform_api.training import runner

    job = submit_job(user, "fai-cls", dataset.pk, {"backbone": "tiny_test", "resolution": 32, "epochs": 2})
    seen_checkpoints = []
    fit = runner._fit

    def fit_then_look(*args):
        result = fit(*args)
        seen_checkpoints.extend(runner.job_work_dir(job.pk).rglob("*.pt"))
        if outcome == "failed":
            raise RuntimeError("disk on fire")
        return result

    with mock.patch.object(runner, "_fit", side_effect=fit_then_look):
        run_job(job.pk)
    job.refresh_from_db()
    assert job.status == outcome
    assert seen_checkpoints, "training wrote no checkpoint to free"
    assert not runner.job_work_dir(job.pk).exists()
    if outcome == "succeeded":
        model = ModelVersion.objects.get(job=job)
        assert any(get_storage().local_dir(model.artifact_key).iterdir())


def test_a_job_handed_back_mid_epoch_goes_on_from_the_step_it_stopped_at(user, templates, dataset, no_queue, monkeypatch):
    import torch

    from platform_api.training import runner
    from trainers.engine import loop

    monkeypatch.setattr(loop, "STOP_POLL_INTERVAL_S", 0)  # look for a stop after every step
    job = submit_job(user, "fai-cls", dataset.pk, {"backbone": "tiny_test", "resolution": 32, "epochs": 2, "batch_size": 4})
    steps, stopped = [], []  # 16 training images, batches of 4: 4 steps per epoch
    step = loop._Fit._step

    def counting_step(fit, batch):
        steps.append(1)
        if len(steps) == 3 and not stopped:
            stopped.append(1)
            runner.worker_stopping.set()  # SIGTERM arrives during epoch 1's third step
        return step(fit, batch)

    monkeypatch.setattr(loop._Fit, "_step", counting_step)
    try:
        run_job(job.pk)
    finally:
        runner.worker_stopping.clear()
    saved = torch.load(runner.job_work_dir(job.pk) / "checkpoints" / "last.pt", weights_only=True)["state"]
    assert (saved["epoch"], saved["epoch_step"], saved["global_step"]) == (0, 3, 3)

    steps.clear()
    run_job(job.pk)  # the next worker
    job.refresh_from_db()
    assert job.status == "succeeded", job.error_message
    assert len(steps) == 2 * 4 - 3  # no step trained twice
    assert (job.resumed_from_epoch, job.resumed_from_step) == (0, 3)
    assert job.progress["step"] == 8


@pytest.mark.parametrize("every_seconds, expected", [(3600, [0]), (0, [1, 2, 3, 4, 0])])
def test_checkpoints_are_written_mid_epoch_every_job_checkpoint_every_seconds(
    user, templates, dataset, settings, monkeypatch, every_seconds, expected
):
    from trainers.engine import loop

    monkeypatch.setattr(loop, "STOP_POLL_INTERVAL_S", 0)
    settings.JOB_CHECKPOINT_EVERY_SECONDS = every_seconds
    saved_epoch_steps = []
    save = loop.ckpt.atomic_save

    def recording_save(obj, path):
        if path.name == "last.pt":
            saved_epoch_steps.append(obj["state"]["epoch_step"])
        return save(obj, path)

    monkeypatch.setattr(loop.ckpt, "atomic_save", recording_save)
    job = submit_job(user, "fai-cls", dataset.pk, {"backbone": "tiny_test", "resolution": 32, "epochs": 1, "batch_size": 4})
    run_job(job.pk)
    assert Job.objects.get(pk=job.pk).status == "succeeded"
    assert saved_epoch_steps == expected  # 0: the epoch's own checkpoint


def test_a_finished_job_shows_its_latest_metrics_and_its_model_the_best_epoch_s(user, templates, dataset, monkeypatch, api):
    import dataclasses

    from platform_api.registry.models import ModelVersion
    from platform_api.training import runner

    fit = runner._fit
    best = {"accuracy": 0.123, "from": "the best epoch"}  # as if an earlier epoch had been the best
    monkeypatch.setattr(runner, "_fit", lambda *args: dataclasses.replace(fit(*args), metrics=best))
    job = submit_job(user, "fai-cls", dataset.pk, {"backbone": "tiny_test", "resolution": 32, "epochs": 2})
    run_job(job.pk)
    body = api.get(f"/api/v1/jobs/{job.pk}/").json()
    history = api.get(f"/api/v1/jobs/{job.pk}/metrics/").json()
    assert body["status"] == "succeeded"
    assert body["metrics"] == history[-1]["metrics"] and history[-1]["epoch"] == 2
    assert ModelVersion.objects.get(job_id=job.pk).metrics == best
    assert api.get(f"/api/v1/models/{body['model']}/").json()["metrics"] == best


def test_a_job_cancelled_while_held_then_handed_back_is_ended_by_recovery(user, templates, dataset, no_queue):
    from platform_api.training import runner

    job = submit_job(user, "fai-cls", dataset.pk, {})
    assert lease.acquire(job.pk, "leaving-worker")
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)  # the user cancels; the worker hands back
    assert lease.release(job.pk, "leaving-worker")
    work = runner.job_work_dir(job.pk)
    work.mkdir(parents=True)
    recover_stale_jobs()
    job.refresh_from_db()
    assert job.status == "cancelled" and not work.exists()


def test_recovery_does_not_end_a_job_whose_worker_renewed_after_being_listed(user, templates, dataset, settings):
    from platform_api.training.lifecycle import finish

    job = submit_job(user, "fai-cls", dataset.pk, {})
    assert lease.acquire(job.pk, "slow-worker")
    Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    listed = list(lease.lapsed())  # recovery reads the stale list ...
    assert lease.renew(job.pk, "slow-worker")  # ... the worker wakes up and renews ...
    assert [j.pk for j in listed] == [job.pk]
    assert not finish(job.pk, None, "failed", only_if_stale=True, error_code="worker_lost")  # ... and is left alone
    assert Job.objects.get(pk=job.pk).status == "running"


def test_taking_over_a_lapsed_lease_directly_counts_the_dead_worker(user, templates, dataset):
    job = submit_job(user, "fai-cls", dataset.pk, {})
    assert lease.acquire(job.pk, "dead-worker")
    Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert lease.acquire(job.pk, "next-worker")  # a surplus delivery came before recovery did
    job.refresh_from_db()
    assert (job.attempts, job.lost_leases) == (2, 1)


def test_a_job_recovery_gives_up_on_leaves_no_checkpoint(user, templates, dataset, settings):
    from platform_api.training import runner

    job = submit_job(user, "fai-cls", dataset.pk, {})
    Job.objects.filter(pk=job.pk).update(
        status="running", lease_owner="w", attempts=settings.JOB_MAX_ATTEMPTS,
        lost_leases=settings.JOB_MAX_ATTEMPTS - 1, lease_expires_at=timezone.now() - timedelta(seconds=1),
    )
    work = runner.job_work_dir(job.pk)
    work.mkdir(parents=True)
    recover_stale_jobs()
    assert Job.objects.get(pk=job.pk).error_code == "worker_lost" and not work.exists()


def test_cancelling_a_job_waiting_for_redelivery_frees_its_checkpoints(api, user, templates, dataset):
    from platform_api.training import runner

    job = submit_job(user, "fai-cls", dataset.pk, {})
    assert lease.acquire(job.pk, "w") and lease.release(job.pk, "w")  # handed back, waiting
    work = runner.job_work_dir(job.pk)
    work.mkdir(parents=True)
    assert api.post(f"/api/v1/jobs/{job.pk}/cancel/").json()["status"] == "cancelled"
    assert not work.exists()
