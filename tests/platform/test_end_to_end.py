"""The whole loop through the REST API with a real Celery worker process."""
import pytest

from platform_api.deployments import runtime
from tests.conftest import wait_for
from tests.factories import classification_zip
from tests.platform.flows import (
    FAST_FAI_CLS,
    deploy_ready,
    held_out,
    import_in_process,
    predict_base64,
    predict_multipart,
    upload_dataset,
    wait_dataset,
    wait_job,
)

pytestmark = [pytest.mark.slow, pytest.mark.worker]


def test_a_user_goes_from_a_zip_to_predictions_from_a_deployed_classifier(api, templates, start_worker, tmp_path):
    worker = start_worker()
    response = upload_dataset(api, classification_zip(tmp_path / "colours.zip"))
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "importing"
    dataset = wait_dataset(api, response.json()["id"])
    assert dataset["status"] == "ready", dataset
    assert dataset["classes"] == ["blue", "red"]
    assert dataset["splits"] == {"train": 16, "valid": 8}

    response = api.post(
        "/api/v1/jobs/", {"template": "fai-cls", "dataset": dataset["id"], "hyperparameters": FAST_FAI_CLS}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "queued"
    assert response.json()["hyperparameters"]["num_layers"] == 2  # defaults filled
    job = wait_job(api, response.json()["id"], worker=worker)
    assert job["status"] == "succeeded", (job, worker.log())
    assert job["progress"]["percent"] == 100.0
    assert job["progress"]["epochs"] == 3
    metrics = job["metrics"]
    for key in ("accuracy", "precision_macro", "recall_macro", "f1_macro", "per_class", "confusion_matrix"):
        assert key in metrics, metrics
    assert metrics["accuracy"] >= 0.9
    history = api.get(f"/api/v1/jobs/{job['id']}/metrics/").json()
    assert [entry["epoch"] for entry in history] == [1, 2, 3]

    model = api.get(f"/api/v1/models/{job['model']}/").json()
    assert model["classes"] == ["blue", "red"]
    assert model["template"] == "fai-cls" and model["job"] == job["id"]

    loads_before = runtime.load_count
    deployment_id = deploy_ready(api, model["id"])
    for send in (predict_multipart, predict_base64):
        response = send(api, deployment_id, held_out(("red", "blue", "red")))
        assert response.status_code == 200, response.content
        predictions = response.json()["predictions"]
        assert [p[0]["label"] for p in predictions] == ["red", "blue", "red"]
        assert {"cls_id", "label", "conf"} <= set(predictions[0][0])
        assert 0.5 < predictions[0][0]["conf"] <= 1.0
    assert runtime.load_count == loads_before + 1  # loaded once, at deploy time

    # The worker evaluates the model again, in ONNX Runtime: its export scores as the original.
    response = api.post(f"/api/v1/models/{model['id']}/evaluations/",
                        {"dataset": dataset["id"], "runtime": "onnxruntime"}, format="json")
    assert response.status_code == 202, response.content
    path = f"/api/v1/models/{model['id']}/evaluations/{response.json()['id']}/"
    evaluation = wait_for(lambda: (lambda e: e if e["status"] in ("succeeded", "failed") else None)(api.get(path).json()),
                          120, message="the evaluation")
    assert evaluation["status"] == "succeeded", (evaluation, worker.log())
    own = api.get(f"/api/v1/models/{model['id']}/evaluation/").json()
    assert evaluation["report"]["runtime"] == "onnxruntime" and own["runtime"] == "torch"
    assert evaluation["metrics"]["accuracy"] == own["metrics"]["accuracy"] == metrics["accuracy"]


def test_a_killed_worker_s_job_resumes_from_its_checkpoint_and_succeeds(api, user, templates, start_worker, tmp_path):
    from platform_api.training.models import Job

    # Imported in this process: the import worker has its own test above, and a worker
    # process takes about 9 s to start on 2 cores.
    dataset = import_in_process(user, classification_zip(tmp_path / "colours.zip", per_class={"train": 24, "valid": 4}))
    trainer = start_worker("training", "doomed")
    hyperparameters = {**FAST_FAI_CLS, "backbone": "resnet18", "resolution": 32, "epochs": 6, "batch_size": 4}
    job_id = api.post(
        "/api/v1/jobs/", {"template": "fai-cls", "dataset": dataset.pk, "hyperparameters": hyperparameters}, format="json"
    ).json()["id"]
    # Kill the worker in the middle of training, once epoch 1's checkpoint exists: epoch 2
    # is reported only after it was written.
    wait_for(lambda: Job.objects.get(pk=job_id).metrics_history.count() >= 2, 180, message="second epoch")
    assert Job.objects.get(pk=job_id).status == "running"
    trainer.kill()

    survivor = start_worker("training", "survivor")
    job = wait_job(api, job_id, timeout=240, worker=survivor)
    assert job["status"] == "succeeded", (job, survivor.log())
    assert job["attempts"] == 2
    assert job["resumed_from_epoch"] >= 1
    history = api.get(f"/api/v1/jobs/{job_id}/metrics/").json()
    assert [entry["epoch"] for entry in history] == [1, 2, 3, 4, 5, 6]


def test_cancelling_a_running_job_stops_it_within_seconds(api, templates, start_worker, tmp_path):
    import time

    worker = start_worker()
    dataset = wait_dataset(api, upload_dataset(api, classification_zip(tmp_path / "colours.zip")).json()["id"])
    job_id = api.post(
        "/api/v1/jobs/",
        {"template": "fai-cls", "dataset": dataset["id"], "hyperparameters": {**FAST_FAI_CLS, "epochs": 500}},
        format="json",
    ).json()["id"]
    from tests.conftest import wait_for

    running = wait_for(lambda: (body := api.get(f"/api/v1/jobs/{job_id}/").json())["progress"]["steps"] and body, 120, message="progress")
    assert running["status"] == "running" and running["progress"]["epochs"] == 500
    asked = time.monotonic()
    assert api.post(f"/api/v1/jobs/{job_id}/cancel/").json()["cancel_requested"] is True
    job = wait_job(api, job_id, timeout=30, worker=worker)
    assert job["status"] == "cancelled"
    assert time.monotonic() - asked < 10
    assert job["model"] is None


def test_a_worker_stopped_gracefully_hands_its_job_to_the_next_worker(api, templates, start_worker, tmp_path):
    from platform_api.training.models import Job

    importer = start_worker("default", "importer")
    dataset = wait_dataset(api, upload_dataset(api, classification_zip(tmp_path / "colours.zip")).json()["id"])
    assert dataset["status"] == "ready", importer.log()
    leaving = start_worker("training", "leaving")
    job_id = api.post(
        "/api/v1/jobs/",
        {"template": "fai-cls", "dataset": dataset["id"], "hyperparameters": {**FAST_FAI_CLS, "epochs": 40}},
        format="json",
    ).json()["id"]
    wait_for(lambda: Job.objects.get(pk=job_id).metrics_history.count() >= 2, 120, message="epoch 1 checkpointed")
    leaving.terminate()  # returns once the worker has exited
    assert leaving.log().count("queued again to resume from its last checkpoint") == 1
    assert Job.objects.get(pk=job_id).status == "queued"

    start_worker("training", "arriving")
    job = wait_job(api, job_id, timeout=180)
    assert job["status"] == "succeeded"
    assert job["attempts"] == 2 and job["resumed_from_epoch"] >= 2
    assert job["resumed_from_step"] > 0
