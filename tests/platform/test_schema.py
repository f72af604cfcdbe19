def test_the_openapi_schema_describes_every_endpoint(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in [
        "/api/v1/templates/{id}/", "/api/v1/datasets/", "/api/v1/jobs/", "/api/v1/jobs/{id}/cancel/",
        "/api/v1/jobs/{id}/metrics/", "/api/v1/models/{id}/deploy/", "/api/v1/deployments/{id}/predict/",
        "/api/v1/weights/",
    ]:
        assert path in paths, path


def test_the_interactive_docs_are_served(client, db):
    assert client.get("/api/docs/").status_code == 200
