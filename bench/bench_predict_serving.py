"""Predict throughput through the API under 1, 8 and 32 concurrent clients, against the
deployment's runtime's own batched forward throughput on the same model.

A fai-cls ResNet-18 at 224 px is deployed in its default runtime (PREDICT_RUNTIME) on the
gunicorn `make run` starts (WEB_THREADS=32, so 32 clients can be in the server at once),
on a throw-away DATA_DIR. Each client sends one 256 px JPEG per request (JSON base64) on a
keep-alive connection. The baseline is the same runtime, in this process, running forward
passes on preprocessed batches of min(clients, PREDICT_MAX_BATCH) images: what dynamic
batching can at best turn the clients' requests into.

The two alternate in many pairs of short runs (a second through the API, then half a
second raw); each pair gives a ratio, and the median and quartiles of those ratios are
reported. These machines' speed drifts by 20-40% within seconds (shared cores): comparing
the best of two long runs of each, as an earlier version did, compared quiet moments with
busy ones and moved the ratio between 0.70 and 0.88 from one run to the next.
Usage: .venv/bin/python bench/bench_predict_serving.py [--seconds 1] [--rounds 30] [--clients 1 8 32]
"""
from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from statistics import median, quantiles

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from bench.bench_job_polling import free_port, manage  # noqa: E402
from platform_api.web_command import web_command  # noqa: E402
from bench.serving_models import photo, write_fai_cls_artifact  # noqa: E402
from trainers.export import OnnxPredictor  # noqa: E402
from trainers.families import load_exportable, load_predictor  # noqa: E402

CLIENTS = (1, 8, 32)
MAX_BATCH = 32  # PREDICT_MAX_BATCH's default
ARTIFACT_KEY = "models/bench-resnet18"
TARGET = 0.8

DEPLOY = """
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from platform_api.datasets.models import Dataset
from platform_api.deployments.models import Deployment
from platform_api.registry.models import ModelVersion
from platform_api.training.models import Job
from training_templates.models import Template
user, _ = get_user_model().objects.get_or_create(username="bench")
token, _ = Token.objects.get_or_create(user=user)
dataset = Dataset.objects.create(owner=user, name="d", format="classification_folder", task="classification", status="ready")
template = Template.objects.get(pk="fai-cls")
job = Job.objects.create(owner=user, template=template, dataset=dataset, trainer="fai_cls", status="succeeded")
model = ModelVersion.objects.create(owner=user, job=job, template=template, dataset=dataset, trainer="fai_cls",
                                    artifact_key="%s")
deployment = Deployment.objects.create(owner=user, model_version=model, status="ready")
print(token.key, deployment.pk, deployment.runtime)
"""


def jpeg_payload(seed: int) -> bytes:
    buffer = io.BytesIO()
    photo(seed).save(buffer, format="JPEG", quality=90)
    return json.dumps({"images": [base64.b64encode(buffer.getvalue()).decode()]}).encode()


def hammer(port: int, path: str, token: str, clients: int, seconds: float) -> float:
    """Images per second answered, each client sending one image per request, back to back."""
    counts = [0] * clients
    payloads = [jpeg_payload(i) for i in range(clients)]
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    start_line = threading.Barrier(clients)
    stop = [0.0]

    def run(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        start_line.wait()
        while time.monotonic() < stop[0]:
            conn.request("POST", path, body=payloads[index], headers=headers)
            response = conn.getresponse()
            body = response.read()
            assert response.status == 200, (response.status, body[:300])
            counts[index] += 1
        conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    stop[0] = time.monotonic() + seconds
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - began)


def raw_forward(runtime: str, artifact: Path, onnx_path: Path):
    """images/s of the runtime's own forward pass on a preprocessed batch of `size`."""
    if runtime == "onnxruntime":
        predictor = OnnxPredictor(load_exportable(artifact), onnx_path, device="cpu")
        forward = predictor.outputs
    else:
        predictor = load_predictor(artifact, device="cpu", precision=os.environ.get("PREDICT_PRECISION", "auto"))

        def forward(batch):
            with torch.inference_mode(), predictor.precision.autocast():
                predictor.model(batch.contiguous(memory_format=torch.channels_last))

    def measure(size: int, seconds: float) -> float:
        batch = load_exportable(artifact).preprocess([photo(i) for i in range(size)])
        forward(batch)
        done, began = 0, time.monotonic()
        while time.monotonic() - began < seconds:
            forward(batch)
            done += size
        return done / (time.monotonic() - began)

    return measure


def start_server(env: dict, port: int) -> subprocess.Popen:
    os.environ["WEB_THREADS"] = env["WEB_THREADS"]  # web_command reads this process's environment
    command = [c for c in web_command(port) if c != "-"]
    command = command[: command.index("--access-logfile")]
    assert command[command.index("--threads") + 1] == env["WEB_THREADS"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/api/v1/")
            return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit("the web server did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=1)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--clients", type=int, nargs="+", default=list(CLIENTS))
    args = parser.parse_args()
    if args.rounds < 2:
        parser.error("--rounds must be at least 2 (the ratio's quartiles need two pairs)")
    data_dir = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    env = {**os.environ, "DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING", "WEB_THREADS": "32",
           "DJANGO_SETTINGS_MODULE": "platform_api.settings"}
    env.pop("DATABASE_URL", None)
    manage(env, "migrate", "--verbosity", "0")
    manage(env, "load_templates", "--verbosity", "0")
    artifact = write_fai_cls_artifact("resnet18", 224, data_dir / "storage" / ARTIFACT_KEY)
    out = subprocess.run([sys.executable, "manage.py", "shell", "-c", DEPLOY % ARTIFACT_KEY], cwd=ROOT, env=env,
                         check=True, capture_output=True, text=True).stdout
    token, deployment_id, runtime = out.strip().splitlines()[-1].split()
    path = f"/api/v1/deployments/{deployment_id}/predict/"
    port = free_port()
    server = start_server(env, port)
    try:
        hammer(port, path, token, 1, 1)  # the first predict loads the model (and exports it to ONNX)
        hammer(port, path, token, 8, 3)
        raw = raw_forward(runtime, artifact, data_dir / "storage" / "exports" / ARTIFACT_KEY / "model.onnx")
        print(f"fai-cls ResNet-18 224 px, runtime {runtime}, {torch.get_num_threads()} threads")
        for clients in args.clients:
            size = min(clients, MAX_BATCH)
            hammer(port, path, token, clients, 1)  # the server's threads and connections for this load
            api, bare = [], []
            for _ in range(args.rounds):
                api.append(hammer(port, path, token, clients, args.seconds))
                bare.append(raw(size, args.seconds / 2))
            low, middle, high = quantiles([a / b for a, b in zip(api, bare)], n=4)
            print(f"{clients:2d} clients: API {median(api):6.1f} img/s, raw {runtime} forward at batch {size:2d} "
                  f"{median(bare):6.1f} img/s (medians of {args.rounds}); ratio {middle:.2f} "
                  f"(quartiles {low:.2f}-{high:.2f}; target >= {TARGET})")
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
