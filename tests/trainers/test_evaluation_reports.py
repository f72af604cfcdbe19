"""The report figures against values computed by hand (trainers.metrics, trainers.evaluation)."""
import contextlib
import io

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from trainers.metrics.classification import calibration, multi_label_report, single_label_report
from trainers.metrics.segmentation import coco_area_ap, coco_class_report, semantic_report


def test_single_label_report_matches_hand_computed_curves_and_figures():
    # Three classes, four images; the first two right, the last two wrong.
    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.6, 0.3, 0.1], [0.5, 0.1, 0.4]])
    truth = np.array([0, 1, 1, 2])
    report = single_label_report(probabilities, truth, ["a", "b", "c"])
    assert report["accuracy"] == 0.5
    assert report["top5_accuracy"] is None  # three classes: every truth is within the top 5
    # Class a: scores .7 .1 .6 .5, positive only the first -> ranked first: AP 1, ROC AUC 1.
    assert report["per_class"]["a"]["average_precision"] == 1.0
    assert report["per_class"]["a"]["roc_auc"] == 1.0
    # Class b: scores .2 .8 .3 .1, positives the 2nd (.8, ranked 1st) and 3rd (.3, ranked 2nd): AP 1.
    assert report["per_class"]["b"]["average_precision"] == 1.0
    # Class c: scores .1 .1 .1 .4, positive the 4th, ranked first: AP 1, AUC 1.
    assert report["per_class"]["c"]["roc_auc"] == 1.0
    curve = report["per_class"]["b"]["pr_curve"]
    # Thresholds from high to low: .8 (p 1, r .5), .3 (p 1, r 1), .2 (p 2/3, r 1), .1 (p .5, r 1).
    assert curve["thresholds"] == pytest.approx([0.8, 0.3, 0.2, 0.1])
    assert curve["precision"] == pytest.approx([1.0, 1.0, 2 / 3, 0.5])
    assert curve["recall"] == pytest.approx([0.5, 1.0, 1.0, 1.0])
    # Confidences .7 .8 .6 .5 with correct 1 1 0 0, each alone in its bin of 1/15:
    # ECE = the mean of |confidence - correct|.
    assert report["expected_calibration_error"] == pytest.approx((0.3 + 0.2 + 0.6 + 0.5) / 4)


def test_top5_accuracy_counts_truths_ranked_in_the_first_five():
    # Seven classes; image 0's truth ranks 1st, image 1's 5th, image 2's 6th.
    probabilities = np.array([[0.40, 0.10, 0.10, 0.10, 0.10, 0.10, 0.10],
                              [0.30, 0.20, 0.15, 0.13, 0.12, 0.06, 0.04],
                              [0.30, 0.20, 0.15, 0.13, 0.12, 0.06, 0.04]])
    report = single_label_report(probabilities, np.array([0, 4, 5]), list("abcdefg"))
    assert report["top5_accuracy"] == pytest.approx(2 / 3)
    assert report["accuracy"] == pytest.approx(1 / 3)


def test_macro_means_cover_the_classes_of_the_data_evaluated_on():
    # A three-class model scored on data of classes a and b only, both right.
    probabilities = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1]])
    everything = single_label_report(probabilities, np.array([0, 1]), ["a", "b", "c"])
    scored = single_label_report(probabilities, np.array([0, 1]), ["a", "b", "c"], scored=[0, 1])
    assert everything["recall_macro"] == pytest.approx(2 / 3)  # c's recall 0 counted
    assert scored["recall_macro"] == scored["precision_macro"] == scored["f1_macro"] == 1.0


def test_calibration_bins_group_images_and_weigh_them_by_count():
    confidences = np.array([0.91, 0.93, 0.95, 0.97, 0.55])
    correct = np.array([1, 1, 1, 0, 1])
    result = calibration(confidences, correct, bins=10)
    # Bin (0.9, 1]: mean confidence .94, accuracy .75; bin (0.5, 0.6]: .55 against 1.
    assert [b["count"] for b in result["bins"]] == [1, 4]
    assert result["bins"][1]["confidence"] == pytest.approx(0.94)
    assert result["bins"][1]["accuracy"] == pytest.approx(0.75)
    assert result["expected_calibration_error"] == pytest.approx(4 / 5 * 0.19 + 1 / 5 * 0.45)


def test_multi_label_report_tunes_each_class_to_its_best_f1_threshold():
    probabilities = np.array([[0.9, 0.2], [0.4, 0.6], [0.35, 0.1], [0.2, 0.7]])
    truth = np.array([[1, 0], [1, 1], [0, 0], [0, 1]])
    report = multi_label_report(probabilities, truth, ["a", "b"], threshold=0.5)
    # At 0.5, class a finds 1 of its 2: recall .5, precision 1.
    assert report["per_class"]["a"]["recall"] == 0.5 and report["per_class"]["a"]["precision"] == 1.0
    # Lowering a's threshold to 0.4 finds both with no false one: F1 1.
    assert report["tuned_thresholds"]["a"] == pytest.approx(0.4)
    assert report["per_class"]["a"]["f1_at_tuned_threshold"] == pytest.approx(1.0)
    # Both classes rank their positives first: AP 1 each.
    assert report["mAP"] == 1.0 and report["roc_auc_macro"] == 1.0


