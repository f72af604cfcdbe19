"""A list filter on another user's row answers exactly as one on a row that does not exist
(the same 400 naming the filter), so filters reveal no ids; one's own rows filter as before."""
import pytest

from platform_api.deployments.models import Deployment
from tests.platform.rows import ready_dataset, ready_deployment, succeeded_job

pytestmark = pytest.mark.django_db

MISSING_ID = 999_999

# list endpoint, filter, the row of the owner's deployment it filters on
FILTERS = [
    ("jobs", "dataset", lambda deployment: deployment.model_version.dataset_id),
    ("models", "dataset", lambda deployment: deployment.model_version.dataset_id),
    ("models", "job", lambda deployment: deployment.model_version.job_id),
    ("deployments", "model_version", lambda deployment: deployment.model_version_id),
]


@pytest.fixture
def deployment(user, templates) -> Deployment:
    return ready_deployment(user)


@pytest.mark.parametrize("endpoint, name, row_id", FILTERS, ids=[f"{e}?{n}" for e, n, _ in FILTERS])
def test_another_user_s_id_in_a_filter_answers_like_a_missing_id(api, other_api, deployment, endpoint, name, row_id):
    theirs = other_api.get(f"/api/v1/{endpoint}/?{name}={row_id(deployment)}")
    missing = other_api.get(f"/api/v1/{endpoint}/?{name}={MISSING_ID}")
    assert (theirs.status_code, theirs.json()) == (missing.status_code, missing.json())
    assert theirs.status_code == 400 and list(theirs.json()) == [name]


@pytest.mark.parametrize("endpoint, name, row_id", FILTERS, ids=[f"{e}?{n}" for e, n, _ in FILTERS])
def test_a_filter_on_one_s_own_row_lists_what_uses_it(api, user, deployment, endpoint, name, row_id):
    succeeded_job(user, ready_dataset(user))  # a job on another dataset, with no model: filtered out
    body = api.get(f"/api/v1/{endpoint}/?{name}={row_id(deployment)}").json()
    assert body["count"] == 1


def test_a_filter_on_a_shared_template_still_lists_one_s_jobs(api, deployment):
    assert api.get("/api/v1/jobs/?template=fai-cls").json()["count"] == 1
