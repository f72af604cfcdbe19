"""Post-processing on hand-built outputs: values, shapes for batches of 1 and 3, mask codec."""
import numpy as np
import pytest
import torch

from trainers.data.masks import decode_mask, encode_mask
from trainers.fai_mf.postprocessing import masks_to_boxes, postprocess

NUM_CLASSES = 3
BIG = 20.0


def rectangle_logits(h, w, y1, y2, x1, x2):
    logits = torch.full((h, w), -BIG)
    logits[y1:y2, x1:x2] = BIG
    return logits


def hand_built_outputs(batch: int):
    """Query 0 -> class 1 on the left half, query 1 -> class 2 on the right half, query 2 -> no object."""
    logits = torch.full((batch, 3, NUM_CLASSES + 1), -BIG)
    logits[:, 0, 1] = BIG
    logits[:, 1, 2] = BIG
    logits[:, 2, NUM_CLASSES] = BIG
    masks = torch.stack([rectangle_logits(8, 8, 0, 8, 0, 4), rectangle_logits(8, 8, 0, 8, 4, 8),
                         rectangle_logits(8, 8, 2, 6, 2, 6)])
    return {"pred_logits": logits, "pred_masks": masks[None].repeat(batch, 1, 1, 1)}


SIZES = [(16, 16), (8, 24), (32, 8)]


@pytest.mark.parametrize("batch", [1, 3])
def test_instance_postprocessing_finds_both_objects_at_each_image_size(batch):
    results = postprocess(hand_built_outputs(batch), SIZES[:batch], "instance", threshold=0.5,
                          mask_threshold=0.5, predict_all_pixels=False)
    assert len(results) == batch
    for result, (h, w) in zip(results, SIZES):
        assert result["masks"].shape == (2, h, w) and result["masks"].dtype == torch.bool
        order = result["labels"].argsort()
        assert result["labels"][order].tolist() == [1, 2]
        assert result["scores"].tolist() == pytest.approx([1.0, 1.0], abs=1e-3)  # bilinear edges
        left, right = result["masks"][order]
        assert left[:, : w // 2].all() and not left[:, w // 2:].any()
        assert right[:, w // 2:].all() and not right[:, : w // 2].any()
        assert result["boxes"][order].tolist() == [[0, 0, w // 2, h], [w // 2, 0, w, h]]


def test_instance_score_is_class_probability_times_mean_mask_probability():
    outputs = hand_built_outputs(1)
    outputs["pred_logits"][0, 0] = torch.tensor([0.0, np.log(6.0), 0.0, np.log(2.0)])  # p(class 1) = 0.6
    outputs["pred_masks"][0, 0] = torch.where(outputs["pred_masks"][0, 0] > 0, np.log(3.0), -BIG)  # 0.75 inside
    result = postprocess(outputs, [(8, 8)], "instance", threshold=0.3, mask_threshold=0.5,
                         predict_all_pixels=False)[0]
    scores = dict(zip(result["labels"].tolist(), result["scores"].tolist()))
    assert scores[1] == pytest.approx(0.6 * 0.75, abs=1e-4)


def test_instance_threshold_drops_low_scores():
    outputs = hand_built_outputs(1)
    outputs["pred_logits"][0, 1] = torch.tensor([0.0, 0.0, 0.0, 0.0])  # best class prob 0.25
    result = postprocess(outputs, [(8, 8)], "instance", 0.5, 0.5, False)[0]
    assert result["labels"].tolist() == [1]


@pytest.mark.parametrize("batch", [1, 3])
def test_semantic_all_pixels_gives_one_segment_per_present_class(batch):
    results = postprocess(hand_built_outputs(batch), SIZES[:batch], "semantic", 0.5, 0.5, predict_all_pixels=True)
    assert len(results) == batch
    for result, (h, w) in zip(results, SIZES):
        assert result["labels"].tolist() == [1, 2]
        assert result["masks"].shape == (2, h, w)
        # the two segments tile the image
        assert (result["masks"].sum(0) == 1).all()
        assert result["masks"][0, :, : w // 2].all()
        assert result["scores"].tolist() == pytest.approx([1.0, 1.0], abs=1e-3)  # bilinear edges


@pytest.mark.parametrize("batch", [1, 3])
def test_semantic_per_query_keeps_confident_queries(batch):
    outputs = hand_built_outputs(batch)
    outputs["pred_logits"][-1, 1] = 0.0  # last image: query 1 is unsure (0.25 per class)
    results = postprocess(outputs, SIZES[:batch], "semantic", 0.5, 0.5, predict_all_pixels=False)
    for i, (result, (h, w)) in enumerate(zip(results, SIZES)):
        expected = [1] if i == batch - 1 else [1, 2]
        assert result["labels"].tolist() == expected
        assert result["masks"].shape == (len(expected), h, w)


def test_boxes_use_exclusive_right_and_bottom_edges():
    mask = torch.zeros(1, 10, 10, dtype=torch.bool)
    mask[0, 2:5, 3:9] = True  # rows 2..4, cols 3..8
    assert masks_to_boxes(mask).tolist() == [[3, 2, 9, 5]]


def test_a_client_decodes_exactly_the_encoded_pixels():
    rng = np.random.default_rng(0)
    mask = rng.random((13, 17)) > 0.5
    decoded = decode_mask(encode_mask(mask))
    assert decoded.shape == (13, 17) and decoded.dtype == bool
    assert np.array_equal(decoded, mask)


@pytest.mark.parametrize("batch", [1, 3])
def test_semantic_per_query_with_no_confident_query_gives_no_segments(batch):
    outputs = hand_built_outputs(batch)
    outputs["pred_logits"][0] = 0.0  # first image: every query unsure (0.25 per class)
    results = postprocess(outputs, SIZES[:batch], "semantic", 0.5, 0.5, predict_all_pixels=False)
    h, w = SIZES[0]
    assert results[0]["labels"].tolist() == [] and results[0]["masks"].shape == (0, h, w)
    assert all(result["labels"].tolist() == [1, 2] for result in results[1:])


def test_semantic_scores_are_float32_under_bf16_autocast():
    from trainers.fai_mf.postprocessing import semantic_probabilities

    outputs = hand_built_outputs(1)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        probs = semantic_probabilities(outputs["pred_logits"][0], outputs["pred_masks"][0])
    assert probs.dtype == torch.float32
    assert torch.equal(probs, semantic_probabilities(outputs["pred_logits"][0], outputs["pred_masks"][0]))