def test_a_class_with_no_positives_has_no_curve_and_stays_out_of_the_means():
    report = single_label_report(np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1]]), np.array([0, 1]), ["a", "b", "c"])
    assert report["per_class"]["c"]["average_precision"] is None and report["per_class"]["c"]["pr_curve"] is None
    assert report["per_class"]["c"]["roc_auc"] is None
    assert report["average_precision_macro"] == 1.0


def test_semantic_report_gives_per_class_iou_and_pixel_accuracy():
    matrix = np.array([[8, 2], [1, 4]])  # rows: truth
    report = semantic_report(matrix, ["bg", "fg"])
    assert report["per_class"]["bg"]["IoU"] == pytest.approx(100 * 8 / (8 + 2 + 1))
    assert report["per_class"]["fg"]["IoU"] == pytest.approx(100 * 4 / (4 + 1 + 2))
    assert report["per_class"]["fg"]["pixel_accuracy"] == pytest.approx(100 * 4 / 5)
    assert report["per_class"]["bg"]["pixels"] == 10
    assert report["pixel_accuracy"] == pytest.approx(100 * 12 / 15)


def square(x, y, side=10, size=64):
    mask = np.zeros((size, size), np.uint8)
    mask[y:y + side, x:x + side] = 1
    rle = mask_utils.encode(np.asfortranarray(mask))
    rle["counts"] = rle["counts"].decode("ascii")
    return rle


def test_coco_per_class_ap_matches_the_101_point_interpolation_by_hand():
    gt = COCO()
    gt.dataset = {
        "images": [{"id": 1, "width": 64, "height": 64}],
        "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "segmentation": square(0, 0), "area": 100, "iscrowd": 0,
             "bbox": [0, 0, 10, 10]},
            {"id": 2, "image_id": 1, "category_id": 1, "segmentation": square(30, 30), "area": 100, "iscrowd": 0,
             "bbox": [30, 30, 10, 10]},
            {"id": 3, "image_id": 1, "category_id": 2, "segmentation": square(50, 0), "area": 100, "iscrowd": 0,
             "bbox": [50, 0, 10, 10]},
        ]}
    with contextlib.redirect_stdout(io.StringIO()):
        gt.createIndex()
        # Class a: a hit (.9), a miss (.8), the second hit (.7). Class b: nothing found.
        detections = gt.loadRes([
            {"image_id": 1, "category_id": 1, "segmentation": square(0, 0), "score": 0.9},
            {"image_id": 1, "category_id": 1, "segmentation": square(15, 45), "score": 0.8},
            {"image_id": 1, "category_id": 1, "segmentation": square(30, 30), "score": 0.7},
        ])
        evaluator = COCOeval(gt, detections, iouType="segm")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    per_class = coco_class_report(evaluator, ["a", "b"], [1, 2])
    # Precision after each detection 1, 1/2, 2/3 at recall .5, .5, 1; interpolated: 1 up to
    # recall .5 (51 of COCO's 101 points), 2/3 above (50 points). Exact masks: every IoU the same.
    expected = 100 * (51 * 1.0 + 50 * 2 / 3) / 101
    assert per_class["a"]["AP"] == pytest.approx(expected)
    assert per_class["a"]["AP50"] == per_class["a"]["AP75"] == pytest.approx(expected)
    assert per_class["b"]["AP"] == 0.0
    curve = per_class["a"]["pr_curve"]
    assert len(curve["recall"]) == 101 and curve["precision"][50] == 1.0 and curve["precision"][51] == pytest.approx(2 / 3)
    assert curve["thresholds"][0] == 0.9 and curve["thresholds"][-1] == 0.7
    assert per_class["b"]["pr_curve"] == {"recall": [], "precision": [], "thresholds": []}
    assert coco_area_ap(evaluator) == {"segm/APs": pytest.approx((expected + 0) / 2), "segm/APm": None, "segm/APl": None}


class FindsNothing:
    """A segmenter that finds nothing, through the predictor interface evaluate() reads."""

    runtime = "test"

    class exportable:  # noqa: N801  (an Exportable's attributes, as a namespace)
        classes = ["box", "disc"]
        task = "instance_segmentation"
        prediction_options = {"threshold": 0.3}

    def predict(self, images, options=None):
        return [[] for _ in images]


def test_a_segmenter_that_finds_nothing_scores_zero_where_there_was_something_to_find(tmp_path):
    import json
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from fai_mf_toys import write_coco_dataset

    from trainers.evaluation import evaluate

    dataset = write_coco_dataset(tmp_path / "data")
    report = evaluate(FindsNothing(), dataset, "train", tmp_path / "report")
    assert report["metrics"]["segm/AP"] == 0.0 and report["metrics"]["segm/APs"] == 0.0  # the toys are small
    assert report["metrics"]["segm/APl"] is None
    assert report["per_class"]["box"]["AP"] == 0.0 and report["per_class"]["box"]["pr_curve"]["recall"] == []
    assert report["examples"]["count"] == 4  # every image: all of its objects missed
    for item in report["examples"]["items"]:
        assert item["iou"] == 0.0 and item["missed"] and not item["false"] and not item["matched"]
    assert json.loads((tmp_path / "report" / "report.json").read_text())["metrics"] == report["metrics"]
