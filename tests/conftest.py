"""Fixtures shared by the platform tests: users, API clients, a real Celery worker."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from django.conf import settings
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from training_templates.models import Hyperparameter, Template
from training_templates.services import update_template

ROOT = Path(__file__).resolve().parent.parent
# Short leases so a killed worker's job is recovered within seconds in tests.
WORKER_TEST_ENV = {"JOB_LEASE_SECONDS": "3", "JOB_HEARTBEAT_SECONDS": "0.5"}

# Under pytest-xdist (`make test` runs one worker per core) the workers share the cores: each
# trains, and so do the worker processes it starts, on its share; all of them on every core
# would oversubscribe it.
XDIST_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1)
if XDIST_WORKERS > 1:
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // XDIST_WORKERS)))
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

# TEST_CPU_BF16=native|emulated runs the suite as on a CPU with (or without) native, faster
# bf16, whatever this one has; unset, the hardware decides. .ci/run runs it both ways.
SIMULATED_CPU_BF16 = os.environ.get("TEST_CPU_BF16", "")
if SIMULATED_CPU_BF16 not in ("", "native", "emulated"):
    raise pytest.UsageError(f"TEST_CPU_BF16 must be native or emulated, got {SIMULATED_CPU_BF16!r}")


def _simulated_precision_env() -> dict[str, str]:
    """Worker processes are told the precision the simulated CPU's auto would choose."""
    if not SIMULATED_CPU_BF16:
        return {}
    chosen = "bf16" if SIMULATED_CPU_BF16 == "native" else "fp32"
    return {"TRAINING_PRECISION": chosen, "PREDICT_PRECISION": chosen}


@pytest.fixture(autouse=True, scope="session")
def _simulated_cpu_bf16():
    if not SIMULATED_CPU_BF16:
        yield
        return
    from trainers.engine import precision

    native = SIMULATED_CPU_BF16 == "native"
    patch = pytest.MonkeyPatch()
    patch.setattr(precision, "cpu_has_native_bf16", lambda: native)
    patch.setattr(precision, "cpu_bf16_speedup", lambda workload=None: 2.0 if native else 0.2)
    yield
    patch.undo()


# A test whose outcome can depend on the database or the broker: .ci/run's second pass runs
# these again on PostgreSQL + Redis; pure-trainer and pure-function tests run once.
SERVICE_FIXTURES = {"db", "transactional_db", "live_server"}
SERVICE_FOLDERS = ("platform", "clarifai")  # HTTP, services, workers, leases, recovery, schemathesis


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(str(item.fspath))
        folder = path.relative_to(ROOT / "tests").parts[0] if path.is_relative_to(ROOT / "tests") else ""
        if (folder in SERVICE_FOLDERS or SERVICE_FIXTURES & set(item.fixturenames)
                or item.get_closest_marker("django_db") or item.get_closest_marker("worker")):
            item.add_marker(pytest.mark.services)


def _temporary_data_dir() -> Path | None:
    return Path(settings.DATA_DIR) if getattr(settings, "TEST_DATA_DIR_IS_TEMPORARY", False) else None


@pytest.fixture(autouse=True)
def _forget_cached_lookups():
    """Ids are reused from test to test: what a web process remembers must not outlive one."""
    from platform_api.http import auth
    from platform_api.deployments import services
    from platform_api.training import queries

    yield
    auth._known.clear()
    services._ready.clear()
    for job_id in list(queries._bodies):
        queries.forget_status(job_id)


@pytest.fixture(autouse=True)
def _forget_stored_files():
    """Each test's datasets, checkpoints and models go when it ends: a full run would
    otherwise keep gigabytes (ResNet-50 checkpoints) until the disk fills."""
    yield
    data_dir = _temporary_data_dir()
    if data_dir is None:
        return
    folders = (settings.STORAGE_LOCAL_ROOT, settings.WORK_DIR, data_dir / "s3-cache", data_dir / "tmp")
    for folder in folders:
        if not Path(folder).is_relative_to(data_dir):
            continue
        for child in Path(folder).glob("*"):
            shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)


def pytest_sessionfinish(session, exitstatus):
    data_dir = _temporary_data_dir()
    if data_dir is not None:
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("alice", password="pw")


def _client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.fixture
def api(user) -> APIClient:
    return _client_for(user)


@pytest.fixture
def other_api(django_user_model) -> APIClient:
    return _client_for(django_user_model.objects.create_user("mallory", password="pw"))


@pytest.fixture
def templates(db):
    """The shipped catalogue, whose FAI templates also offer the test-only `tiny_test`
    backbone: a narrowing staff could make, since their trainers declare it."""
    call_command("load_templates", verbosity=0)
    for template_id in ("fai-cls", "fai-mf"):
        template = Template.objects.get(pk=template_id)
        choices = Hyperparameter.objects.get(template=template, name="backbone").choices
        update_template(template, {"hyperparameters": [{"name": "backbone", "choices": [*choices, "tiny_test"]}]})


def _database_url() -> str:
    """The URL of the database this test run really uses (the test database)."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db['NAME']}"


class WorkerProcess:
    """A real `celery worker` process, as `make run` starts it."""

    def __init__(self, queues: str, name: str, log_path: Path, env: dict[str, str] | None = None):
        from platform_api.management.commands.serve import worker_command

        env = {**os.environ, **WORKER_TEST_ENV, **_simulated_precision_env(), "DATABASE_URL": _database_url(),
               "DATA_DIR": str(settings.DATA_DIR), **(env or {})}
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.process = subprocess.Popen(
            worker_command(queues, name), cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def kill(self) -> None:
        """SIGKILL the whole worker (no chance to clean up, like a lost machine)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def terminate(self) -> None:
        """SIGTERM, as a deploy or `docker stop` does: a warm shutdown."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]


@pytest.fixture
def start_worker(transactional_db, tmp_path, settings):
    """Starts real worker processes on the configured broker; stops them after the test."""
    for key, value in WORKER_TEST_ENV.items():
        setattr(settings, key, float(value))
    _purge_queues()
    workers: list[WorkerProcess] = []

    def start(queues: str = "training,default", name: str | None = None, env: dict[str, str] | None = None) -> WorkerProcess:
        worker = WorkerProcess(queues, name or f"test{len(workers)}", tmp_path / f"worker{len(workers)}.log", env)
        workers.append(worker)
        return worker

    yield start
    stop_all(workers)


def stop_all(workers: list[WorkerProcess]) -> None:
    """SIGKILL to every worker at once: the test is over, and nothing it checks depends on
    their warm shutdown, which takes about 5 s even idle (up to 2 s for the broker poll to
    notice the signal, then 2.4 s of interpreter exit with torch loaded); the tests that
    check a warm shutdown call `terminate()` themselves."""
    for worker in workers:
        if worker.process.poll() is None:
            worker.kill()
        worker._log.close()


def _purge_queues() -> None:
    """Messages left by earlier tests name rows that no longer exist: drop them."""
    from platform_api.celery import app

    with app.connection_for_write() as conn:
        for queue in ("training", "default"):
            try:
                conn.default_channel.queue_purge(queue)
            except Exception:  # the queue does not exist yet
                pass


def wait_for(predicate, timeout: float, interval: float = 0.2, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


def python() -> str:
    return sys.executable
