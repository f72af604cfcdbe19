"""A database restart while a worker trains or takes a delivery: the job is neither failed
nor dropped. (bench/faults.py restarts a real PostgreSQL mid-job.)

A restart shows in the worker as OperationalError on the connection the server dropped."""
import pytest
from django.db import OperationalError

from platform_api.training.lifecycle import TRAINING_JOBS
from platform_api.training.models import Job, MetricsEntry
from platform_api.training.runner import run_job
from platform_api.training.services import submit_job

pytestmark = pytest.mark.django_db(transaction=True)

TINY = {"backbone": "tiny_test", "resolution": 32, "epochs": 3}


def dropped_connection() -> OperationalError:
    return OperationalError("terminating connection due to administrator command")


def down_for(calls: int, real):
    """`real`, failing as a restarting database does for its first `calls` calls."""
    failures = []

    def flaky(*args, **kwargs):
        if len(failures) < calls:
            failures.append(1)
            raise dropped_connection()
        return real(*args, **kwargs)

    flaky.failures = failures
    return flaky


def test_a_database_restart_while_a_job_trains_does_not_fail_it(user, templates, dataset, monkeypatch):
    record = down_for(2, MetricsEntry.objects.create)
    monkeypatch.setattr(MetricsEntry.objects, "create", record)
    job = submit_job(user, "fai-cls", dataset.pk, TINY)
    run_job(job.pk)
    job.refresh_from_db()
    assert len(record.failures) == 2
    assert job.status == "succeeded", job.error_message
    assert list(job.metrics_history.order_by("epoch").values_list("epoch", flat=True)) == [1, 2, 3]


def test_a_delivery_that_finds_the_database_restarting_is_not_dropped(user, templates, dataset, monkeypatch):
    take = down_for(1, TRAINING_JOBS.acquire)
    monkeypatch.setattr(TRAINING_JOBS, "acquire", take)
    job = submit_job(user, "fai-cls", dataset.pk, TINY)
    run_job(job.pk)
    assert len(take.failures) == 1
    assert Job.objects.get(pk=job.pk).status == "succeeded"


def test_a_job_whose_database_stays_away_longer_than_a_lease_is_handed_back_not_failed(
    user, templates, dataset, no_queue, monkeypatch, settings
):
    settings.JOB_LEASE_SECONDS, settings.JOB_HEARTBEAT_SECONDS = 1.0, 0.5
    monkeypatch.setattr(MetricsEntry.objects, "create", down_for(10**6, MetricsEntry.objects.create))
    job = submit_job(user, "fai-cls", dataset.pk, TINY)
    no_queue.reset_mock()
    run_job(job.pk)
    job.refresh_from_db()
    assert (job.status, job.lease_owner, job.error_code) == ("queued", "", "")
    no_queue.assert_called_once_with(job.pk)  # resumes from its last checkpoint once a worker takes it
