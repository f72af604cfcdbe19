"""Deploy and predict, on a model trained in-process by the real runner."""
import base64
import io
import threading
import time
from datetime import datetime
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from platform_api import ttl_cache
from platform_api.deployments import runtime, services
from platform_api.deployments.models import Deployment
from tests.factories import colour_image, image_bytes
from tests.platform.flows import FAST_FAI_CLS, held_out, predict_base64, predict_multipart

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def deployment(user, model_version):
    deployment = Deployment.objects.create(owner=user, model_version=model_version)
    services.load_deployment(deployment.pk)
    deployment.refresh_from_db()
    assert deployment.status == "ready", deployment.error
    return deployment


def test_the_registered_model_keeps_the_job_s_lineage(api, model_version):
    body = api.get(f"/api/v1/models/{model_version.pk}/").json()
    assert body["template"] == "fai-cls"
    assert body["hyperparameters"]["epochs"] == FAST_FAI_CLS["epochs"]
    assert body["classes"] == ["blue", "red"]
    assert body["metrics"]["accuracy"] >= 0.9


def test_predict_runs_one_forward_pass_per_request_and_never_reloads(api, deployment):
    loads = runtime.load_count
    predictor = runtime.get_or_load(deployment.pk, deployment.model_version.artifact_key).predictor
    with mock.patch.object(predictor, "outputs", wraps=predictor.outputs) as forward:
        response = predict_multipart(api, deployment.pk, held_out(("red", "blue", "blue", "red")))
        predict_base64(api, deployment.pk, held_out(("blue",)))
    assert response.status_code == 200, response.content
    assert [p[0]["label"] for p in response.json()["predictions"]] == ["red", "blue", "blue", "red"]
    assert forward.call_count == 2  # one batched forward pass per request
    assert len(forward.call_args_list[0].args[0]) == 4
    assert runtime.load_count == loads


def test_the_batch_thread_runs_only_the_forward_pass(api, deployment):
    """Decoding, preprocessing and post-processing run in the request's thread, so the model's
    one batch thread is never idle waiting for them while requests are queued."""
    predictor = runtime.get_or_load(deployment.pk, deployment.model_version.artifact_key).predictor
    threads = {}

    def recorded(name, step):
        def run(*args):
            threads.setdefault(name, set()).add(threading.current_thread().name)
            return step(*args)
        return run

    exportable = predictor.exportable
    with mock.patch.object(exportable, "preprocess", side_effect=recorded("preprocess", exportable.preprocess)), \
            mock.patch.object(exportable, "postprocess", side_effect=recorded("postprocess", exportable.postprocess)), \
            mock.patch.object(predictor, "outputs", side_effect=recorded("forward", predictor.outputs)):
        response = predict_base64(api, deployment.pk, held_out(("red", "blue")))
    assert [p[0]["label"] for p in response.json()["predictions"]] == ["red", "blue"]
    assert threads["forward"] == {f"batcher-deployment-{deployment.pk}"}
    assert threads["preprocess"] == threads["postprocess"] == {threading.current_thread().name}


def test_predict_names_each_image_that_cannot_be_decoded(api, deployment):
    import base64

    good = base64.b64encode(image_bytes(colour_image("red"))).decode()
    corrupt = base64.b64encode(b"GIF89a not really").decode()
    response = api.post(f"/api/v1/deployments/{deployment.pk}/predict/", {"images": [good, corrupt, "%%%"]}, format="json")
    assert response.status_code == 400
    errors = response.json()["images"]
    assert set(errors) == {"1", "2"}
    assert "base64" in errors["2"][0]


def test_predict_refuses_an_empty_request_and_too_many_images(api, deployment, settings):
    assert api.post(f"/api/v1/deployments/{deployment.pk}/predict/", {"images": []}, format="json").status_code == 400
    settings.MAX_PREDICT_IMAGES = 2
    response = predict_base64(api, deployment.pk, held_out(("red", "blue", "red")))
    assert response.status_code == 400
    assert "at most 2" in response.json()["images"][0]


def test_a_stopped_deployment_refuses_predictions_and_frees_its_model(api, deployment):
    assert predict_base64(api, deployment.pk, held_out(("red",))).status_code == 200  # its lookup is remembered
    ready_at = api.get(f"/api/v1/deployments/{deployment.pk}/").json()["updated_at"]
    stopped = api.post(f"/api/v1/deployments/{deployment.pk}/stop/").json()
    assert stopped["status"] == "stopped"
    assert datetime.fromisoformat(stopped["updated_at"]) > datetime.fromisoformat(ready_at)
    assert all(key[0] != deployment.pk for key in runtime._models)
    response = predict_base64(api, deployment.pk, held_out(("red",)))
    assert response.status_code == 409


def deployment_queries(api, deployment_id) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert predict_base64(api, deployment_id, held_out(("red",))).status_code == 200
    return sum('"deployments_deployment"' in query["sql"] for query in queries.captured_queries)


