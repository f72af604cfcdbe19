"""Many concurrent clients against a real gunicorn web server: the model's queue stays
bounded (503 with Retry-After past it), clients that hang up are dropped from their batch,
and the server answers normally afterwards."""
import base64
import http.client
import json
import os
import socket
import subprocess
import threading
import time

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token

from platform_api.deployments.models import Deployment
from platform_api.web_command import web_command
from platform_api.registry.models import ModelVersion
from platform_api.training.runner import run_job
from platform_api.training.services import submit_job
from tests.conftest import ROOT, _database_url, wait_for
from tests.factories import classification_zip, image_bytes
from tests.platform.flows import FAST_FAI_CLS, held_out, import_in_process
from tests.queueing import TRAIN_JOB, queued

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

IMAGES_PER_REQUEST = 4
SERVER_ENV = {
    "MAX_PREDICT_IMAGES": str(IMAGES_PER_REQUEST),
    "PREDICT_QUEUE_IMAGES": str(2 * IMAGES_PER_REQUEST),  # two requests wait at most
    "PREDICT_BATCH_WINDOW_MS": "300",  # long enough for requests to pile up behind the first
    "PREDICT_RUNTIME": "onnxruntime",
    "WEB_THREADS": "48",
    "LOG_LEVEL": "INFO",
}


@pytest.fixture
def deployment(user, templates, tmp_path):
    dataset = import_in_process(user, classification_zip(tmp_path / "d.zip"))
    with queued(TRAIN_JOB):
        job = submit_job(user, "fai-cls", dataset.pk, FAST_FAI_CLS)
        run_job(job.pk)
    model_version = ModelVersion.objects.get(job=job)
    # Ready deployments load in a web process on their first predict.
    return Deployment.objects.create(owner=user, model_version=model_version, runtime="onnxruntime", status="ready")


@pytest.fixture
def server(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, **SERVER_ENV, "HOST": "127.0.0.1", "DATABASE_URL": _database_url(),
           "DATA_DIR": str(settings.DATA_DIR), "DJANGO_SETTINGS_MODULE": "platform_api.settings"}
    log_path = tmp_path / "web.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(web_command(port), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: _answers(port), 60, message="the web server")
        yield port, log_path
    finally:
        process.terminate()
        process.wait(timeout=30)


def _answers(port) -> bool:
    try:
        http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/api/v1/")
        return True
    except OSError:
        return False


def request_bytes(deployment_id, token, colours) -> tuple[str, bytes, dict]:
    body = json.dumps({"images": [base64.b64encode(image_bytes(i)).decode() for i in held_out(colours)]}).encode()
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    return f"/api/v1/deployments/{deployment_id}/predict/", body, headers


def post(port, path, body, headers):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("POST", path, body=body, headers=headers)
    response = conn.getresponse()
    answer = response.status, response.getheader("Retry-After"), json.loads(response.read() or b"null")
    conn.close()
    return answer


def hang_up_after_sending(port, path, body, headers) -> None:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}",
             *[f"{name}: {value}" for name, value in headers.items()], "", ""]
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall("\r\n".join(lines).encode() + body)


def test_many_concurrent_clients_get_answers_or_503_and_clients_that_hang_up_are_dropped(user, deployment, server):
    port, log_path = server
    token = Token.objects.get_or_create(user=user)[0].key
    colours = ("red", "blue", "blue", "red")
    path, body, headers = request_bytes(deployment.pk, token, colours)
    assert post(port, path, body, headers)[0] == 200  # loads the model in the web process

    # Two clients hang up right after sending: both requests fit in the queue, and are
    # dropped when their batch forms at the end of the window.
    for _ in range(2):
        hang_up_after_sending(port, path, body, headers)
    wait_for(lambda: "dropped" in log_path.read_text(errors="replace"), 30, message="the dropped requests logged")

    answers = [None] * 40
    barrier = threading.Barrier(len(answers))

    def client(index):
        barrier.wait()
        answers[index] = post(port, path, body, headers)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(answers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    statuses = [status for status, _, _ in answers]
    assert set(statuses) <= {200, 503}, statuses
    assert statuses.count(503) >= 1 and statuses.count(200) >= 2, statuses
    for status, retry_after, answer in answers:
        if status == 503:
            assert int(retry_after) >= 1 and answer["code"] == "deployment_busy"
        else:
            assert [p[0]["label"] for p in answer["predictions"]] == list(colours)
    time.sleep(0.5)
    assert post(port, path, body, headers)[0] == 200  # the queue drained; the server serves as before
    dropped = sum(int(line.split("dropped ")[1].split()[0]) for line in log_path.read_text().splitlines()
                  if "dropped " in line)
    assert dropped >= 2
