"""Steps of the user journey through the REST API, shared by the integration tests."""
from __future__ import annotations

import base64
import io

from tests.conftest import wait_for
from tests.factories import colour_image, image_bytes
from tests.queueing import IMPORT_DATASET, queued

FAST_FAI_CLS = {
    "backbone": "tiny_test",
    "resolution": 32,
    "epochs": 3,
    "batch_size": 8,
    "learning_rate": 0.01,
    "scheduler": "constant",
}


def upload_dataset(api, zip_path, fmt="classification_folder", name="colours"):
    with open(zip_path, "rb") as archive:
        return api.post("/api/v1/datasets/", {"name": name, "format": fmt, "archive": archive}, format="multipart")


def wait_dataset(api, dataset_id, timeout=60):
    def done():
        body = api.get(f"/api/v1/datasets/{dataset_id}/").json()
        return body if body["status"] != "importing" else None

    return wait_for(done, timeout, message=f"dataset {dataset_id} import")


def wait_job(api, job_id, statuses=("succeeded", "failed", "cancelled"), timeout=180, worker=None):
    def done():
        body = api.get(f"/api/v1/jobs/{job_id}/").json()
        return body if body["status"] in statuses else None

    try:
        return wait_for(done, timeout, message=f"job {job_id} to reach {statuses}")
    except AssertionError:
        if worker is not None:
            print(worker.log())
        raise


def deploy_ready(api, model_id, timeout=60):
    response = api.post(f"/api/v1/models/{model_id}/deploy/")
    assert response.status_code == 201, response.content
    deployment_id = response.json()["id"]

    def ready():
        body = api.get(f"/api/v1/deployments/{deployment_id}/").json()
        return body if body["status"] in ("ready", "failed") else None

    body = wait_for(ready, timeout, message="deployment ready")
    assert body["status"] == "ready", body
    return deployment_id


def predict_multipart(api, deployment_id, images):
    files = [io.BytesIO(image_bytes(image)) for image in images]
    for n, f in enumerate(files):
        f.name = f"image{n}.png"
    return api.post(f"/api/v1/deployments/{deployment_id}/predict/", {"image": files}, format="multipart")


def predict_base64(api, deployment_id, images, options=None):
    payload = {"images": [base64.b64encode(image_bytes(image)).decode() for image in images], **(options or {})}
    return api.post(f"/api/v1/deployments/{deployment_id}/predict/", payload, format="json")


def held_out(colours=("red", "blue")):
    return [colour_image(colour, 32, seed=9000 + n) for n, colour in enumerate(colours)]


def import_in_process(user, zip_path, fmt="classification_folder", name="colours"):
    """Upload and import a dataset in this process (no broker, no worker); it must be ready."""

    from platform_api.datasets.services import create_dataset, import_dataset

    with queued(IMPORT_DATASET):
        dataset = create_dataset(user, name, fmt, zip_path, zip_path.stat().st_size)
        import_dataset(dataset.pk)
    dataset.refresh_from_db()
    assert dataset.status == "ready", dataset.error
    return dataset
