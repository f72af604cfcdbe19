"""Every error is a JSON status the clients read: bad keys, unknown ids, bad requests,
another user's objects, RPCs not served; over REST and over gRPC."""
import grpc
import pytest
import requests
from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel
from clarifai_grpc.grpc.api import resources_pb2, service_pb2, service_pb2_grpc
from clarifai_grpc.grpc.api.status import status_code_pb2 as codes
from rest_framework.authtoken.models import Token

from tests.clarifai.clients import app, concept, ok

pytestmark = pytest.mark.django_db(transaction=True)


def grpc_stub(url: str) -> service_pb2_grpc.V2Stub:
    host, port = url.removeprefix("http://").split(":")
    return service_pb2_grpc.V2Stub(ClarifaiChannel.get_insecure_grpc_channel(base=host, port=int(port)))


@pytest.fixture
def model(stub, auth):
    ok(stub.PostModels(service_pb2.PostModelsRequest(user_app_id=app(), models=[
        resources_pb2.Model(id="m", model_type_id="visual-classifier")]), metadata=auth))


def test_a_bad_key_gives_key_not_found_over_rest_and_grpc(stub, grpc_url):
    request = service_pb2.ListModelTypesRequest(user_app_id=app())
    bad = (("authorization", "Key not-a-token"),)
    assert stub.ListModelTypes(request, metadata=bad).status.code == codes.CONN_KEY_NOT_FOUND
    assert grpc_stub(grpc_url).ListModelTypes(request, metadata=bad).status.code == codes.CONN_KEY_NOT_FOUND
    assert grpc_stub(grpc_url).ListModelTypes(request).status.code == codes.CONN_KEY_NOT_FOUND


def test_a_request_without_a_key_gets_a_json_status(live_server):
    response = requests.get(f"{live_server.url}/v2/users/me/apps/main/models/types")
    assert response.status_code == 401
    assert response.json()["status"]["code"] == codes.CONN_KEY_NOT_FOUND


def test_unknown_ids_give_model_or_resource_does_not_exist(stub, auth, model):
    assert stub.GetModel(service_pb2.GetModelRequest(user_app_id=app(), model_id="nope"),
                         metadata=auth).status.code == codes.MODEL_DOES_NOT_EXIST
    assert stub.GetModelVersion(service_pb2.GetModelVersionRequest(user_app_id=app(), model_id="m", version_id="nope"),
                                metadata=auth).status.code == codes.MODEL_DOES_NOT_EXIST
    assert stub.GetDataset(service_pb2.GetDatasetRequest(user_app_id=app(), dataset_id="nope"),
                           metadata=auth).status.code == codes.CONN_DOES_NOT_EXIST
    assert stub.GetInput(service_pb2.GetInputRequest(user_app_id=app(), input_id="nope"),
                         metadata=auth).status.code == codes.CONN_DOES_NOT_EXIST
    assert stub.GetConcept(service_pb2.GetConceptRequest(user_app_id=app(), concept_id="nope"),
                           metadata=auth).status.code == codes.CONN_DOES_NOT_EXIST


def test_another_user_s_objects_are_not_found(stub, auth, model, django_user_model):
    mallory = django_user_model.objects.create_user("mallory", password="pw")
    theirs = (("authorization", f"Key {Token.objects.create(user=mallory).key}"),)
    in_alice_app = stub.GetModel(service_pb2.GetModelRequest(user_app_id=app(), model_id="m"), metadata=theirs)
    assert in_alice_app.status.code == codes.CONN_DOES_NOT_EXIST
    in_her_own = stub.GetModel(service_pb2.GetModelRequest(user_app_id=app(user_id="me"), model_id="m"),
                               metadata=theirs)
    assert in_her_own.status.code == codes.MODEL_DOES_NOT_EXIST


def test_an_input_url_is_refused_saying_to_send_the_bytes(stub, auth):
    url_input = resources_pb2.Input(id="far", data=resources_pb2.Data(
        image=resources_pb2.Image(url="https://example.com/cat.jpg"), concepts=[concept("cat")]))
    response = stub.PostInputs(service_pb2.PostInputsRequest(user_app_id=app(), inputs=[url_input]), metadata=auth)
    assert response.status.code == codes.CONN_INVALID_REQUEST
    assert "does not download images" in response.status.details and "data.image.base64" in response.status.details


def test_a_body_that_is_not_json_gets_a_json_status(live_server, token):
    response = requests.post(f"{live_server.url}/v2/users/me/apps/main/concepts", data="{not json",
                             headers={"Authorization": f"Key {token}"})
    assert response.status_code == 400
    assert response.json()["status"]["code"] == codes.CONN_INVALID_REQUEST


def test_unknown_routes_and_trailing_slashes_get_a_json_status(live_server, token):
    headers = {"Authorization": f"Key {token}"}
    for path in ("/v2/nothing/here", "/v2/users/me/apps/main/models/types/"):
        response = requests.get(f"{live_server.url}{path}", headers=headers)
        assert response.status_code == 404
        assert response.json()["status"]["code"] == codes.CONN_INVALID_REQUEST


def test_a_post_needs_no_csrf_token_even_with_a_session(live_server, token, client, user):
    client.force_login(user)  # a browser session would make Django ask for a CSRF token
    response = requests.post(f"{live_server.url}/v2/users/me/apps/main/concepts",
                             json={"concepts": [{"id": "cat"}]},
                             headers={"Authorization": f"Key {token}"},
                             cookies={name: morsel.value for name, morsel in client.cookies.items()})
    assert response.json()["status"]["code"] == codes.SUCCESS
    assert response.json()["concepts"][0]["id"] == "cat"


def test_rpcs_not_served_answer_unimplemented(stub, auth, grpc_url):
    request = service_pb2.ListWorkflowsRequest(user_app_id=app())
    assert stub.ListWorkflows(request, metadata=auth).status.code == codes.NOT_IMPLEMENTED
    with pytest.raises(grpc.RpcError) as raised:
        grpc_stub(grpc_url).ListWorkflows(request, metadata=auth)
    assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED
