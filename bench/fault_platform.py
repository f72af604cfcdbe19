"""The platform that bench/faults.py breaks, and the means to break it.

- `Stack`: the settings of one stack (embedded: SQLite + file-system broker; or PostgreSQL
  + Redis), with DATA_DIR on a small tmpfs of its own, so that a full disk can be made
  without touching the machine's disk. The SQLite file lives beside it, not on it: the
  volume that fills is the data volume (uploads, datasets, checkpoints, models).
- `Platform`: `manage.py serve` as `make run` starts it (gunicorn, the supervisor, two
  Celery workers), its training worker's pid, a graceful stop and start.
- `Api`: the REST calls a client makes.
- `Services`: stop and start this machine's PostgreSQL and Redis, with the commands the
  machine itself starts them with (loopback only); `ensure_running` puts them back.
"""
from __future__ import annotations

import io
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from bench import api_client

ROOT = Path(__file__).resolve().parent.parent
PG_URL = "postgres://postgres@127.0.0.1:5432/{name}"
REDIS_URL = "redis://127.0.0.1:6379/13"  # a database number of the bench's own
PG_CLUSTER = ["pg_ctlcluster", "--skip-systemctl-redirect"]
REDIS_START = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "",
               "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"]


@dataclass
class Stack:
    name: str  # "embedded" or "postgres-redis"
    run_dir: Path
    data_dir: Path = field(init=False)
    env: dict[str, str] = field(init=False)

    def __post_init__(self):
        self.data_dir = self.run_dir / "data"
        self.env = {
            "DATA_DIR": str(self.data_dir),
            "SECRET_KEY": "fault-suite",
            "LOG_LEVEL": "INFO",
            "TRAINING_PRECISION": "fp32",  # no timed bf16 probe: each attempt starts at once
            "JOB_CHECKPOINT_EVERY_SECONDS": "1",  # mid-epoch checkpoints too, for kills to land near
            "JOB_MAX_ATTEMPTS": "3",
        }
        if self.uses_servers:
            self.env["DATABASE_URL"] = PG_URL.format(name="fault_suite")
            self.env["CELERY_BROKER_URL"] = REDIS_URL
        else:
            self.env["DATABASE_URL"] = f"sqlite:///{self.run_dir / 'db.sqlite3'}"

    @property
    def uses_servers(self) -> bool:
        return self.name == "postgres-redis"

    def prepare(self) -> None:
        """A fresh database and broker for this run."""
        if self.uses_servers:
            for sql in ("DROP DATABASE IF EXISTS fault_suite WITH (FORCE)", "CREATE DATABASE fault_suite"):
                subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", sql], check=True)
            subprocess.run(["redis-cli", "-n", "13", "flushdb"], check=True, capture_output=True)

    def tidy(self) -> None:
        if self.uses_servers:
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc",
                            "DROP DATABASE IF EXISTS fault_suite WITH (FORCE)"], capture_output=True)
            subprocess.run(["redis-cli", "-n", "13", "flushdb"], capture_output=True)


class SmallDisk:
    """A tmpfs of `size_mb` at `path` (the stack's DATA_DIR), and a file that fills it."""

    def __init__(self, path: Path, size_mb: int):
        self.path = path
        self.filler = path / "filler.bin"
        path.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(path)], check=True)

    def free_bytes(self) -> int:
        stats = os.statvfs(self.path)
        return stats.f_bavail * stats.f_frsize

    def fill(self, leave_bytes: int) -> None:
        """Leaves at most `leave_bytes` free."""
        size = max(self.free_bytes() - leave_bytes, 0)
        fd = os.open(self.filler, os.O_CREAT | os.O_WRONLY)
        try:
            os.posix_fallocate(fd, 0, size)
        finally:
            os.close(fd)

    def empty(self) -> None:
        self.filler.unlink(missing_ok=True)

    def unmount(self) -> None:
        subprocess.run(["umount", str(self.path)], check=False)


