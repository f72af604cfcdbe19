"""Requests per second of GET /api/v1/jobs/{id}/ against a bare Django JSON view.

Both are served by the same gunicorn configuration `make run` uses, on a throw-away
DATA_DIR, and hit by the same keep-alive HTTP clients for the same time, interleaved.
Run twice: with the default JOB_STATUS_CACHE_SECONDS (a web process reuses a job's body
for a second) and with 0 (every poll reads the database), each against its own bare view.
Usage: .venv/bin/python bench/bench_job_polling.py [--seconds 5] [--clients 4] [--rounds 3]
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from platform_api.web_command import web_command  # noqa: E402  (needs ROOT on the path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(env, *args) -> str:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout


def make_job(env) -> tuple[str, int]:
    """A user, a token and one job row with realistic progress and metrics."""
    script = """
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from platform_api.datasets.models import Dataset
from platform_api.training.models import Job
from training_templates.models import Template
user, _ = get_user_model().objects.get_or_create(username="bench")
token, _ = Token.objects.get_or_create(user=user)
dataset = Dataset.objects.create(owner=user, name="d", format="classification_folder", task="classification", status="ready")
metrics = {"accuracy": 0.9, "macro_f1": 0.88, "per_class": {str(i): {"precision": 0.9, "recall": 0.9, "f1": 0.9} for i in range(10)}}
job = Job.objects.create(owner=user, template=Template.objects.get(pk="fai-cls"), dataset=dataset, trainer="fai_cls",
    status="running", progress={"percent": 42.0, "epoch": 3, "epochs": 10, "step": 420, "steps": 1000, "eta_seconds": 12.5},
    metrics=metrics)
print(token.key, job.pk)
"""
    out = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout
    token, job_id = out.strip().splitlines()[-1].split()
    return token, int(job_id)


def hammer(port: int, path: str, headers: dict, seconds: float, clients: int) -> float:
    counts = [0] * clients
    stop = time.monotonic() + seconds

    def run(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port)
        while time.monotonic() < stop:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            assert response.status == 200, response.status
            counts[index] += 1
        conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="bench-polling-")
    env = {**os.environ, "DATA_DIR": data_dir, "DJANGO_SETTINGS_MODULE": "bench.polling_settings", "LOG_LEVEL": "WARNING"}
    env.pop("DATABASE_URL", None)
    manage(env, "migrate", "--verbosity", "0")
    manage(env, "load_templates", "--verbosity", "0")
    token, job_id = make_job(env)
    for cache_seconds in (None, "0"):
        label = "default status cache" if cache_seconds is None else "JOB_STATUS_CACHE_SECONDS=0"
        server_env = dict(env) if cache_seconds is None else {**env, "JOB_STATUS_CACHE_SECONDS": cache_seconds}
        best_bare, best_job = measure(server_env, token, job_id, args)
        print(f"ratio job/bare ({label}): {best_job / best_bare:.3f} (target >= 0.8)")


def measure(env, token: str, job_id: int, args) -> tuple[float, float]:
    port = free_port()
    command = [c for c in web_command(port) if c != "-"]
    command = command[: command.index("--access-logfile")]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/bare/")
                break
            except OSError:
                time.sleep(0.1)
        job_path, auth = f"/api/v1/jobs/{job_id}/", {"Authorization": f"Token {token}"}
        body = json.loads(_get(port, job_path, auth))
        assert body["progress"]["percent"] == 42.0
        hammer(port, "/bare/", {}, 1, args.clients)  # warm-up
        hammer(port, job_path, auth, 1, args.clients)
        bare, job = [], []
        for _ in range(args.rounds):
            bare.append(hammer(port, "/bare/", {}, args.seconds, args.clients))
            job.append(hammer(port, job_path, auth, args.seconds, args.clients))
        print(f"bare Django JSON view : {max(bare):8.1f} req/s  (rounds: {', '.join(f'{r:.0f}' for r in bare)})")
        print(f"GET /api/v1/jobs/{{id}}/: {max(job):8.1f} req/s  (rounds: {', '.join(f'{r:.0f}' for r in job)})")
        return max(bare), max(job)
    finally:
        server.terminate()
        server.wait(timeout=10)

def _get(port: int, path: str, headers: dict) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", path, headers=headers)
    return conn.getresponse().read().decode()


if __name__ == "__main__":
    main()
