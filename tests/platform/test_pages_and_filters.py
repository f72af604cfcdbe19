"""List pages and filters refuse what they cannot read, with a 400 naming the parameter,
instead of quietly listing something else; cases schemathesis found."""
import pytest

from tests.platform.rows import ready_dataset

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("query", ["offset=null", "offset=-5", "offset=1.5", "offset=abc", "offset=", "offset=+1",
                                   "offset=9223372036854775808"])
def test_it_refuses_an_offset_that_is_not_a_whole_number_in_range(api, query):
    response = api.get(f"/api/v1/datasets/?{query}")
    assert response.status_code == 400
    assert list(response.json()) == ["offset"] and "whole number from 0" in response.json()["offset"][0]


@pytest.mark.parametrize("query", ["limit=-1", "limit=0", "limit=1001", "limit=null", "limit=2.0", "limit=٥"])
def test_it_refuses_a_limit_outside_1_to_1000(api, query):
    response = api.get(f"/api/v1/jobs/?{query}")
    assert response.status_code == 400
    assert response.json() == {"limit": [f"must be a whole number from 1 to 1000, got {query.split('=')[1]!r}"]}


def test_a_page_in_range_still_lists(api, user):
    for _ in range(3):
        ready_dataset(user)
    body = api.get("/api/v1/datasets/?limit=2&offset=1").json()
    assert body["count"] == 3 and len(body["results"]) == 2


def test_an_offset_past_the_end_lists_nothing(api, user):
    ready_dataset(user)
    assert api.get("/api/v1/datasets/?offset=9223372036854775807").json()["results"] == []


def test_it_filters_datasets_by_format(api, user):
    ready_dataset(user)
    response = api.get("/api/v1/datasets/?format=classification_folder")
    assert response.status_code == 200 and response.json()["count"] == 1
    assert api.get("/api/v1/datasets/?format=coco").json()["count"] == 0
