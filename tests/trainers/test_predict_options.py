"""Per-request predict options (threshold, mask_threshold, top_k) over each family's defaults."""
import pytest
import torch

from trainers.export.exportable import top, with_defaults
from trainers.families import load_predictor
from trainers.fai_cls.postprocess import postprocess

from test_export import fit_clarifai, fit_fai_mf, images_for

CLASSES = ["a", "b", "c"]
LOGITS = torch.tensor([[2.0, 1.0, 0.0]])


def test_a_request_s_options_override_the_defaults_it_names_and_nothing_else():
    defaults = {"threshold": 0.5, "top_k": None}
    assert with_defaults(defaults, {"threshold": 0.1, "mask_threshold": 0.9}) == {"threshold": 0.1, "top_k": None}
    assert with_defaults(defaults, {"threshold": None}) == defaults
    assert with_defaults(defaults, None) == defaults


def test_top_keeps_results_at_or_above_the_threshold_at_most_k():
    results = [{"conf": 0.9}, {"conf": 0.5}, {"conf": 0.1}]
    assert top(results, 0.5, None) == results[:2]
    assert top(results, 0.0, 1) == results[:1]


def test_single_label_classification_gives_its_top_class_unless_asked_for_more():
    assert [p["label"] for p in postprocess(LOGITS, CLASSES, False, 0.0, 1)[0]] == ["a"]
    ranked = postprocess(LOGITS, CLASSES, False, 0.0, 3)[0]
    assert [p["label"] for p in ranked] == ["a", "b", "c"]
    assert sum(p["conf"] for p in ranked) == pytest.approx(1.0)
    assert postprocess(LOGITS, CLASSES, False, 0.9, 3) == [[]]


def test_multi_label_classification_keeps_every_class_above_the_threshold():
    sigmoid = torch.sigmoid(LOGITS[0])
    assert [p["label"] for p in postprocess(LOGITS, CLASSES, True, float(sigmoid[1]), None)[0]] == ["a", "b"]
    assert [p["label"] for p in postprocess(LOGITS, CLASSES, True, 0.0, 1)[0]] == ["a"]


def test_a_clarifai_model_lists_every_concept_unless_the_request_narrows_it(tmp_path):
    predictor = load_predictor(fit_clarifai("clarifai_inception_v2", tmp_path), device="cpu", precision="fp32")
    images = images_for("clarifai_inception_v2")
    every = predictor.predict(images)
    assert all(len(concepts) == len(predictor.classes) for concepts in every)
    assert all(len(concepts) == 1 for concepts in predictor.predict(images, {"top_k": 1}))
    assert predictor.predict(images, {"threshold": 1.0}) == [[] for _ in images]


def test_a_segmenter_that_finds_nothing_at_its_threshold_shows_segments_at_a_lower_one(tmp_path):
    predictor = load_predictor(fit_fai_mf(tmp_path), device="cpu", precision="fp32")
    images = images_for("fai_mf")
    low = predictor.predict(images, {"threshold": 0.0})
    high = predictor.predict(images, {"threshold": 1.0})
    assert high == [[] for _ in images] and all(len(segments) > 0 for segments in low)
    assert all(len(segments) <= 2 for segments in predictor.predict(images, {"threshold": 0.0, "top_k": 2}))
    assert all(s["conf"] > 0.0 for segments in low for s in segments)
