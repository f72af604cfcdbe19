"""Deploying in a runtime, one live deployment per model and runtime, the per-user limit,
dynamic batching, the bounded queue (503) and clients that leave: through the API, on a
model trained by the real runner."""
import base64
import socket
import threading
from unittest import mock

import pytest
from django.db import connection

from platform_api.deployments import runtime, services
from platform_api.deployments.models import Deployment
from tests.conftest import wait_for
from tests.factories import image_bytes
from tests.platform.flows import deploy_ready, held_out, predict_base64

pytestmark = pytest.mark.django_db(transaction=True)


def deploy(api, model_id, **body):
    return api.post(f"/api/v1/models/{model_id}/deploy/", body, format="json")


def ready_deployment(user, model_version, runtime_name):
    deployment = Deployment.objects.create(owner=user, model_version=model_version, runtime=runtime_name)
    services.load_deployment(deployment.pk)
    deployment.refresh_from_db()
    assert deployment.status == "ready", deployment.error
    return deployment


def in_threads(calls):
    """Runs every call at once (after a barrier); their results in order."""
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        finally:
            connection.close()  # each thread's own database connection

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def blocked(predictor):
    """Makes the model's forward pass wait for the returned event; `entered` is set inside it."""
    release, entered = threading.Event(), threading.Event()
    original = predictor.outputs

    def outputs(batch):
        entered.set()
        assert release.wait(30)
        return original(batch)

    return mock.patch.object(predictor, "outputs", side_effect=outputs), release, entered


def test_both_runtimes_serve_the_same_predictions(api, user, model_version, settings):
    settings.PREDICT_PRECISION = "fp32"  # the tolerance is fp32's; bf16 moves probabilities more
    images = held_out(("red", "blue", "red", "blue"))
    answers = {}
    for runtime_name in ("torch", "onnxruntime"):
        response = deploy(api, model_version.pk, runtime=runtime_name)
        assert response.status_code == 201 and response.json()["runtime"] == runtime_name
        deployment_id = response.json()["id"]
        wait_for(lambda: api.get(f"/api/v1/deployments/{deployment_id}/").json()["status"] == "ready", 60)
        answers[runtime_name] = predict_base64(api, deployment_id, images).json()["predictions"]
        assert runtime.loaded(deployment_id, model_version.artifact_key).runtime == runtime_name
    torch_answer, onnx_answer = answers["torch"], answers["onnxruntime"]
    assert [p[0]["label"] for p in torch_answer] == [p[0]["label"] for p in onnx_answer] == \
        ["red", "blue", "red", "blue"]
    assert [p[0]["conf"] for p in torch_answer] == pytest.approx([p[0]["conf"] for p in onnx_answer], abs=1e-3)


def test_a_deployment_names_its_runtime_and_defaults_to_the_setting(api, model_version, settings):
    settings.PREDICT_RUNTIME = "torch"
    assert deploy(api, model_version.pk).json()["runtime"] == "torch"
    response = deploy(api, model_version.pk, runtime="tensorrt")
    assert response.status_code == 400
    assert "runtime" in response.json()


def test_deploying_a_model_again_returns_its_live_deployment_instead_of_a_copy(api, model_version):
    first_id = deploy_ready(api, model_version.pk)
    again = deploy(api, model_version.pk)
    assert again.status_code == 200 and again.json()["id"] == first_id
    other_runtime = "torch" if again.json()["runtime"] == "onnxruntime" else "onnxruntime"
    assert deploy(api, model_version.pk, runtime=other_runtime).status_code == 201  # another runtime: its own
    api.post(f"/api/v1/deployments/{first_id}/stop/")
    fresh = deploy(api, model_version.pk)
    assert fresh.status_code == 201 and fresh.json()["id"] != first_id
    assert Deployment.objects.filter(model_version=model_version, status__in=Deployment.LIVE).count() == 2


