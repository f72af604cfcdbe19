"""FAI-MF end to end through the REST API: COCO upload, train, evaluate, deploy, predict masks."""
import numpy as np
import pytest

from tests.factories import coco_zip
from tests.platform.flows import deploy_ready, predict_multipart, upload_dataset, wait_dataset, wait_job
from trainers.data.masks import decode_mask

pytestmark = [pytest.mark.slow, pytest.mark.worker]

TINY_FAI_MF = {
    "backbone": "tiny_test", "resolution": 64, "num_queries": 8,
    "pixel_decoder_out_dim": 32, "pixel_decoder_feat_dim": 32, "pixel_decoder_encoder_layers": 1,
    "transformer_predictor_hidden_dim": 32, "transformer_predictor_dec_layers": 2, "head_out_dim": 32,
    "learning_rate": 0.003, "backbone_multiplier": 1.0, "weight_decay": 0.0, "warmup_iters": 0,
    "grad_clip_norm": 0.0, "augmentation_strength": 0.0, "batch_size": 4, "threshold": 0.3, "epochs": 12,
}


def toy_drawing(index):
    """An image of the synthetic shapes the datasets are drawn from, with its true masks."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "trainers"))
    from fai_mf_toys import draw

    return draw(index)


def test_a_coco_dataset_trains_a_segmenter_whose_masks_decode_to_pixels(api, templates, start_worker, tmp_path):
    worker = start_worker()
    response = upload_dataset(api, coco_zip(tmp_path / "shapes.zip"), fmt="coco", name="shapes")
    assert response.status_code == 201, response.content
    dataset = wait_dataset(api, response.json()["id"])
    assert dataset["status"] == "ready", dataset
    assert dataset["classes"] == ["box", "disc"] and dataset["splits"] == {"train": 4, "valid": 4}

    response = api.post("/api/v1/jobs/", {"template": "fai-mf", "dataset": dataset["id"], "hyperparameters": TINY_FAI_MF}, format="json")
    assert response.status_code == 201, response.content
    job = wait_job(api, response.json()["id"], timeout=600, worker=worker)
    assert job["status"] == "succeeded", (job["error"], worker.log())
    for key in ("segm/AP", "segm/AP50", "segm/AP75"):
        assert 0 <= job["metrics"][key] <= 100
    history = api.get(f"/api/v1/jobs/{job['id']}/metrics/").json()
    assert len(history) == TINY_FAI_MF["epochs"]
    assert history[-1]["metrics"]["segm/AP50"] > history[0]["metrics"]["segm/AP50"]

    deployment_id = deploy_ready(api, job["model"])
    image, truth = toy_drawing(0)
    response = predict_multipart(api, deployment_id, [image, image.resize((96, 80))])
    assert response.status_code == 200, response.content
    first, resized = response.json()["predictions"]
    assert first, "no detection on a training image"
    for detection in first:
        assert {"cls_id", "label", "conf", "bbox", "mask"} <= set(detection)
        mask = decode_mask(detection["mask"])
        assert mask.shape == (64, 64) and mask.dtype == bool
        ys, xs = np.nonzero(mask)
        assert detection["bbox"] == [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]
    assert all(decode_mask(d["mask"]).shape == (80, 96) for d in resized)
    best = max(first, key=lambda d: d["conf"])
    truth_mask = dict(truth)[best["label"]]
    predicted = decode_mask(best["mask"])
    iou = (predicted & truth_mask).sum() / (predicted | truth_mask).sum()
    assert iou > 0.5, f"best detection {best['label']} overlaps its true mask with IoU {iou:.2f}"


def test_a_roboflow_semantic_dataset_trains_a_per_pixel_segmenter(api, templates, start_worker, tmp_path):
    from tests.factories import roboflow_seg_zip

    worker = start_worker()
    dataset = wait_dataset(api, upload_dataset(api, roboflow_seg_zip(tmp_path / "seg.zip"), fmt="roboflow_seg").json()["id"])
    assert dataset["status"] == "ready", dataset
    assert dataset["classes"] == ["background", "box", "disc"]
    hyperparameters = {**TINY_FAI_MF, "predict_all_pixels": True, "epochs": 8}
    response = api.post("/api/v1/jobs/", {"template": "fai-mf", "dataset": dataset["id"], "hyperparameters": hyperparameters}, format="json")
    assert response.status_code == 201, response.content
    job = wait_job(api, response.json()["id"], timeout=600, worker=worker)
    assert job["status"] == "succeeded", (job["error"], worker.log())
    assert 0 <= job["metrics"]["mIoU"] <= 100 and "pixel_accuracy" in job["metrics"]

    deployment_id = deploy_ready(api, job["model"])
    response = predict_multipart(api, deployment_id, [toy_drawing(1)[0]])
    assert response.status_code == 200, response.content
    detections = response.json()["predictions"][0]
    assert detections
    labels = [d["label"] for d in detections]
    assert len(labels) == len(set(labels))  # one region per class present
    union = np.zeros((64, 64), dtype=int)
    for detection in detections:
        union += decode_mask(detection["mask"])
    assert union.max() == 1  # per-pixel classes do not overlap
