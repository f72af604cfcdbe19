"""The platform as `make run` serves it (gunicorn and real Celery workers on the embedded
default), in a throw-away DATA_DIR, for the benchmarks that go through the API."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from bench.api_client import Api

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served_platform(data_dir: Path) -> Iterator[Api]:
    """An API client of a platform serving from `data_dir`, with a user's token; stopped after."""
    port = free_port()
    env = {**os.environ, "DATA_DIR": str(data_dir), "PORT": str(port), "LOG_LEVEL": "WARNING"}
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "TRAINING_PRECISION"):
        env.pop(name, None)
    server = subprocess.Popen([sys.executable, "manage.py", "serve"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        token = ""
        for _ in range(600):  # the server migrates first; the token command needs the tables
            done = subprocess.run([sys.executable, "manage.py", "create_api_token", "bench"], cwd=ROOT, env=env,
                                  capture_output=True, text=True)
            if done.returncode == 0:
                token = done.stdout.strip().splitlines()[-1]
                break
            time.sleep(0.5)
        api = Api(port, token)
        for _ in range(600):
            try:
                api.call("GET", "/templates/")
                break
            except OSError:
                time.sleep(0.2)
        yield api
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=60)
