"""A model's evaluation report (made as its job ends) and evaluations on other datasets:
GET /models/{id}/evaluation/, its examples, POST/GET /models/{id}/evaluations/."""
import io

import pytest
from PIL import Image

from platform_api.registry.evaluations import run_evaluation
from platform_api.registry.models import Evaluation
from platform_api.storage import get_storage
from tests.factories import classification_zip, mislabelled_zip, roboflow_seg_zip
from platform_api.deployments import services
from platform_api.deployments.models import Deployment
from tests.platform.flows import held_out, import_in_process, predict_base64
from tests.queueing import EVALUATE_MODEL, queued

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_trained_model_keeps_a_report_with_curves_per_class_figures_and_its_mistakes(api, model_version):
    response = api.get(f"/api/v1/models/{model_version.pk}/evaluation/")
    assert response.status_code == 200, response.json()
    report = response.json()
    assert report["task"] == "classification" and report["split"] == "valid" and report["runtime"] == "torch"
    # The same figures the job measured on the same split, now through the served predictor.
    assert report["metrics"]["accuracy"] == pytest.approx(model_version.metrics["accuracy"], abs=1e-6)
    assert report["metrics"]["num_samples"] == 8
    assert set(report["per_class"]) == {"blue", "red"}
    for figures in report["per_class"].values():
        curve = figures["pr_curve"]
        assert len(curve["precision"]) == len(curve["recall"]) == len(curve["thresholds"]) > 0
        assert curve["thresholds"] == sorted(curve["thresholds"], reverse=True)
        assert 0.0 <= figures["average_precision"] <= 1.0 and figures["support"] == 4
    assert 0.0 <= report["metrics"]["expected_calibration_error"] <= 1.0
    assert sum(b["count"] for b in report["calibration"]["bins"]) == 8
    assert report["examples"]["kind"] == "misclassified"
    assert report["examples"]["url"].endswith(f"/api/v1/models/{model_version.pk}/evaluation/examples/?kind=misclassified")


def evaluated(api, model_version, dataset, **body):
    with queued(EVALUATE_MODEL):
        response = api.post(f"/api/v1/models/{model_version.pk}/evaluations/", {"dataset": dataset.pk, **body},
                            format="json")
    assert response.status_code == 202, response.json()
    run_evaluation(response.json()["id"])
    return api.get(f"/api/v1/models/{model_version.pk}/evaluations/{response.json()['id']}/").json()


def test_the_examples_are_the_misclassified_images_most_confident_first_with_their_pictures(
        api, user, model_version, tmp_path):
    own = api.get(f"/api/v1/models/{model_version.pk}/evaluation/examples/?kind=misclassified").json()
    assert own["count"] == round((1 - model_version.metrics["accuracy"]) * 8) == len(own["items"])
    swapped = import_in_process(user, mislabelled_zip(tmp_path / "swapped.zip", swapped="test"), name="swapped")
    evaluation = evaluated(api, model_version, swapped, split="test")
    assert evaluation["metrics"]["accuracy"] == 0.0
    listing = api.get(f"/api/v1/models/{model_version.pk}/evaluations/{evaluation['id']}/examples/").json()
    assert listing["kind"] == "misclassified" and listing["count"] == 6 == len(listing["items"])
    confidences = [item["confidence"] for item in listing["items"]]
    assert confidences == sorted(confidences, reverse=True)
    for item in listing["items"]:
        assert item["true"] != [item["predicted"][0]["label"]]
        assert item["confidence"] == item["predicted"][0]["conf"]
        picture = api.get(item["url"])
        assert picture.status_code == 200 and picture["Content-Type"] == "image/jpeg"
        assert Image.open(io.BytesIO(b"".join(picture.streaming_content))).size == (32, 32)
    base = f"/api/v1/models/{model_version.pk}/evaluations/{evaluation['id']}/examples"
    assert api.get(f"{base}/?kind=worst_iou").status_code == 404
    assert api.get(f"{base}/..%2Freport.json/").status_code == 404
    assert api.get(f"{base}/misclassified-999.jpg/").status_code == 404


def test_another_users_model_report_is_not_found(other_api, model_version):
    assert other_api.get(f"/api/v1/models/{model_version.pk}/evaluation/").status_code == 404
    assert other_api.get(f"/api/v1/models/{model_version.pk}/evaluations/").status_code == 404


