import math

import pytest
import torch

from trainers.fai_cls.postprocess import postprocess

CLASSES = ["cat", "dog", "bird"]


def test_single_label_returns_the_top_class_with_its_softmax_probability_for_each_of_3_images():
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 5.0], [0.0, 1.0, 0.0]])
    out = postprocess(logits, CLASSES, multi_label=False, threshold=0.5)
    assert [[d["label"] for d in image] for image in out] == [["cat"], ["bird"], ["dog"]]
    assert out[0][0]["conf"] == pytest.approx(math.exp(2) / (math.exp(2) + 2))
    assert out[1][0]["cls_id"] == 2 and type(out[1][0]["conf"]) is float


def test_a_batch_of_one_works_with_or_without_the_batch_dimension():
    for logits in (torch.tensor([[0.0, 3.0, 0.0]]), torch.tensor([0.0, 3.0, 0.0])):
        out = postprocess(logits, CLASSES, multi_label=False, threshold=0.5)
        assert len(out) == 1 and out[0][0]["label"] == "dog"


def test_multi_label_keeps_every_class_at_or_above_the_threshold_sorted_by_confidence():
    logits = torch.tensor([[0.0, 2.0, -1.0], [-3.0, -2.0, -5.0]])  # sigmoids: .5 .88 .27 / .05 .12 .007
    out = postprocess(logits, CLASSES, multi_label=True, threshold=0.5)
    assert [d["label"] for d in out[0]] == ["dog", "cat"]  # 0.5 >= 0.5 is kept
    assert out[1] == []
    assert out[0][1]["conf"] == pytest.approx(0.5)


def test_threshold_zero_means_every_class_not_unset():
    out = postprocess(torch.tensor([[-30.0, 1.0, -2.0]]), CLASSES, multi_label=True, threshold=0.0)
    assert [d["cls_id"] for d in out[0]] == [1, 2, 0]
