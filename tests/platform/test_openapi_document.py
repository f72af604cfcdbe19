"""The OpenAPI document (/api/schema/) describes every request and every answer, refusals
included: each case below is one schemathesis found the document missing or wrong."""
import pytest

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def document(api) -> dict:
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def operations(document):
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def resolve(document, schema: dict) -> dict:
    """The schema a `$ref` (or a field's `allOf: [$ref]`) names."""
    while "$ref" in schema or len(schema.get("allOf", [])) == 1:
        schema = schema["allOf"][0] if "allOf" in schema else schema
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def body_schema(document, operation: dict, media_type: str) -> dict:
    return resolve(document, operation["requestBody"]["content"][media_type]["schema"])


def answer_schema(document, operation: dict, status: str) -> dict:
    return resolve(document, operation["responses"][status]["content"]["application/json"]["schema"])


def refs(operation: dict, status: str) -> str:
    return str(operation["responses"][status]["content"]["application/json"]["schema"])


def test_every_operation_documents_the_401_a_missing_token_gets(document):
    for path, method, operation in operations(document):
        assert "Problem" in refs(operation, "401"), (method, path)


def test_every_operation_on_an_object_documents_its_404(document):
    for path, method, operation in operations(document):
        if "{" in path:
            assert "Problem" in refs(operation, "404"), (method, path)


def test_every_operation_that_reads_a_body_documents_its_400_413_and_415(document):
    for path, method, operation in operations(document):
        if "requestBody" in operation:
            assert "Refusal" in refs(operation, "400") and "Refusal" in refs(operation, "413"), (method, path)
            assert "Problem" in refs(operation, "415"), (method, path)


def test_every_list_documents_the_400_of_a_bad_filter_or_page(document):
    for path, method, operation in operations(document):
        if any(parameter["in"] == "query" for parameter in operation.get("parameters", [])):
            assert "Refusal" in refs(operation, "400"), (method, path)


def test_the_two_error_shapes_are_described_once(document):
    schemas = document["components"]["schemas"]
    assert set(schemas["Problem"]["required"]) == {"detail", "code"}
    assert schemas["FieldErrors"]["type"] == "object" and "additionalProperties" in schemas["FieldErrors"]
    assert [s["$ref"] for s in schemas["Refusal"]["oneOf"]] == ["#/components/schemas/FieldErrors",
                                                               "#/components/schemas/Problem"]


@pytest.mark.parametrize("method, path, code", [
    ("delete", "/api/v1/datasets/{id}/", "dataset_in_use"),
    ("delete", "/api/v1/jobs/{id}/", "job_not_ended"),
    ("delete", "/api/v1/jobs/{id}/", "job_has_model"),
    ("delete", "/api/v1/models/{id}/", "model_in_use"),
    ("post", "/api/v1/studies/{id}/cancel/", "study_ended"),
    ("post", "/api/v1/jobs/{id}/cancel/", "job_ended"),
    ("post", "/api/v1/deployments/{id}/predict/", "deployment_not_ready"),
])
def test_a_conflict_is_documented_where_it_can_happen(document, method, path, code):
    answer = document["paths"][path][method]["responses"]["409"]
    assert code in answer["description"] and "Problem" in str(answer["content"])


def test_patching_a_template_documents_the_403_of_a_user_who_is_not_staff(document):
    assert "Problem" in refs(document["paths"]["/api/v1/templates/{id}/"]["patch"], "403")


def test_the_job_poll_documents_if_none_match_its_304_and_the_etag(document):
    poll = document["paths"]["/api/v1/jobs/{id}/"]["get"]
    assert {"in": "header", "name": "If-None-Match"}.items() <= poll["parameters"][0].items()
    assert "304" in poll["responses"]
    assert "ETag" in poll["responses"]["200"]["headers"] and "ETag" in poll["responses"]["304"]["headers"]


def test_a_job_submission_documents_that_the_template_may_not_be_empty(document):
    submission = document["paths"]["/api/v1/jobs/"]["post"]
    assert list(submission["requestBody"]["content"]) == ["application/json"]
    template = body_schema(document, submission, "application/json")["properties"]["template"]
    assert template["minLength"] == 1 and template["maxLength"] == 100


def test_predict_documents_its_images_as_required(document):
    predict = document["paths"]["/api/v1/deployments/{id}/predict/"]["post"]
    as_json = body_schema(document, predict, "application/json")
    assert as_json["required"] == ["images"]
    assert as_json["properties"]["images"]["minItems"] == 1 and as_json["properties"]["images"]["maxItems"] == 64
    assert as_json["properties"]["images"]["items"]["format"] == "byte"
    as_files = body_schema(document, predict, "multipart/form-data")
    assert as_files["required"] == ["image"] and as_files["properties"]["image"]["format"] == "binary"
    assert predict["requestBody"]["content"]["multipart/form-data"]["encoding"]["image"]["contentType"] == "image/*"


@pytest.mark.parametrize("path, field, content_type", [
    ("/api/v1/datasets/", "archive", "application/zip"),
    ("/api/v1/weights/", "file", "application/octet-stream"),
])
def test_an_upload_is_documented_as_a_multipart_file_not_a_text_field(document, path, field, content_type):
    upload = document["paths"][path]["post"]
    assert list(upload["requestBody"]["content"]) == ["multipart/form-data"]
    schema = body_schema(document, upload, "multipart/form-data")
    assert schema["properties"][field]["format"] == "binary"
    assert upload["requestBody"]["content"]["multipart/form-data"]["encoding"][field]["contentType"] == content_type
    assert schema["properties"]["name"]["minLength"] == 1 and "pattern" in schema["properties"]["name"]


def test_a_weights_upload_lists_the_architectures_it_takes(document):
    upload = body_schema(document, document["paths"]["/api/v1/weights/"]["post"], "multipart/form-data")
    architectures = resolve(document, upload["properties"]["architecture"])["enum"]
    assert {"resnet50", "stdc2", "bn_inception"} <= set(architectures)


def test_a_job_s_progress_and_metrics_have_a_schema(document):
    job = resolve(document, {"$ref": "#/components/schemas/Job"})
    progress = resolve(document, job["properties"]["progress"])
    assert {"percent", "epoch", "epochs", "step", "steps", "eta_seconds", "loss"} <= set(progress["properties"])
    metrics = resolve(document, job["properties"]["metrics"])
    assert {"accuracy", "f1_macro", "per_class", "confusion_matrix", "mIoU"} <= set(metrics["properties"])
    assert resolve(document, job["properties"]["error"])["properties"].keys() == {"code", "message"}


def test_the_predict_answer_has_a_schema(document):
    answer = answer_schema(document, document["paths"]["/api/v1/deployments/{id}/predict/"]["post"], "200")
    prediction = resolve(document, answer["properties"]["predictions"]["items"]["items"])
    assert set(prediction["required"]) == {"cls_id", "label", "conf"}
    assert {"bbox", "mask"} <= set(prediction["properties"])


def test_pages_document_their_bounds(document):
    parameters = {p["name"]: p["schema"] for p in document["paths"]["/api/v1/jobs/"]["get"]["parameters"]}
    assert (parameters["limit"]["minimum"], parameters["limit"]["maximum"]) == (1, 1000)
    assert parameters["offset"]["minimum"] == 0


def test_a_text_filter_documents_that_it_refuses_a_nul_character(document):
    parameters = {p["name"]: p["schema"] for p in document["paths"]["/api/v1/weights/"]["get"]["parameters"]}
    assert parameters["architecture"]["pattern"] == parameters["name"]["pattern"] == "^[^\\x00]*$"