class Services:
    """This machine's PostgreSQL and Redis, stopped and started again as faults."""

    @staticmethod
    def postgres_up() -> bool:
        return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"]).returncode == 0

    @staticmethod
    def redis_up() -> bool:
        return subprocess.run(["redis-cli", "-h", "127.0.0.1", "ping"], capture_output=True).returncode == 0

    @staticmethod
    def _cluster() -> list[str]:
        version = sorted(os.listdir("/etc/postgresql"))[-1]
        return [*PG_CLUSTER, version, "main"]

    def restart_postgres(self, down_seconds: float) -> None:
        subprocess.run([*self._cluster(), "stop", "-m", "fast"], check=True)
        time.sleep(down_seconds)
        self.start_postgres()

    def start_postgres(self) -> None:
        subprocess.run([*self._cluster(), "start"], check=False)
        until(self.postgres_up, 60, "PostgreSQL to accept connections")

    def restart_redis(self, down_seconds: float) -> None:
        subprocess.run(["redis-cli", "-h", "127.0.0.1", "shutdown", "nosave"], capture_output=True)
        until(lambda: not self.redis_up(), 10, "Redis to stop")
        time.sleep(down_seconds)
        self.start_redis()

    def start_redis(self) -> None:
        subprocess.run(REDIS_START, check=False, capture_output=True)
        until(self.redis_up, 30, "Redis to answer")

    def ensure_running(self) -> None:
        if not self.postgres_up():
            self.start_postgres()
        if not self.redis_up():
            self.start_redis()


class Platform:
    """`manage.py serve` on a port of its own; its output goes to `log_path`."""

    def __init__(self, stack: Stack, log_path: Path):
        self.stack = stack
        self.port = _free_port()
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
        env.update(self.stack.env, PORT=str(self.port), HOST="127.0.0.1")
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen([sys.executable, "manage.py", "serve"], cwd=ROOT, env=env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self, timeout: float = 90) -> None:
        """SIGTERM, as Ctrl-C or a service manager does: workers hand their jobs back."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def worker_pid(self, queue: str) -> int | None:
        """The pid of the supervisor's Celery worker for `queue` (it takes leases itself)."""
        if self.process is None:
            return None
        for child in _children(self.process.pid):
            if f"--queues {queue} " in _cmdline(child) + " ":
                return child
        return None

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class Api(api_client.Api):
    """The benchmarks' client, with the polls and calls the fault suite makes."""

    def get(self, path: str, tries: int = 20) -> dict:
        """A poll, retried through a moment when the database is restarting."""
        for attempt in range(tries):
            try:
                return self.call("GET", path)
            except (urllib.error.HTTPError, urllib.error.URLError, ConnectionError) as exc:
                if isinstance(exc, urllib.error.HTTPError) and exc.code < 500:
                    raise
                time.sleep(0.5)
        return self.call("GET", path)

    def submit(self, dataset_id: int, hyperparameters: dict) -> dict:
        body = json.dumps({"template": "fai-cls", "dataset": dataset_id, "hyperparameters": hyperparameters})
        return self.call("POST", "/jobs/", body.encode(), "application/json")

    def up(self) -> bool:
        """The web server answers (a 401 is an answer)."""
        try:
            self.call("GET", "/templates/")
            return True
        except urllib.error.HTTPError:
            return True
        except OSError:  # refused, reset: not listening yet
            return False


def colours_zip(path: Path, per_class: dict[str, int], size: int = 32, stored_png: bool = False) -> Path:
    """`<split>/<class>/<n>.png` of noisy red and blue squares. `stored_png` writes PNGs
    without compression, which the zip then deflates: a small archive that unpacks large."""
    from PIL import Image

    rng = random.Random(0)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for split, count in per_class.items():
            for colour, base in (("red", (220, 30, 30)), ("blue", (30, 40, 220))):
                for n in range(count):
                    image = Image.new("RGB", (size, size), base)
                    if not stored_png:
                        image.putdata([tuple(min(255, max(0, c + rng.randint(-40, 40))) for c in base)
                                       for _ in range(size * size)])
                    buffer = io.BytesIO()
                    image.save(buffer, format="PNG", compress_level=0 if stored_png else 6)
                    archive.writestr(f"{split}/{colour}/{n}.png", buffer.getvalue())
    return path


def until(predicate, timeout: float, what: str, interval: float = 0.2):
    """`predicate()`'s first true value, asked every `interval` seconds until `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
