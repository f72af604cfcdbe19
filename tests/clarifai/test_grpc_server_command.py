"""`manage.py grpc_server`, as `make run` starts it: a process serving the V2 service on
GRPC_PORT, stopped gracefully by SIGTERM."""
import os
import signal
import socket
import subprocess
import sys

import grpc
import pytest
from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel
from clarifai_grpc.grpc.api import service_pb2, service_pb2_grpc
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from django.conf import settings

from platform_api.management.commands.serve import grpc_command
from tests.clarifai.clients import app
from tests.conftest import ROOT, _database_url, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_make_run_starts_the_grpc_server_command():
    assert grpc_command(18080)[-3:] == ["grpc_server", "--port", "18080"]


def test_the_grpc_server_command_serves_on_grpc_port_until_sigterm(templates, auth, tmp_path):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": _database_url(), "DATA_DIR": str(settings.DATA_DIR), "GRPC_PORT": str(port)}
    with open(tmp_path / "grpc.log", "wb") as log:
        process = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "grpc_server"], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    stub = service_pb2_grpc.V2Stub(ClarifaiChannel.get_insecure_grpc_channel(base="127.0.0.1", port=port))

    def answers():
        try:
            return stub.ListModelTypes(service_pb2.ListModelTypesRequest(user_app_id=app()), metadata=auth, timeout=5)
        except grpc.RpcError:
            return None  # not listening yet

    try:
        response = wait_for(answers, timeout=300, interval=1, message="the gRPC server")
        assert response.status.code == codes.SUCCESS and len(response.model_types) == 2
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    assert process.returncode == 0, (tmp_path / "grpc.log").read_text()[-2000:]
