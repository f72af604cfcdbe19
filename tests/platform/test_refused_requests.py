"""Requests refused before any view reads them answer in the API's JSON shapes, never with a
500 or Django's HTML "Bad Request (400)": nesting that overflows the JSON decoder, bodies,
files and fields over Django's limits, a bad Host, an unknown path, a crash."""
import io
import json

import pytest
from rest_framework.test import APIClient

from platform_api.datasets.models import Dataset
from platform_api.training import services as training_services
from tests.platform.rows import ready_deployment

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024
NESTED_5000 = b"[" * 5000 + b"]" * 5000


def detail_and_code(response, status: int) -> tuple[str, str]:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json", response.content[:300]
    body = response.json()
    assert set(body) == {"detail", "code"} and body["detail"]
    return body["detail"], body["code"]


@pytest.fixture
def deployment(user, templates):
    return ready_deployment(user)


@pytest.mark.parametrize("endpoint", ["jobs", "predict", "datasets"])
def test_it_refuses_json_nested_5000_deep_with_a_400_parse_error(api, deployment, endpoint):
    url = {"jobs": "/api/v1/jobs/", "datasets": "/api/v1/datasets/",
           "predict": f"/api/v1/deployments/{deployment.pk}/predict/"}[endpoint]
    detail, code = detail_and_code(api.post(url, NESTED_5000, content_type="application/json"), 400)
    assert code == "parse_error" and "nested more than 64 levels" in detail


def test_it_refuses_json_nested_deeper_than_64_levels_that_python_could_still_decode(api):
    body = {"template": "fai-cls", "dataset": 1, "hyperparameters": {"epochs": json.loads("[" * 70 + "]" * 70)}}
    detail, code = detail_and_code(api.post("/api/v1/jobs/", body, format="json"), 400)
    assert code == "parse_error" and "nested more than 64 levels" in detail


@pytest.mark.parametrize("number", ["1e999", "-1e999"])
def test_it_refuses_a_json_number_that_overflows_to_infinity(api, number):
    body = f'{{"template": "fai-cls", "dataset": 1, "hyperparameters": {{"learning_rate": {number}}}}}'
    detail, code = detail_and_code(api.post("/api/v1/jobs/", body, content_type="application/json"), 400)
    assert code == "parse_error" and "finite" in detail


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_it_still_refuses_the_nan_and_infinity_literals(api, literal):
    body = f'{{"template": "fai-cls", "dataset": 1, "hyperparameters": {{"learning_rate": {literal}}}}}'
    assert detail_and_code(api.post("/api/v1/jobs/", body, content_type="application/json"), 400)[1] == "parse_error"


def test_it_answers_an_80_mib_json_body_with_a_413(api, deployment, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * MiB  # the default MAX_JSON_BODY_BYTES
    body = b'{"images": ["' + b"A" * (80 * MiB) + b'"]}'
    response = api.post(f"/api/v1/deployments/{deployment.pk}/predict/", body, content_type="application/json")
    detail, code = detail_and_code(response, 413)
    assert code == "request_too_large" and "67108864 bytes" in detail


def test_it_answers_1000_predict_files_under_the_image_field(api, deployment, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 64  # the default MAX_PREDICT_IMAGES
    files = [io.BytesIO(b"x") for _ in range(1000)]
    response = api.post(f"/api/v1/deployments/{deployment.pk}/predict/", {"image": files}, format="multipart")
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert response.json() == {"image": ["at most 64 files per request"]}


def test_it_answers_a_dataset_upload_of_150_files_under_the_archive_field(api, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 64
    files = [io.BytesIO(b"PK") for _ in range(150)]
    response = api.post("/api/v1/datasets/", {"name": "d", "format": "coco", "archive": files}, format="multipart")
    assert response.status_code == 400 and response.json() == {"archive": ["at most 64 files per request"]}
    assert Dataset.objects.count() == 0


def test_it_answers_1500_form_fields_with_too_many_fields(api, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000  # Django's default
    fields = {f"field{n}": "x" for n in range(1500)}
    detail, code = detail_and_code(api.post("/api/v1/datasets/", fields, format="multipart"), 400)
    assert code == "too_many_fields" and "more than 1000 fields" in detail


def test_it_answers_1500_query_parameters_with_too_many_fields(api):
    query = "&".join(f"status=ready{n}" for n in range(1500))
    assert detail_and_code(api.get(f"/api/v1/datasets/?{query}"), 400)[1] == "too_many_fields"


def test_it_answers_a_host_outside_allowed_hosts_with_json(api, settings):
    settings.ALLOWED_HOSTS = ["platform.example"]
    assert detail_and_code(api.get("/api/v1/jobs/", HTTP_HOST="elsewhere.example"), 400)[1] == "bad_request"


@pytest.mark.parametrize("path", ["/api/v1/no-such-thing/", "/api/no-such-thing/"])
def test_an_unknown_path_under_an_api_prefix_is_a_json_404(api, path):
    assert detail_and_code(api.get(path), 404)[1] == "not_found"


def test_an_unknown_path_under_v2_is_a_json_clarifai_status(api):
    response = api.get("/v2/models/")  # the Clarifai clients read `status`, whatever the HTTP status
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json()["status"]["code"] == 11102 and "no such endpoint" in response.json()["status"]["details"]


def test_a_crash_under_api_is_a_json_500_that_leaks_nothing(api, monkeypatch, templates, user):
    def crash(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(training_services, "submit_job", crash)
    api.raise_request_exception = False
    response = api.post("/api/v1/jobs/", {"template": "fai-cls", "dataset": 1}, format="json")
    detail, code = detail_and_code(response, 500)
    assert code == "server_error" and "secret" not in detail


def test_the_admin_keeps_django_s_html_pages():
    response = APIClient().get("/admin/no-such-page/")
    assert response.status_code in (302, 404) and "json" not in response.get("Content-Type", "")
