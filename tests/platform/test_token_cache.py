"""Token lookups are remembered for a few seconds; a deleted token or a deactivated user is
refused at once by the process that changed it."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from platform_api import ttl_cache
from platform_api.http import auth

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    auth._known.clear()
    yield
    auth._known.clear()


def client_with(token: Token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def token_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/datasets/").status_code == 200
    return sum("authtoken_token" in query["sql"] for query in queries.captured_queries)


def test_a_second_request_with_the_same_token_does_not_look_it_up_again(user):
    client = client_with(Token.objects.create(user=user))
    assert token_queries(client) == 1
    assert token_queries(client) == 0


def test_the_lookup_is_repeated_once_the_entry_expires(user, settings, monkeypatch):
    settings.TOKEN_CACHE_SECONDS = 5
    client = client_with(Token.objects.create(user=user))
    clock = [1000.0]
    monkeypatch.setattr(ttl_cache, "_now", lambda: clock[0])
    assert token_queries(client) == 1
    clock[0] += 4.9
    assert token_queries(client) == 0
    clock[0] += 0.2
    assert token_queries(client) == 1


def test_a_zero_lifetime_turns_the_cache_off(user, settings):
    settings.TOKEN_CACHE_SECONDS = 0
    client = client_with(Token.objects.create(user=user))
    assert token_queries(client) == 1 and token_queries(client) == 1


def test_a_deleted_token_is_refused_at_once(user):
    token = Token.objects.create(user=user)
    client = client_with(token)
    assert client.get("/api/v1/datasets/").status_code == 200
    token.delete()
    assert client.get("/api/v1/datasets/").status_code == 401


def test_a_deactivated_user_is_refused_at_once(user):
    client = client_with(Token.objects.create(user=user))
    assert client.get("/api/v1/datasets/").status_code == 200
    user.is_active = False
    user.save()
    assert client.get("/api/v1/datasets/").status_code == 401


def test_an_unknown_token_is_never_remembered(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token nope")
    assert client.get("/api/v1/datasets/").status_code == 401
    assert len(auth._known) == 0
