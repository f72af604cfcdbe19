"""Fixtures of the Clarifai v2 tests: the official clients pointed at a live server.

REST: clarifai-grpc's JSON channel against pytest-django's live server. gRPC: the
platform's gRPC server on a free port in this process. Jobs and imports are run in this
process by the tests (tests/queueing.py), so every step is deterministic.
"""
from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token

from platform_api.clarifai.grpc_server import build_server
from tests.clarifai.clients import json_stub


@pytest.fixture(autouse=True)
def _fp32(settings):
    """What the worker and predict would decide on a CPU without fast bf16, without the
    timed probe: these tests check the API, not the precision choice."""
    settings.TRAINING_PRECISION = "fp32"
    settings.PREDICT_PRECISION = "fp32"


@pytest.fixture
def token(user) -> str:
    return Token.objects.get_or_create(user=user)[0].key


@pytest.fixture
def auth(token) -> tuple:
    return (("authorization", f"Key {token}"),)


@pytest.fixture
def stub(live_server, templates):
    """clarifai-grpc's V2Stub over its JSON channel (REST), at the live server."""
    return json_stub(live_server.url)


@pytest.fixture
def grpc_url(transactional_db, templates):
    """`http://127.0.0.1:<port>` of a gRPC server running in this process."""
    server, port = build_server("127.0.0.1:0", workers=4)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop(None).wait()