def test_a_ready_deployment_is_looked_up_once_for_many_predictions(api, deployment, monkeypatch):
    monkeypatch.setattr(services, "_last_sweep", time.monotonic())  # no sweep of stopped models in between
    assert deployment_queries(api, deployment.pk) == 1
    assert deployment_queries(api, deployment.pk) == 0


def test_a_deployment_stopped_through_another_web_process_is_refused_once_its_lookup_expires(
        api, deployment, settings, monkeypatch):
    settings.DEPLOYMENT_CACHE_SECONDS = 1.0
    monkeypatch.setattr(services, "_last_sweep", time.monotonic())  # the 30 s sweep would free it regardless
    clock = [1000.0]
    monkeypatch.setattr(ttl_cache, "_now", lambda: clock[0])
    assert predict_base64(api, deployment.pk, held_out(("red",))).status_code == 200
    Deployment.objects.filter(pk=deployment.pk).update(status="stopped")  # what stop() does in the other process
    clock[0] += 0.9
    assert predict_base64(api, deployment.pk, held_out(("red",))).status_code == 200
    clock[0] += 0.2
    response = predict_base64(api, deployment.pk, held_out(("red",)))
    assert response.status_code == 409 and response.json()["code"] == "deployment_not_ready"


def test_a_remembered_lookup_never_loads_the_model_of_a_deployment_stopped_elsewhere(api, deployment, monkeypatch):
    """The sweep frees the model of a deployment stopped through another process; a lookup
    remembered from before the stop must not load it again."""
    assert predict_base64(api, deployment.pk, held_out(("red",))).status_code == 200
    loads = runtime.load_count
    Deployment.objects.filter(pk=deployment.pk).update(status="stopped")  # what stop() does in the other process
    monkeypatch.setattr(services, "_last_sweep", float("-inf"))
    response = predict_base64(api, deployment.pk, held_out(("red",)))
    assert response.status_code == 409 and response.json()["code"] == "deployment_not_ready"
    assert runtime.load_count == loads
    assert deployment.pk not in {key[0] for key in runtime._models}


def test_a_stop_racing_a_predict_s_lookup_does_not_bring_the_model_back(api, deployment):
    """A predict that read the deployment as ready just before a stop in this process may
    remember it; the next predict still finds it stopped, and nothing is loaded."""
    services.stop(deployment)
    services._ready.put((deployment.owner_id, deployment.pk), deployment)  # the racing predict's stale entry
    loads = runtime.load_count
    response = predict_base64(api, deployment.pk, held_out(("red",)))
    assert response.status_code == 409 and response.json()["code"] == "deployment_not_ready"
    assert runtime.load_count == loads
    assert services._ready.get((deployment.owner_id, deployment.pk)) is None


def test_a_pending_deployment_is_not_remembered_and_serves_once_ready(api, deployment):
    Deployment.objects.filter(pk=deployment.pk).update(status="pending")
    assert predict_base64(api, deployment.pk, held_out(("red",))).status_code == 409
    Deployment.objects.filter(pk=deployment.pk).update(status="ready")
    assert predict_base64(api, deployment.pk, held_out(("red",))).status_code == 200


def test_deploy_returns_a_pending_deployment_that_becomes_ready(api, model_version):
    from tests.platform.flows import deploy_ready

    deployment_id = deploy_ready(api, model_version.pk)
    assert Deployment.objects.get(pk=deployment_id).status == "ready"


def test_another_user_cannot_deploy_or_call_a_model(api, other_api, deployment, model_version):
    assert predict_base64(api, deployment.pk, held_out(("red",))).status_code == 200  # the owner's lookup is remembered
    assert other_api.post(f"/api/v1/models/{model_version.pk}/deploy/").status_code == 404
    assert predict_base64(other_api, deployment.pk, held_out(("red",))).status_code == 404
    for url in (f"/api/v1/models/{model_version.pk}/", f"/api/v1/deployments/{deployment.pk}/",
                f"/api/v1/jobs/{model_version.job_id}/", f"/api/v1/jobs/{model_version.job_id}/metrics/",
                f"/api/v1/datasets/{model_version.dataset_id}/"):
        assert api.get(url).status_code == 200, url
        assert other_api.get(url).status_code == 404, url
    assert other_api.post(f"/api/v1/deployments/{deployment.pk}/stop/").status_code == 404
    assert other_api.get("/api/v1/models/").json()["count"] == 0
    assert api.get("/api/v1/models/").json()["count"] == 1


@pytest.mark.parametrize("deployment_id", ["abc", "99999999999999999999", "-1"])
def test_predict_on_an_id_that_names_no_deployment_is_404(api, deployment_id):
    response = api.post(f"/api/v1/deployments/{deployment_id}/predict/", {"images": []}, format="json")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_predict_refuses_an_oversized_upload_without_reading_it(api, deployment, settings):
    settings.MAX_PREDICT_IMAGE_BYTES = 100
    response = predict_multipart(api, deployment.pk, held_out(("red",)))
    assert response.status_code == 400
    assert "limit is 100" in response.json()["image"]["0"][0]  # named as the client sent it


