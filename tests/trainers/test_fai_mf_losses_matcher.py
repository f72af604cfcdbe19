"""Dice / sigmoid-BCE against hand-computed values; the matcher against brute force."""
import itertools
import math

import pytest
import torch

from trainers.fai_mf.losses import dice_loss, pairwise_dice_cost, pairwise_sigmoid_ce_cost, sigmoid_ce_loss
from trainers.fai_mf.matcher import HungarianMatcher
from trainers.fai_mf.point_sampling import point_sample

# sigmoid(0) = 0.5, sigmoid(ln 3) = 0.75
LOGITS = torch.tensor([[0.0, math.log(3.0)]])
TARGETS = torch.tensor([[1.0, 0.0]])


def test_dice_loss_matches_hand_computation():
    # 1 - (2 * 0.5 + 1) / (0.5 + 0.75 + 1 + 1) = 1 - 2 / 3.25
    assert dice_loss(LOGITS, TARGETS, num_masks=1).item() == pytest.approx(1 - 2 / 3.25, abs=1e-6)


def test_sigmoid_ce_loss_matches_hand_computation():
    # mean(-ln 0.5, -ln(1 - 0.75))
    expected = (math.log(2.0) + math.log(4.0)) / 2
    assert sigmoid_ce_loss(LOGITS, TARGETS, num_masks=1).item() == pytest.approx(expected, abs=1e-6)


def test_losses_are_summed_over_masks_and_divided_by_num_masks():
    logits = torch.cat([LOGITS, torch.tensor([[20.0, -20.0]])])  # second mask: ~perfect
    targets = torch.cat([TARGETS, torch.tensor([[1.0, 0.0]])])
    # second dice term: 1 - (2 * 1 + 1) / (1 + 1 + 1) = 0
    assert dice_loss(logits, targets, num_masks=4).item() == pytest.approx((1 - 2 / 3.25) / 4, abs=1e-6)
    expected_bce = ((math.log(2.0) + math.log(4.0)) / 2 + 0.0) / 4
    assert sigmoid_ce_loss(logits, targets, num_masks=4).item() == pytest.approx(expected_bce, abs=1e-6)


def test_pairwise_costs_equal_per_pair_losses():
    torch.manual_seed(0)
    logits = torch.randn(3, 7)
    targets = (torch.rand(2, 7) > 0.5).float()
    dice = pairwise_dice_cost(logits, targets)
    bce = pairwise_sigmoid_ce_cost(logits, targets)
    for n in range(3):
        for m in range(2):
            assert dice[n, m].item() == pytest.approx(dice_loss(logits[n:n + 1], targets[m:m + 1], 1).item(), abs=1e-6)
            assert bce[n, m].item() == pytest.approx(sigmoid_ce_loss(logits[n:n + 1], targets[m:m + 1], 1).item(), abs=1e-6)


def test_point_sample_reads_pixel_centres_exactly():
    values = torch.arange(16.0).view(1, 1, 4, 4)
    # centre of pixel (row 2, col 1) is at x = 1.5 / 4, y = 2.5 / 4
    coords = torch.tensor([[[1.5 / 4, 2.5 / 4], [0.5 / 4, 0.5 / 4]]])
    assert point_sample(values, coords)[0, 0].tolist() == [9.0, 0.0]


def test_class_cost_is_minus_the_target_class_probability():
    matcher = HungarianMatcher(class_weight=2.0, mask_weight=0.0, dice_weight=0.0, num_points=4)
    logits = torch.tensor([[0.0, math.log(3.0), 0.0]])  # probs 0.2, 0.6, 0.2
    target = {"labels": torch.tensor([1, 0]), "masks": torch.zeros(2, 4, 4)}
    cost = matcher.cost_matrix(logits, torch.zeros(1, 4, 4), target)
    assert cost.tolist()[0] == pytest.approx([-1.2, -0.4])


def brute_force_minimum(cost: torch.Tensor) -> float:
    queries, targets = cost.shape
    return min(sum(cost[q, t].item() for t, q in enumerate(perm))
               for perm in itertools.permutations(range(queries), targets))


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_matcher_assignment_costs_the_brute_force_minimum(seed):
    generator = torch.Generator().manual_seed(seed)
    queries, targets, classes = 5, 3, 4
    outputs = {
        "pred_logits": torch.randn(1, queries, classes + 1, generator=generator),
        "pred_masks": torch.randn(1, queries, 6, 6, generator=generator) * 3,
    }
    target = {"labels": torch.randint(0, classes, (targets,), generator=generator),
              "masks": torch.rand(targets, 12, 12, generator=generator) > 0.5}
    matcher = HungarianMatcher(class_weight=2.0, mask_weight=5.0, dice_weight=5.0, num_points=64)
    torch.manual_seed(seed)  # the matcher's random points: same for the cost and the assignment
    cost = matcher.cost_matrix(outputs["pred_logits"][0], outputs["pred_masks"][0], target)
    torch.manual_seed(seed)
    rows, cols = matcher(outputs, [target])[0]
    assert sorted(cols.tolist()) == list(range(targets))
    assert len(set(rows.tolist())) == targets
    assigned = sum(cost[q, t].item() for q, t in zip(rows.tolist(), cols.tolist()))
    assert assigned == pytest.approx(brute_force_minimum(cost), abs=1e-5)


def test_matcher_returns_empty_indices_for_an_image_without_targets():
    outputs = {"pred_logits": torch.randn(1, 3, 3), "pred_masks": torch.randn(1, 3, 4, 4)}
    target = {"labels": torch.zeros(0, dtype=torch.int64), "masks": torch.zeros(0, 8, 8, dtype=torch.bool)}
    rows, cols = HungarianMatcher(2.0, 5.0, 5.0, 16)(outputs, [target])[0]
    assert rows.numel() == 0 and cols.numel() == 0
