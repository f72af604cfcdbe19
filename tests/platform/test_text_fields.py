"""Names a person gives are strings, never blank, never with a NUL character, as the OpenAPI
document's pattern says; cases schemathesis found."""
import pytest

from tests.platform.rows import ready_dataset
from tests.queueing import TRAIN_JOB, queued

pytestmark = pytest.mark.django_db


def submit(api, user, **fields):
    body = {"template": "fai-cls", "dataset": ready_dataset(user).pk, **fields}
    with queued(TRAIN_JOB):
        return api.post("/api/v1/jobs/", body, format="json")


def test_it_refuses_a_number_as_a_job_name(api, user, templates):
    response = submit(api, user, name=0)
    assert response.status_code == 400 and response.json() == {"name": ["Not a valid string."]}


def test_it_refuses_a_number_as_a_template_id(api, user, templates):
    assert submit(api, user, template=7).json() == {"template": ["Not a valid string."]}


def test_it_refuses_a_nul_character_in_a_job_name_once(api, user, templates):
    assert submit(api, user, name="a\x00b").json() == {"name": ["may not contain a NUL character"]}


def test_a_job_name_may_still_be_blank(api, user, templates):
    assert submit(api, user, name="  ").status_code == 201


def test_it_refuses_a_blank_dataset_name(api):
    response = api.post("/api/v1/datasets/", {"name": "  ", "format": "coco"}, format="multipart")
    assert response.json()["name"] == ["This field may not be blank."]
