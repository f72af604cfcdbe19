"""Apps, concepts and inputs through the JSON channel: paging as the SDK pages, inputs
checked whole before anything is stored, deletes that can be repeated."""
import pytest
from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from PIL import Image

from platform_api.clarifai.models import Input
from tests.clarifai.clients import app, colour_inputs, concept, image_input, ok
from tests.factories import colour_image, image_bytes

pytestmark = pytest.mark.django_db(transaction=True)


def post_inputs(stub, auth, inputs):
    return stub.PostInputs(service_pb2.PostInputsRequest(user_app_id=app(), inputs=inputs), metadata=auth)


def test_an_app_is_made_on_first_use_or_by_post_apps(stub, auth):
    got = ok(stub.GetApp(service_pb2.GetAppRequest(user_app_id=app("first-use")), metadata=auth)).app
    assert (got.id, got.user_id) == ("first-use", "alice")
    ok(stub.PostApps(service_pb2.PostAppsRequest(user_app_id=app(), apps=[resources_pb2.App(id="posted")]),
                     metadata=auth))
    again = stub.PostApps(service_pb2.PostAppsRequest(user_app_id=app(), apps=[resources_pb2.App(id="posted")]),
                          metadata=auth)
    assert again.status.code == codes.CONN_INVALID_REQUEST and "already exists" in again.status.details
    listed = ok(stub.ListApps(service_pb2.ListAppsRequest(user_app_id=app("")), metadata=auth)).apps
    assert [a.id for a in listed] == ["first-use", "posted"] and listed[0].user_id == "alice"


def test_concepts_page_until_an_empty_page(stub, auth):
    ok(stub.PostConcepts(service_pb2.PostConceptsRequest(
        user_app_id=app(), concepts=[resources_pb2.Concept(id=f"c{n}") for n in range(3)]), metadata=auth))
    pages = [ok(stub.ListConcepts(service_pb2.ListConceptsRequest(user_app_id=app(), page=page, per_page=2),
                                  metadata=auth)).concepts for page in (1, 2, 3)]
    assert [[c.id for c in page] for page in pages] == [["c0", "c1"], ["c2"], []]


def test_inputs_are_stored_with_their_labels_and_read_back(stub, auth):
    ok(stub.PostDatasets(service_pb2.PostDatasetsRequest(user_app_id=app(), datasets=[resources_pb2.Dataset(id="d")]),
                         metadata=auth))
    image = colour_image("red", 40)
    labelled = image_input("red-1", image, [concept("red"), concept("blue", 0.0)], "d")
    stored = ok(post_inputs(stub, auth, [labelled])).inputs[0]
    assert stored.status.code == codes.INPUT_DOWNLOAD_SUCCESS
    assert stored.data.image.image_info.width == 40 and not stored.data.image.base64
    got = ok(stub.GetInput(service_pb2.GetInputRequest(user_app_id=app(), input_id="red-1"), metadata=auth)).input
    assert got.data.image.base64 == image_bytes(image)
    assert [(c.id, c.value) for c in got.data.concepts] == [("red", 1.0), ("blue", 0.0)]
    assert list(got.dataset_ids) == ["d"]
    listed = ok(stub.ListInputs(service_pb2.ListInputsRequest(user_app_id=app()), metadata=auth)).inputs
    assert [i.id for i in listed] == ["red-1"]
    concepts = ok(stub.ListConcepts(service_pb2.ListConceptsRequest(user_app_id=app()), metadata=auth)).concepts
    assert {c.id for c in concepts} == {"red", "blue"}  # made by the labels that name them


def test_a_request_with_one_bad_input_stores_none_and_names_each_problem(stub, auth):
    good = colour_inputs(per_colour=1, dataset_id="")
    mask = resources_pb2.Region(
        region_info=resources_pb2.RegionInfo(mask=resources_pb2.Mask(image=resources_pb2.Image(
            base64=image_bytes(Image.new("L", (8, 8), 255))))),
        data=resources_pb2.Data(concepts=[concept("red")]))
    box = resources_pb2.Region(region_info=resources_pb2.RegionInfo(bounding_box=resources_pb2.BoundingBox(
        top_row=0.1, left_col=0.1, bottom_row=0.5, right_col=0.5)), data=resources_pb2.Data(concepts=[concept("red")]))
    bad = [
        image_input("half", colour_image("red"), [concept("red", 0.5)]),
        image_input("masked", colour_image("red", 32), regions=[mask, box]),
        resources_pb2.Input(id="nothing"),
        image_input("bad id/", colour_image("red")),
    ]
    response = post_inputs(stub, auth, good + bad)
    assert response.status.code == codes.CONN_INVALID_REQUEST
    details = response.status.details
    assert "inputs[2].data.concepts[0].value: must be 1 (positive) or 0 (negative), got 0.5" in details
    assert "inputs[3].data.regions[0].region_info.mask: is 8x8; the mask must be the image's size, 32x32" in details
    assert "inputs[3].data.regions[1].region_info: has only a bounding box" in details
    assert "inputs[4].data.image: send the image as data.image.base64" in details
    assert "inputs[5].id: must be 1-100 letters" in details
    assert not Input.objects.exists()


def test_an_input_id_that_exists_is_refused(stub, auth):
    ok(post_inputs(stub, auth, colour_inputs(per_colour=1, dataset_id="")))
    response = post_inputs(stub, auth, colour_inputs(per_colour=1, dataset_id=""))
    assert response.status.code == codes.CONN_INVALID_REQUEST and "already exists" in response.status.details


def test_deleting_inputs_twice_succeeds(stub, auth):
    ok(post_inputs(stub, auth, colour_inputs(per_colour=2, dataset_id="")))
    request = service_pb2.DeleteInputsRequest(user_app_id=app(), ids=["red-0", "blue-1"])
    ok(stub.DeleteInputs(request, metadata=auth))
    ok(stub.DeleteInputs(request, metadata=auth))
    assert sorted(Input.objects.values_list("input_id", flat=True)) == ["blue-0", "red-1"]
    listed = ok(stub.ListInputs(service_pb2.ListInputsRequest(user_app_id=app(), ids=["blue-0", "red-0"]),
                                metadata=auth)).inputs  # a repeated field in the query: ids=blue-0&ids=red-0
    assert [i.id for i in listed] == ["blue-0"]