def test_concurrent_deploys_of_one_model_make_one_deployment(api, model_version):
    answers = in_threads([lambda: deploy(api, model_version.pk) for _ in range(6)])
    assert sorted(a.status_code for a in answers) == [200] * 5 + [201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert Deployment.objects.filter(model_version=model_version).count() == 1


def test_it_refuses_a_deployment_past_the_per_user_limit(api, user, model_version, settings):
    settings.MAX_LIVE_DEPLOYMENTS_PER_USER = 1
    assert deploy(api, model_version.pk, runtime="torch").status_code == 201
    refused = deploy(api, model_version.pk, runtime="onnxruntime")
    assert refused.status_code == 409
    assert refused.json()["code"] == "deployment_limit_reached"
    assert "stop one" in refused.json()["detail"]
    assert deploy(api, model_version.pk, runtime="torch").status_code == 200  # its live one is still returned


def queue_behind_a_running_batch(api, deployment, loaded, requests):
    """Runs one request whose forward pass waits until `requests` (colour tuples) have all
    queued behind it; their answers, and the images of each forward pass."""
    total = sum(len(colours) for colours in requests)
    patch, release, entered = blocked(loaded.predictor)
    answers = [None] * len(requests)

    def send(index, colours):
        try:
            answers[index] = predict_base64(api, deployment.pk, held_out(colours))
        finally:
            connection.close()

    with patch as predict:
        first = threading.Thread(target=send, args=(0, ("red",)))
        answers.insert(0, None)
        first.start()
        assert entered.wait(30)
        threads = [threading.Thread(target=send, args=(i + 1, colours)) for i, colours in enumerate(requests)]
        for thread in threads:
            thread.start()
        wait_for(lambda: loaded.batcher.queued_images == total, 30, interval=0.02, message="the requests queued")
        release.set()
        for thread in [first, *threads]:
            thread.join(30)
    return answers[1:], [len(call.args[0]) for call in predict.call_args_list]


def test_concurrent_requests_share_a_forward_pass_and_each_gets_its_own_results(api, user, model_version):
    deployment = ready_deployment(user, model_version, "onnxruntime")
    loaded = runtime.loaded(deployment.pk, model_version.artifact_key)
    requests = [("red",), ("blue", "blue"), ("red", "blue", "red"), ("blue",), ("blue", "red")]
    answers, batch_sizes = queue_behind_a_running_batch(api, deployment, loaded, requests)
    for colours, answer in zip(requests, answers):
        assert answer.status_code == 200, answer.content
        assert [p[0]["label"] for p in answer.json()["predictions"]] == list(colours)
    assert batch_sizes == [1, 9]  # the running one, then all five waiting requests in one pass


def test_a_batch_holds_at_most_the_maximum_batch_size(api, user, model_version, settings):
    settings.PREDICT_MAX_BATCH = 4
    deployment = ready_deployment(user, model_version, "torch")
    loaded = runtime.loaded(deployment.pk, model_version.artifact_key)
    answers, batch_sizes = queue_behind_a_running_batch(api, deployment, loaded, [("red", "blue")] * 5)
    assert [a.status_code for a in answers] == [200] * 5
    assert batch_sizes == [1, 4, 4, 2]  # whole requests, oldest first, never more than 4 images


def test_a_full_queue_answers_503_with_retry_after_and_the_queued_requests_still_succeed(api, user, model_version,
                                                                                        settings):
    settings.MAX_PREDICT_IMAGES = 2
    settings.PREDICT_QUEUE_IMAGES = 2
    settings.PREDICT_BATCH_WINDOW_MS = 0
    deployment = ready_deployment(user, model_version, "onnxruntime")
    loaded = runtime.loaded(deployment.pk, model_version.artifact_key)
    patch, release, entered = blocked(loaded.predictor)
    answers = []
    with patch:
        running = threading.Thread(target=lambda: answers.append(predict_base64(api, deployment.pk, held_out(("red",)))))
        running.start()
        assert entered.wait(30)  # the first request's batch is running
        waiting = threading.Thread(target=lambda: answers.append(predict_base64(api, deployment.pk,
                                                                                held_out(("blue", "red")))))
        waiting.start()
        wait_for(lambda: loaded.batcher.queued_images == 2, 30, interval=0.02, message="a full queue")
        refused = predict_base64(api, deployment.pk, held_out(("blue",)))
        release.set()
        running.join(30)
        waiting.join(30)
    assert refused.status_code == 503
    assert refused.json()["code"] == "deployment_busy"
    assert int(refused["Retry-After"]) >= 1
    assert sorted(a.status_code for a in answers) == [200, 200]
    assert loaded.batcher.queued_images == 0


def test_a_request_whose_client_disconnected_is_dropped_from_its_batch(api, user, model_version, settings):
    settings.PREDICT_BATCH_WINDOW_MS = 0
    deployment = ready_deployment(user, model_version, "onnxruntime")
    loaded = runtime.loaded(deployment.pk, model_version.artifact_key)
    patch, release, entered = blocked(loaded.predictor)
    server_side, client_side = socket.socketpair()  # what gunicorn hands the app as gunicorn.socket
    answers = {}
    with patch as predict:
        first = threading.Thread(target=lambda: answers.update(first=predict_base64(api, deployment.pk,
                                                                                      held_out(("red",)))))
        first.start()
        assert entered.wait(30)
        payload = {"images": [base64.b64encode(image_bytes(image)).decode() for image in held_out(("blue",) * 3)]}
        leaving = threading.Thread(target=lambda: answers.update(left=api.post(
            f"/api/v1/deployments/{deployment.pk}/predict/", payload, format="json",
            **{"gunicorn.socket": server_side})))
        leaving.start()
        wait_for(lambda: loaded.batcher.queued_images == 3, 30, interval=0.02, message="the request queued")
        client_side.close()  # the client hangs up while its request waits
        release.set()
        first.join(30)
        leaving.join(30)
    server_side.close()
    assert answers["first"].status_code == 200
    assert answers["left"].status_code == 499  # logged only: nobody is there to read it
    assert [len(call.args[0]) for call in predict.call_args_list] == [1]  # its 3 images never ran
    assert loaded.batcher.withdrawn == 1
