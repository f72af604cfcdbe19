"""One error shape: {field: [messages]} for validation, {"detail", "code"} for the rest,
made by the exception handler whatever the view."""
from unittest import mock

import pytest
from django.db import OperationalError
from rest_framework.test import APIClient

from platform_api.datasets.models import Dataset
from platform_api.training.models import Job
from training_templates.models import Template

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset(user):
    return Dataset.objects.create(owner=user, name="d", format="classification_folder", task="classification",
                                  status="ready", classes=["a", "b"], splits={"train": 4, "valid": 2})


def detail_and_code(response, status: int) -> str:
    body = response.json()
    assert response.status_code == status, body
    assert set(body) == {"detail", "code"} and body["detail"]
    return body["code"]


def test_no_credentials_is_not_authenticated():
    assert detail_and_code(APIClient().get("/api/v1/jobs/"), 401) == "not_authenticated"


def test_a_bad_token_is_authentication_failed():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token nope")
    assert detail_and_code(client.get("/api/v1/jobs/1/"), 401) == "authentication_failed"


def test_a_missing_object_and_an_unknown_path_are_not_found(api):
    assert detail_and_code(api.get("/api/v1/datasets/999/"), 404) == "not_found"
    assert detail_and_code(api.get("/api/v1/no-such-thing/"), 404) == "not_found"


def test_a_method_the_endpoint_lacks_is_method_not_allowed(api):
    assert detail_and_code(api.delete("/api/v1/jobs/"), 405) == "method_not_allowed"


def test_cancelling_an_ended_job_is_a_conflict_with_its_code(api, templates, dataset, user):
    job = Job.objects.create(owner=user, template=Template.objects.get(pk="fai-cls"), dataset=dataset,
                             trainer="fai_cls", status="succeeded")
    assert detail_and_code(api.post(f"/api/v1/jobs/{job.pk}/cancel/"), 409) == "job_ended"


def test_deleting_a_dataset_jobs_trained_on_is_dataset_in_use(api, templates, dataset, user):
    Job.objects.create(owner=user, template=Template.objects.get(pk="fai-cls"), dataset=dataset, trainer="fai_cls")
    assert detail_and_code(api.delete(f"/api/v1/datasets/{dataset.pk}/"), 409) == "dataset_in_use"
    assert Dataset.objects.filter(pk=dataset.pk).exists()


def test_validation_errors_name_their_fields_and_carry_no_detail(api, templates, dataset):
    response = api.post("/api/v1/jobs/", {"template": "fai-cls", "dataset": dataset.pk,
                                          "hyperparameters": {"batch_size": 0}}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"hyperparameters"} and "batch_size" in response.json()["hyperparameters"]


def test_a_malformed_body_is_a_parse_error(api):
    response = api.post("/api/v1/jobs/", b"{not json", content_type="application/json")
    assert detail_and_code(response, 400) == "parse_error"


@pytest.mark.parametrize("path, failing", [
    ("/api/v1/jobs/1/", "platform_api.training.views.status_body"),  # the poll's fast path
    ("/api/v1/datasets/", "platform_api.datasets.views.DatasetViewSet.get_queryset"),  # a DRF view
])
def test_a_database_that_does_not_answer_is_a_503_to_retry_not_a_500(api, path, failing):
    with mock.patch(failing, side_effect=OperationalError("server closed the connection unexpectedly")):
        response = api.get(path)
    assert detail_and_code(response, 503) == "database_unavailable"
    assert int(response["Retry-After"]) >= 1
    assert "closed the connection" not in response.content.decode()  # the log has it, not the client
