"""INT8 serving behind an accuracy gate: the onnxruntime-int8 runtime, the onnx-int8 export,
and PREDICT_RUNTIME=auto, on a fai-cls model trained by the real runner."""
import dataclasses
import io
import json
import zipfile

import onnx
import pytest

from platform_api.deployments import services
from platform_api.deployments.models import Deployment
from platform_api.registry.models import Export
from trainers import families
from platform_api.storage import get_storage
from tests.platform.flows import held_out, predict_base64
from trainers.data.classification import split_items
from trainers.core import DatasetSpec

pytestmark = pytest.mark.django_db(transaction=True)


def deploy(api, model_id, runtime):
    with pytest.MonkeyPatch.context() as patch:  # load in this thread: the test reads the result at once
        patch.setattr(services, "_load_in_background", services.load_deployment)
        return api.post(f"/api/v1/models/{model_id}/deploy/", {"runtime": runtime}, format="json")


def evaluation_images(model_version):
    dataset = DatasetSpec.load(get_storage().local_dir(model_version.dataset.content_key))
    from trainers.data.classification import load_rgb

    return [load_rgb(dataset.root / item["image"]) for item in split_items(dataset, "valid")]


def test_an_int8_deployment_passes_its_gate_and_predicts_as_fp32_does(api, model_version):
    response = deploy(api, model_version.pk, "onnxruntime-int8")
    assert response.status_code == 201, response.json()
    int8 = api.get(f"/api/v1/deployments/{response.json()['id']}/").json()
    assert int8["status"] == "ready" and int8["served_runtime"] == "onnxruntime-int8", int8
    fp32 = deploy(api, model_version.pk, "onnxruntime").json()
    images = evaluation_images(model_version) + held_out(("red", "blue", "red", "blue"))
    top = lambda deployment: [p[0]["label"] for p in predict_base64(api, deployment["id"], images).json()["predictions"]]  # noqa: E731
    agree = sum(a == b for a, b in zip(top(int8), top(fp32))) / len(images)
    assert agree >= 0.98, agree
    # One live deployment per runtime: deploying INT8 again returns the live one.
    again = deploy(api, model_version.pk, "onnxruntime-int8")
    assert again.status_code == 200 and again.json()["id"] == int8["id"]
    # The gate's figures are kept with the export and shown with the model.
    exports = {e["format"]: e for e in api.get(f"/api/v1/models/{model_version.pk}/").json()["exports"]}
    figures = exports["onnx-int8"]["figures"]
    assert figures["metric"] == "accuracy" and figures["drop_points"] <= 1.0
    assert figures["original"] == pytest.approx(model_version.metrics["accuracy"])
    assert set(figures["images_per_s_batch_1"]) == {"onnxruntime", "onnxruntime-int8"}


def test_the_int8_export_is_a_quantized_graph_with_its_gate_and_a_readme(api, model_version):
    response = api.get(f"/api/v1/models/{model_version.pk}/export/?format=onnx-int8")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(archive.namelist()) == ["README.md", "config.json", "labels.json", "model.onnx"]
    graph = onnx.load_from_string(archive.read("model.onnx"))
    operators = {node.op_type for node in graph.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= operators
    config = json.loads(archive.read("config.json"))
    assert config["format"] == "onnx-int8" and config["quantization"]["runtime"] == "onnxruntime-int8"
    readme = archive.read("README.md").decode()
    assert "quantized to INT8" in readme and "ort.InferenceSession" in readme


def test_a_quantized_model_whose_metric_drops_past_the_gate_is_refused_and_nothing_is_served(
        api, model_version, settings):
    settings.QUANTIZED_MAX_METRIC_DROP = -0.5  # no model can pass: its drop is at least 0 points
    response = deploy(api, model_version.pk, "onnxruntime-int8")
    assert response.status_code == 409, response.json()
    body = response.json()
    assert body["code"] == "accuracy_gate"
    accuracy = f"{model_version.metrics['accuracy']:.4f}"
    assert body["detail"].count(accuracy) == 2 and "QUANTIZED_MAX_METRIC_DROP" in body["detail"]  # both figures
    assert not Deployment.objects.exists()
    assert not Export.objects.filter(format="onnx-int8").exists()
    export = api.get(f"/api/v1/models/{model_version.pk}/export/?format=onnx-int8")
    assert export.status_code == 409 and export.json()["code"] == "accuracy_gate"


def test_a_family_that_does_not_quantize_is_refused_int8_with_its_reason(api, model_version, monkeypatch):
    registered = families.family("fai_cls")
    reason = "fai-cls is not served in INT8 here: its graph does not quantize"
    monkeypatch.setitem(families._FAMILIES, "fai_cls", dataclasses.replace(registered, int8_refusal=reason))
    response = deploy(api, model_version.pk, "onnxruntime-int8")
    assert response.status_code == 400
    assert response.json()["runtime"] == [reason]
    export = api.get(f"/api/v1/models/{model_version.pk}/export/?format=onnx-int8")
    assert export.status_code == 400 and export.json()["format"] == [reason]
    evaluation = api.post(f"/api/v1/models/{model_version.pk}/evaluations/",
                          {"dataset": model_version.dataset_id, "runtime": "onnxruntime-int8"}, format="json")
    assert evaluation.status_code == 400 and evaluation.json()["runtime"] == [reason]
    assert api.post(f"/api/v1/models/{model_version.pk}/deploy/", {"runtime": "tensorrt"}, format="json").status_code == 400
    assert not Deployment.objects.exists()


def test_auto_serves_the_fastest_runtime_that_passes_the_gate(api, model_version):
    response = deploy(api, model_version.pk, "auto")
    assert response.status_code == 201, response.json()
    deployment = api.get(f"/api/v1/deployments/{response.json()['id']}/").json()
    speeds = deployment["probe"]["images_per_s_batch_1"]
    assert set(speeds) == {"torch", "onnxruntime", "onnxruntime-int8"}
    assert deployment["served_runtime"] == max(speeds, key=speeds.get) == deployment["probe"]["chose"]
    assert deployment["runtime"] == "auto"
    assert predict_base64(api, deployment["id"], held_out(("red",))).json()["predictions"][0][0]["label"] == "red"
