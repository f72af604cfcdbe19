"""GET /api/v1/models/{id}/export/: the model as a zip, on a model trained by the real runner."""
import io
import json
import zipfile
from unittest import mock

import numpy as np
import onnxruntime as ort
import pytest

from platform_api.registry import exports
from platform_api.storage import get_storage
from tests.platform.flows import FAST_FAI_CLS, held_out
from trainers.families import load_exportable, load_predictor

pytestmark = pytest.mark.django_db(transaction=True)


def download(api, model_id, fmt):
    response = api.get(f"/api/v1/models/{model_id}/export/?format={fmt}")
    assert response.status_code == 200, response.content if hasattr(response, "content") else response
    assert response["Content-Type"] == "application/zip"
    assert f'filename="model-{model_id}-{fmt}.zip"' in response["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_the_pytorch_export_holds_the_weights_resolved_config_labels_and_a_readme(api, model_version):
    archive = download(api, model_version.pk, "pytorch")
    assert sorted(archive.namelist()) == ["README.md", "config.json", "labels.json", "weights.pt"]
    config = json.loads(archive.read("config.json"))
    assert config["format"] == "pytorch"
    assert config["hyperparameters"]["backbone"] == "tiny_test"
    assert config["hyperparameters"]["epochs"] == FAST_FAI_CLS["epochs"]
    assert config["preprocessing"]["input_size"] == [32, 32]
    assert config["preprocessing"]["std"] == pytest.approx([0.229, 0.224, 0.225])
    assert json.loads(archive.read("labels.json")) == ["blue", "red"]
    assert "load_predictor" in archive.read("README.md").decode()


def test_the_onnx_export_runs_in_onnx_runtime_as_the_pytorch_predictor_predicts(api, model_version, tmp_path):
    archive = download(api, model_version.pk, "onnx")
    assert sorted(archive.namelist()) == ["README.md", "config.json", "labels.json", "model.onnx"]
    archive.extractall(tmp_path / "export")
    config = json.loads(archive.read("config.json"))
    assert config["export"]["opset"] >= 17 and config["export"]["input"]["shape"][0] == "batch"

    artifact = get_storage().local_dir(model_version.artifact_key)
    images = held_out(("red", "blue", "blue"))
    batch = load_exportable(artifact).preprocess(images).numpy()
    session = ort.InferenceSession(str(tmp_path / "export" / "model.onnx"))
    logits = session.run(None, {"images": batch})[0]
    probabilities = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    by_torch = load_predictor(artifact, precision="fp32").predict(images)
    labels = json.loads(archive.read("labels.json"))
    assert [labels[int(row.argmax())] for row in probabilities] == [p[0]["label"] for p in by_torch] == \
        ["red", "blue", "blue"]
    assert probabilities.max(1).tolist() == pytest.approx([p[0]["conf"] for p in by_torch], abs=1e-3)


def test_an_export_is_built_once_and_then_served_from_storage(api, model_version):
    with mock.patch.object(exports, "export_model", wraps=exports.export_model) as export_model:
        first = download(api, model_version.pk, "pytorch").read("config.json")
        second = download(api, model_version.pk, "pytorch").read("config.json")
    assert first == second
    assert export_model.call_count == 1


def test_it_refuses_an_unknown_or_missing_format(api, model_version):
    response = api.get(f"/api/v1/models/{model_version.pk}/export/?format=tflite")
    assert response.status_code == 400
    assert "pytorch, onnx" in response.json()["format"][0]
    assert api.get(f"/api/v1/models/{model_version.pk}/export/").status_code == 400


def test_another_user_cannot_export_a_model(other_api, model_version):
    assert other_api.get(f"/api/v1/models/{model_version.pk}/export/?format=pytorch").status_code == 404
