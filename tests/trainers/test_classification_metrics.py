import pytest

from trainers.metrics.classification import multi_label_metrics, single_label_metrics


def test_single_label_metrics_match_hand_computed_values():
    m = single_label_metrics([0, 0, 1, 2], [0, 1, 1, 1], num_classes=3, class_names=["a", "b", "c"])
    assert m["confusion_matrix"] == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]
    assert m["accuracy"] == 0.5
    # precision [1, 1/3, 0]; recall [1/2, 1, 0]; f1 [2/3, 1/2, 0]
    assert m["precision_macro"] == pytest.approx((1 + 1 / 3) / 3)
    assert m["recall_macro"] == pytest.approx(0.5)
    assert m["f1_macro"] == pytest.approx((2 / 3 + 1 / 2) / 3)
    assert m["per_class"]["b"] == {"precision": pytest.approx(1 / 3), "recall": 1.0, "f1": 0.5, "support": 1}
    assert m["per_class"]["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}  # never predicted


def test_a_class_without_samples_or_predictions_counts_as_zero_not_nan():
    m = single_label_metrics([0, 1], [0, 1], num_classes=3)
    assert m["per_class"]["2"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert m["accuracy"] == 1.0 and m["f1_macro"] == pytest.approx(2 / 3)
    empty = single_label_metrics([], [], num_classes=2)
    assert empty["accuracy"] == 0.0 and empty["f1_macro"] == 0.0


def test_multi_label_metrics_match_hand_computed_values():
    m = multi_label_metrics([[1, 0, 1], [0, 1, 0]], [[1, 1, 0], [0, 1, 0]], class_names=["a", "b", "c"])
    # micro: tp 2, fp 1, fn 1
    assert m["precision_micro"] == pytest.approx(2 / 3) and m["recall_micro"] == pytest.approx(2 / 3)
    assert m["f1_micro"] == pytest.approx(2 / 3)
    # per class: a p1 r1 f1; b p.5 r1 f2/3; c p0 r0 f0 (no predictions)
    assert m["precision_macro"] == pytest.approx(0.5)
    assert m["recall_macro"] == pytest.approx(2 / 3)
    assert m["f1_macro"] == pytest.approx((1 + 2 / 3) / 3)
    assert m["per_class"]["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert m["exact_match_accuracy"] == 0.5