def test_a_multipart_predict_without_image_files_names_the_image_field(api, deployment):
    response = api.post(f"/api/v1/deployments/{deployment.pk}/predict/", {"file": io.BytesIO(b"x")}, format="multipart")
    assert response.status_code == 400
    assert "send one or more images" in response.json()["image"][0]


def test_a_deployment_stopped_by_another_web_process_is_freed_here_by_the_next_predict(api, deployment, monkeypatch):
    other = Deployment.objects.create(owner=deployment.owner, model_version=deployment.model_version)
    services.load_deployment(other.pk)
    assert {key[0] for key in runtime._models} >= {deployment.pk, other.pk}
    Deployment.objects.filter(pk=other.pk).update(status="stopped")  # what stop() does in the other process
    monkeypatch.setattr(services, "_last_sweep", float("-inf"))
    assert predict_base64(api, deployment.pk, held_out(("red",))).status_code == 200
    assert other.pk not in {key[0] for key in runtime._models}
    assert deployment.pk in {key[0] for key in runtime._models}


def test_a_deployment_left_pending_by_a_dead_web_process_is_loaded_on_restart(api, model_version):
    import importlib
    import sys

    from tests.conftest import wait_for

    left = Deployment.objects.create(owner=model_version.owner, model_version=model_version)  # its loader died
    assert left.status == "pending"
    sys.modules.pop("platform_api.wsgi", None)
    importlib.import_module("platform_api.wsgi")  # what each web process runs at start
    wait_for(lambda: Deployment.objects.get(pk=left.pk).status == "ready", 60, message="deployment ready")
    assert predict_base64(api, left.pk, held_out(("red",))).status_code == 200


def test_predict_refuses_an_image_declaring_too_many_pixels_before_decoding_it(api, deployment, settings):
    settings.MAX_PREDICT_IMAGE_PIXELS = 1000
    response = predict_multipart(api, deployment.pk, held_out(("red",)))  # 32x32 = 1024 pixels
    assert response.status_code == 400
    assert "32x32 pixels; the limit is 1000" in response.json()["image"]["0"][0]


def test_predict_takes_threshold_and_top_k_per_request_from_body_form_or_query(api, deployment):
    url = f"/api/v1/deployments/{deployment.pk}/predict/"
    images = [base64.b64encode(image_bytes(image)).decode() for image in held_out(("red",))]
    default = api.post(url, {"images": images}, format="json").json()["predictions"][0]
    assert len(default) == 1  # the model's own: single-label, its top class
    both = api.post(url, {"images": images, "top_k": 2}, format="json").json()["predictions"][0]
    assert [p["label"] for p in both] == ["red", "blue"] and both[0]["conf"] >= both[1]["conf"]
    above = both[0]["conf"] + (1 - both[0]["conf"]) / 2
    assert api.post(f"{url}?top_k=2&threshold={above}", {"images": images}, format="json").json()["predictions"] == [[]]
    files = [io.BytesIO(image_bytes(held_out(("red",))[0]))]
    files[0].name = "red.png"
    form = api.post(url, {"image": files, "top_k": "2"}, format="multipart")
    assert [p["label"] for p in form.json()["predictions"][0]] == ["red", "blue"]


@pytest.mark.parametrize("options, field, message", [
    ({"threshold": 1.5}, "threshold", "must be a number from 0 to 1 or \"tuned\", got 1.5"),
    ({"threshold": "high"}, "threshold", "must be a number from 0 to 1 or \"tuned\", got 'high'"),
    ({"top_k": 0}, "top_k", "must be a whole number from 1 to 1000, got 0"),
    ({"top_k": 1.5}, "top_k", "must be a whole number from 1 to 1000, got 1.5"),
    ({"mask_threshold": 0.3}, "mask_threshold", "this model (fai_cls) takes no mask_threshold; it takes threshold, top_k"),
])
def test_a_bad_or_inapplicable_predict_option_is_refused_and_names_itself(api, deployment, options, field, message):
    loads = runtime.load_count
    response = predict_base64_with(api, deployment.pk, held_out(("red",)), options)
    assert response.status_code == 400, response.content
    assert response.json()[field] == [message]
    assert runtime.load_count == loads


def predict_base64_with(api, deployment_id, images, options):
    payload = {"images": [base64.b64encode(image_bytes(image)).decode() for image in images], **options}
    return api.post(f"/api/v1/deployments/{deployment_id}/predict/", payload, format="json")


def test_a_url_sent_to_predict_is_refused_with_what_to_send_instead(api, deployment):
    response = api.post(f"/api/v1/deployments/{deployment.pk}/predict/",
                        {"images": ["https://example.com/rose.jpg"]}, format="json")
    assert response.status_code == 400
    assert "send the image's bytes (multipart `image`) or base64, not a URL" in response.json()["images"]["0"][0]
