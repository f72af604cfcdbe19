import io

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from platform_api.datasets.models import Dataset

ENDPOINTS = ["/api/v1/templates/", "/api/v1/datasets/", "/api/v1/jobs/", "/api/v1/models/", "/api/v1/deployments/", "/api/v1/weights/"]


@pytest.mark.parametrize("url", ENDPOINTS)
def test_it_refuses_requests_without_a_token(db, url):
    assert APIClient().get(url).status_code == 401


def test_it_refuses_a_wrong_token(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/v1/datasets/").status_code == 401


def test_create_api_token_creates_the_user_and_prints_only_the_token(db, django_user_model):
    out = io.StringIO()
    call_command("create_api_token", "bob", stdout=out)
    token = out.getvalue().strip()
    assert Token.objects.get(key=token).user.username == "bob"
    again = io.StringIO()
    call_command("create_api_token", "bob", stdout=again)
    assert again.getvalue().strip() == token
    assert django_user_model.objects.filter(username="bob").count() == 1


def test_another_user_s_dataset_is_not_found(api, other_api, user):
    dataset = Dataset.objects.create(owner=user, name="mine", format="classification_folder", task="classification")
    assert api.get(f"/api/v1/datasets/{dataset.pk}/").status_code == 200
    assert other_api.get(f"/api/v1/datasets/{dataset.pk}/").status_code == 404
    assert other_api.get("/api/v1/datasets/").json()["results"] == []


@pytest.mark.parametrize(
    "method, url",
    [
        ("post", "/api/v1/datasets/"), ("get", "/api/v1/datasets/1/"), ("delete", "/api/v1/datasets/1/"),
        ("post", "/api/v1/jobs/"), ("get", "/api/v1/jobs/1/"), ("get", "/api/v1/jobs/1/metrics/"),
        ("post", "/api/v1/jobs/1/cancel/"), ("get", "/api/v1/models/1/"), ("post", "/api/v1/models/1/deploy/"),
        ("get", "/api/v1/deployments/1/"), ("post", "/api/v1/deployments/1/predict/"),
        ("post", "/api/v1/deployments/1/stop/"), ("post", "/api/v1/weights/"),
    ],
)
def test_every_action_refuses_requests_without_a_token(db, method, url):
    response = getattr(APIClient(), method)(url)
    assert response.status_code == 401
    assert "credentials" in response.json()["detail"]


def test_an_unknown_api_path_answers_json(api):
    response = api.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "/api/v1/no-such-thing/" in response.json()["detail"]


def test_a_crash_answers_json_without_leaking_the_exception(api, user):
    from unittest import mock

    from rest_framework.authtoken.models import Token

    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get(user=user).key}")
    with mock.patch("platform_api.datasets.views.DatasetViewSet.list", side_effect=RuntimeError("secret detail")):
        response = client.get("/api/v1/datasets/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert "secret" not in response.content.decode()
