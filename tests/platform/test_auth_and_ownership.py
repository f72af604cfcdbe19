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