def test_a_model_evaluated_on_a_second_dataset_in_both_runtimes(api, user, model_version, tmp_path):
    second = import_in_process(user, classification_zip(tmp_path / "second.zip",
                                                        per_class={"train": 1, "valid": 1, "test": 5}), name="second")
    ids = []
    with queued(EVALUATE_MODEL) as sent:
        for runtime in ("torch", "onnxruntime"):
            response = api.post(f"/api/v1/models/{model_version.pk}/evaluations/",
                                {"dataset": second.pk, "split": "test", "runtime": runtime}, format="json")
            assert response.status_code == 202, response.json()
            assert response.json()["status"] == "queued" and response.json()["runtime"] == runtime
            ids.append(response.json()["id"])
    assert [call.args for call in sent.call_args_list] == [(ids[0],), (ids[1],)]
    for evaluation_id in ids:
        run_evaluation(evaluation_id)
    torch_run, onnx_run = (api.get(f"/api/v1/models/{model_version.pk}/evaluations/{i}/").json() for i in ids)
    assert torch_run["status"] == onnx_run["status"] == "succeeded", (torch_run["error"], onnx_run["error"])
    assert torch_run["report"]["split"] == "test" and torch_run["report"]["metrics"]["num_samples"] == 10
    # The export scores as the original does.
    assert onnx_run["report"]["runtime"] == "onnxruntime"
    assert onnx_run["metrics"]["accuracy"] == torch_run["metrics"]["accuracy"]
    assert onnx_run["metrics"]["average_precision_macro"] == pytest.approx(
        torch_run["metrics"]["average_precision_macro"], abs=1e-3)
    listing = api.get(f"/api/v1/models/{model_version.pk}/evaluations/").json()
    assert [row["id"] for row in listing["results"]] == ids[::-1]
    examples = api.get(f"/api/v1/models/{model_version.pk}/evaluations/{ids[0]}/examples/").json()
    for item in examples["items"]:
        assert api.get(item["url"]).status_code == 200


def test_deleting_the_model_deletes_its_evaluations_reports(api, user, model_version, tmp_path):
    second = import_in_process(user, classification_zip(tmp_path / "second.zip"), name="second")
    evaluation = Evaluation.objects.get(pk=evaluated(api, model_version, second)["id"])
    assert evaluation.status == "succeeded" and evaluation.split == "valid"  # its held-out split, by default
    evaluation_id = evaluation.pk
    assert get_storage().exists(f"{evaluation.report_key}/report.json")
    assert api.delete(f"/api/v1/models/{model_version.pk}/").status_code == 204
    assert not Evaluation.objects.filter(pk=evaluation_id).exists()
    assert not get_storage().exists(f"{evaluation.report_key}/report.json")


@pytest.mark.parametrize("case", ["other_task", "unknown_classes", "missing_split", "unknown_runtime"])
def test_bad_evaluation_requests_are_refused_and_change_nothing(api, user, model_version, tmp_path, case):
    if case == "other_task":
        dataset = import_in_process(user, roboflow_seg_zip(tmp_path / "seg.zip"), fmt="roboflow_seg", name="shapes")
        body, field, words = {"dataset": dataset.pk}, "dataset", "semantic_segmentation dataset"
    elif case == "unknown_classes":
        dataset = import_in_process(user, classification_zip(tmp_path / "c.zip", classes=("red", "green")))
        body, field, words = {"dataset": dataset.pk}, "dataset", "does not know: green"
    elif case == "missing_split":
        body, field, words = {"dataset": model_version.dataset_id, "split": "test"}, "split", "it has: train, valid"
    else:
        body, field, words = {"dataset": model_version.dataset_id, "runtime": "tensorrt"}, "runtime", "tensorrt"
    with queued(EVALUATE_MODEL) as sent:
        response = api.post(f"/api/v1/models/{model_version.pk}/evaluations/", body, format="json")
    assert response.status_code == 400, response.json()
    assert words in response.json()[field][0]
    assert not Evaluation.objects.exists() and not sent.called


def test_another_users_dataset_is_not_found(api, other_api, django_user_model, model_version, tmp_path):
    mallory = django_user_model.objects.get(username="mallory")
    theirs = import_in_process(mallory, classification_zip(tmp_path / "m.zip"), name="theirs")
    with queued(EVALUATE_MODEL) as sent:
        response = api.post(f"/api/v1/models/{model_version.pk}/evaluations/", {"dataset": theirs.pk}, format="json")
    assert response.status_code == 404 and not sent.called
    assert not Evaluation.objects.exists()


def test_a_single_label_model_refuses_the_tuned_threshold(api, user, model_version):
    deployment = Deployment.objects.create(owner=user, model_version=model_version)
    services.load_deployment(deployment.pk)
    response = predict_base64(api, deployment.pk, held_out(("red",)), {"threshold": "tuned"})
    assert response.status_code == 400
    assert "has no tuned thresholds" in response.json()["threshold"][0]
    assert "or \"tuned\"" in predict_base64(api, deployment.pk, held_out(("red",)), {"threshold": "best"}).json()["threshold"][0]
