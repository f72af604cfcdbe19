"""The console's pages and what they stand on: sign-in, one's own objects only, tokens made
and revoked by their owner, session auth with CSRF on the API, the API root, and the API
docs and plot library served by the platform itself."""
import re
import subprocess
import sys

import pytest
from django.contrib.staticfiles import finders
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from platform_api.datasets.models import Dataset
from tests.conftest import ROOT


@pytest.fixture
def browser(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def mine(user):
    return Dataset.objects.create(owner=user, name="mine", format="classification_folder", task="classification")


@pytest.mark.parametrize("path", ["/", "/jobs/", "/jobs/new/", "/models/", "/tokens/", "/datasets/1/"])
def test_every_page_asks_a_stranger_to_sign_in(client, db, path):
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("path", ["/", "/jobs/", "/jobs/new/", "/models/", "/tokens/"])
def test_a_signed_in_person_sees_the_pages(browser, path):
    response = browser.get(path)
    assert response.status_code == 200
    assert b'name="csrf-token"' in response.content


def test_a_page_about_another_user_s_dataset_is_not_found(client, django_user_model, mine):
    client.force_login(django_user_model.objects.create_user("mallory", password="pw"))
    assert client.get(f"/datasets/{mine.pk}/").status_code == 404


def test_it_signs_in_with_a_password(client, user):
    response = client.post("/login/", {"username": "alice", "password": "pw"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_a_person_creates_replaces_and_revokes_their_token(browser, user):
    shown = browser.post("/tokens/", {"action": "create"}, follow=True)
    first = Token.objects.get(user=user).key
    assert first.encode() in shown.content  # shown once, on the page after creating it
    assert first.encode() not in browser.get("/tokens/").content
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {first}")
    assert api.get("/api/v1/datasets/").status_code == 200

    browser.post("/tokens/", {"action": "create"})
    assert Token.objects.get(user=user).key != first
    assert api.get("/api/v1/datasets/").status_code == 401  # the old one stopped working

    browser.post("/tokens/", {"action": "revoke"})
    assert not Token.objects.filter(user=user).exists()


def test_the_api_accepts_a_session_and_wants_its_csrf_token_for_changes(user, mine):
    api = APIClient(enforce_csrf_checks=True)
    api.force_login(user)
    assert api.get(f"/api/v1/datasets/{mine.pk}/").status_code == 200
    refused = api.delete(f"/api/v1/datasets/{mine.pk}/")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    page = api.get("/tokens/")
    csrf = re.search(rb'name="csrf-token" content="([^"]+)"', page.content).group(1).decode()
    assert api.delete(f"/api/v1/datasets/{mine.pk}/", HTTP_X_CSRFTOKEN=csrf).status_code == 409  # importing: kept


def test_without_credentials_the_api_still_answers_401(db):
    response = APIClient().get("/api/v1/datasets/")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"


def test_the_api_root_lists_templates(api):
    assert api.get("/api/v1/").json()["templates"].endswith("/api/v1/templates/")


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_api_docs_load_nothing_from_another_host(browser, path):
    page = browser.get(path).content.decode()
    assert "/static/drf_spectacular_sidecar/" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), page


def test_the_plot_library_is_served_from_its_registry_package():
    found = finders.find("console/vendor/plotly.min.js")
    assert found and found.endswith("plotly/package_data/plotly.min.js")
    listed = finders.get_finder("platform_api.console.finders.PackageFileFinder").list([])
    assert [(storage.prefix, path) for path, storage in listed] == [("console/vendor", "plotly.min.js")]  # collectstatic


def test_create_api_token_refuses_a_data_dir_the_server_never_set_up(tmp_path):
    empty = tmp_path / "elsewhere"
    result = subprocess.run([sys.executable, "manage.py", "create_api_token", "alice"], cwd=ROOT, capture_output=True,
                            text=True, env={"PATH": "/usr/bin:/bin", "DATA_DIR": str(empty), "SECRET_KEY": "x"}, timeout=120)
    assert result.returncode != 0
    assert "no platform database" in result.stderr and str(empty) in result.stderr
    assert not (empty / "db.sqlite3").exists()
