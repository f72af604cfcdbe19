"""A worker whose death is seen (its supervisor saw the process exit) has its work queued
again at once; the lease stays the fallback for deaths nobody saw."""
import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings as django_settings

from platform_api.datasets.services import DATASET_IMPORTS, create_dataset
from platform_api.work.leased_work import process_prefix
from platform_api.training.lifecycle import TRAINING_JOBS as lease
from platform_api.training.models import Job
from platform_api.training.services import submit_job
from tests.conftest import ROOT, WORKER_TEST_ENV, _database_url, _purge_queues, wait_for
from tests.factories import classification_zip
from tests.platform.flows import FAST_FAI_CLS, import_in_process
from tests.queueing import IMPORT_DATASET, queued
from platform_api.recovery import recover_dead_worker

pytestmark = pytest.mark.django_db(transaction=True)

DEAD_PID = 4242


def owner_in(pid: int) -> str:
    return f"{process_prefix(pid)}0123abcd"


def test_a_dead_worker_s_job_is_queued_again_at_once_not_when_its_lease_runs_out(user, templates, dataset, no_queue):
    job = submit_job(user, "fai-cls", dataset.pk, {})
    no_queue.reset_mock()
    assert lease.acquire(job.pk, owner_in(DEAD_PID))  # a lease good for JOB_LEASE_SECONDS more
    assert lease.recover() == []
    assert recover_dead_worker(DEAD_PID) == [("job", job.pk)]
    no_queue.assert_called_once_with(job.pk)
    job.refresh_from_db()
    assert (job.status, job.lease_owner, job.lost_leases) == ("queued", "", 1)
    assert lease.acquire(job.pk, "next-worker")


def test_only_the_dead_process_s_leases_lapse(user, templates, dataset, no_queue):
    others = [owner_in(DEAD_PID * 10), owner_in(DEAD_PID + 1), f"another-host:{DEAD_PID}:0123abcd"]
    jobs = [submit_job(user, "fai-cls", dataset.pk, {}) for _ in others]
    for job, owner in zip(jobs, others):
        assert lease.acquire(job.pk, owner)
    assert recover_dead_worker(DEAD_PID) == []
    assert list(Job.objects.order_by("pk").values_list("lease_owner", flat=True)) == others
    assert set(Job.objects.values_list("status", flat=True)) == {"running"}


def test_a_dead_worker_s_import_is_queued_again_at_once(user, tmp_path):
    zip_path = classification_zip(tmp_path / "d.zip")
    with queued(IMPORT_DATASET) as imports:
        dataset = create_dataset(user, "colours", "classification_folder", zip_path, zip_path.stat().st_size)
        assert DATASET_IMPORTS.acquire(dataset.pk, owner_in(DEAD_PID))
        imports.reset_mock()
        assert recover_dead_worker(DEAD_PID) == [("dataset import", dataset.pk)]
        imports.assert_called_once_with(dataset.pk)
    dataset.refresh_from_db()
    assert (dataset.status, dataset.lease_owner, dataset.lost_leases) == ("importing", "", 1)


def test_a_dead_worker_s_job_that_used_up_its_attempts_fails_at_once(user, templates, dataset, no_queue, settings):
    job = submit_job(user, "fai-cls", dataset.pk, {})
    assert lease.acquire(job.pk, owner_in(DEAD_PID))
    Job.objects.filter(pk=job.pk).update(lost_leases=settings.JOB_MAX_ATTEMPTS - 1)
    no_queue.reset_mock()
    assert recover_dead_worker(DEAD_PID) == []
    job.refresh_from_db()
    assert job.status == "failed" and job.error_code == "worker_lost"
    no_queue.assert_not_called()


def test_a_dead_worker_s_job_cancelled_meanwhile_ends_cancelled(user, templates, dataset, no_queue):
    job = submit_job(user, "fai-cls", dataset.pk, {})
    assert lease.acquire(job.pk, owner_in(DEAD_PID))
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    no_queue.reset_mock()
    assert recover_dead_worker(DEAD_PID) == []
    assert Job.objects.get(pk=job.pk).status == "cancelled"
    no_queue.assert_not_called()


class Platform:
    """`manage.py serve --no-web`: the supervisor and its two workers, on the test database,
    with a lease long enough that only the supervisor can explain a quick recovery."""

    LEASE_SECONDS = 60

    def __init__(self, log_path):
        env = {**os.environ, **WORKER_TEST_ENV, "JOB_LEASE_SECONDS": str(self.LEASE_SECONDS),
               "JOB_HEARTBEAT_SECONDS": "1", "DATABASE_URL": _database_url(), "DATA_DIR": str(django_settings.DATA_DIR)}
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.process = subprocess.Popen([sys.executable, "manage.py", "serve", "--no-web"], cwd=ROOT, env=env,
                                        stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self) -> None:
        """The supervisor and its workers (one process group) at once: a warm stop would hand
        the running job back first, about 10 s that the test does not check."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]


@pytest.fixture
def start_platform(transactional_db, tmp_path):
    """Starts the platform once the test has queued its work (its template loading would
    take back the test-only narrowing that offers tiny_test)."""
    _purge_queues()
    started = []

    def start() -> Platform:
        started.append(Platform(tmp_path / "serve.log"))
        return started[0]

    yield start
    for platform in started:
        platform.stop()


def lease_holder_pid(job_id: int) -> int | None:
    owner = Job.objects.filter(pk=job_id, status="running").values_list("lease_owner", flat=True).first()
    return int(owner.split(":")[1]) if owner else None


@pytest.mark.slow
@pytest.mark.worker
def test_a_supervised_worker_killed_mid_job_has_its_job_queued_again_within_seconds(user, templates, tmp_path,
                                                                                      start_platform):
    dataset = import_in_process(user, classification_zip(tmp_path / "d.zip"))
    job = submit_job(user, "fai-cls", dataset.pk, {**FAST_FAI_CLS, "epochs": 200})
    platform = start_platform()
    # Epoch 2 is reported once epoch 1's checkpoint exists.
    wait_for(lambda: Job.objects.get(pk=job.pk).metrics_history.count() >= 2, 180,
             message=f"epoch 2 ({platform.log()})")
    pid = lease_holder_pid(job.pk)
    os.kill(pid, signal.SIGKILL)  # the pid in the lease is the supervised worker's own
    killed = time.monotonic()
    wait_for(lambda: Job.objects.get(pk=job.pk).lost_leases == 1, 15,
             message=f"the job queued again ({platform.log()})")
    assert time.monotonic() - killed < 10 < Platform.LEASE_SECONDS
    resumed = wait_for(lambda: (j := Job.objects.get(pk=job.pk)).lease_owner and j.resumed_from_step and j, 120,
                       message=f"the restarted worker resuming the job ({platform.log()})")
    assert lease_holder_pid(job.pk) != pid and resumed.attempts == 2
    assert resumed.progress["step"] >= resumed.resumed_from_step > 0  # shown while it runs
