"""GET /jobs/{id}/ is the status poll: at most one query a second per job, an ETag, and 304
while nothing changed."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from platform_api.datasets.models import Dataset
from platform_api.training import queries
from platform_api.registry.models import ModelVersion
from platform_api.training.models import Job
from training_templates.models import Template

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(user, templates):
    dataset = Dataset.objects.create(owner=user, name="d", format="classification_folder", task="classification",
                                     status="ready", classes=["a", "b"])
    return Job.objects.create(owner=user, template=Template.objects.get(pk="fai-cls"), dataset=dataset,
                              trainer="fai_cls", status="running", progress={"percent": 42.0},
                              hyperparameter_spec=[{"name": "epochs"}])


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(queries.time, "monotonic", lambda: now[0])
    return now


def polled_queries(api, job) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(f"/api/v1/jobs/{job.pk}/")
    assert response.status_code == 200 and response.json()["progress"]["percent"] >= 42.0
    return len(captured.captured_queries)


def test_a_poll_costs_one_query_and_polls_within_the_cache_lifetime_none(api, job, clock, settings):
    settings.JOB_STATUS_CACHE_SECONDS = 1.0
    api.get("/api/v1/datasets/")  # the token is looked up once
    assert polled_queries(api, job) == 1
    clock[0] += 0.9
    assert polled_queries(api, job) == 0
    clock[0] += 0.2
    assert polled_queries(api, job) == 1


def test_a_zero_cache_lifetime_reads_every_poll(api, job, settings):
    settings.JOB_STATUS_CACHE_SECONDS = 0
    api.get("/api/v1/datasets/")
    assert polled_queries(api, job) == 1 and polled_queries(api, job) == 1


def test_a_cancel_through_this_process_shows_at_the_next_poll(api, job, django_capture_on_commit_callbacks):
    api.get(f"/api/v1/jobs/{job.pk}/")
    Job.objects.filter(pk=job.pk).update(lease_owner="worker-1")
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/api/v1/jobs/{job.pk}/cancel/").status_code == 200
    assert api.get(f"/api/v1/jobs/{job.pk}/").json()["cancel_requested"] is True


def test_an_unchanged_job_answers_304_to_its_etag_and_200_once_it_changes(api, job, clock):
    first = api.get(f"/api/v1/jobs/{job.pk}/")
    etag = first["ETag"]
    again = api.get(f"/api/v1/jobs/{job.pk}/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    assert api.get(f"/api/v1/jobs/{job.pk}/", HTTP_IF_NONE_MATCH=f'"other", W/{etag}').status_code == 304
    Job.objects.filter(pk=job.pk).update(progress={"percent": 43.0})
    clock[0] += 1.1  # a poll may be one cache lifetime old
    changed = api.get(f"/api/v1/jobs/{job.pk}/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed.json()["progress"]["percent"] == 43.0
    assert changed["ETag"] != etag


def test_the_poll_names_the_model_once_the_job_registered_one(api, job, user, clock):
    assert api.get(f"/api/v1/jobs/{job.pk}/").json()["model"] is None
    model = ModelVersion.objects.create(owner=user, job=job, template_id="fai-cls", dataset=job.dataset,
                                        trainer="fai_cls", artifact_key="models/x")
    clock[0] += 1.1
    assert api.get(f"/api/v1/jobs/{job.pk}/").json()["model"] == model.pk


@pytest.mark.parametrize("job_id", ["999999", "abc", "1.5", "99999999999999999999", "0"])
def test_a_missing_or_malformed_id_is_a_json_404(api, job, job_id):
    response = api.get(f"/api/v1/jobs/{job_id}/")
    assert response.status_code == 404 and response.json() == {"detail": "Not found.", "code": "not_found"}


def test_another_users_job_is_a_404_even_with_its_etag(api, other_api, job):
    etag = api.get(f"/api/v1/jobs/{job.pk}/")["ETag"]
    assert other_api.get(f"/api/v1/jobs/{job.pk}/", HTTP_IF_NONE_MATCH=etag).status_code == 404


def test_expired_bodies_make_room_and_the_cache_stays_within_its_byte_budget(api, job, user, clock, monkeypatch):
    body_size = len(api.get(f"/api/v1/jobs/{job.pk}/").content)
    monkeypatch.setattr(queries, "MAX_CACHED_BYTES", body_size * 2 + 1)
    others = [Job.objects.create(owner=user, template=job.template, dataset=job.dataset, trainer="fai_cls",
                                 progress={"percent": 42.0}) for _ in range(3)]
    for other in others:
        assert api.get(f"/api/v1/jobs/{other.pk}/").status_code == 200
        assert queries._cached_bytes <= queries.MAX_CACHED_BYTES
    clock[0] += 2  # every body expires
    assert api.get(f"/api/v1/jobs/{job.pk}/").status_code == 200
    assert list(queries._bodies) == [job.pk]
