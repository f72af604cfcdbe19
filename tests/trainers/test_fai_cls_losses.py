import math

import pytest
import torch

from trainers.fai_cls.losses import classification_loss, sigmoid_focal_loss, softmax_focal_loss


def _loss(logits, target, **kw):
    options = dict(multi_label=False, use_focal_loss=False, focal_alpha=0.75, focal_gamma=2.0, label_smoothing=0.0)
    options.update(kw)
    return classification_loss(torch.tensor(logits), torch.tensor(target), **options).item()


def test_cross_entropy_matches_the_hand_value():
    assert _loss([[1.0, 0.0]], [0]) == pytest.approx(math.log(1 + math.exp(-1)), rel=1e-6)


def test_label_smoothing_spreads_the_target_mass():
    log_p0, log_p1 = -math.log(1 + math.exp(-1)), -math.log(1 + math.exp(1))
    expected = -(0.9 * log_p0 + 0.1 * log_p1)  # smoothing 0.2 over 2 classes -> q = [0.9, 0.1]
    assert _loss([[1.0, 0.0]], [0], label_smoothing=0.2) == pytest.approx(expected, rel=1e-6)


def test_softmax_focal_loss_matches_the_hand_value():
    p = math.exp(1) / (math.exp(1) + 1)
    expected = -0.25 * (1 - p) ** 2 * math.log(p)
    assert _loss([[1.0, 0.0]], [0], use_focal_loss=True, focal_alpha=0.25) == pytest.approx(expected, rel=1e-5)


def test_bce_and_sigmoid_focal_match_hand_values():
    p = 1 / (1 + math.exp(-2))
    bce = (-math.log(p) - math.log(1 - p)) / 2
    assert _loss([[2.0, 2.0]], [[1.0, 0.0]], multi_label=True) == pytest.approx(bce, rel=1e-6)
    focal = (0.75 * (1 - p) ** 2 * -math.log(p) + 0.25 * p ** 2 * -math.log(1 - p)) / 2
    assert _loss([[2.0, 2.0]], [[1.0, 0.0]], multi_label=True, use_focal_loss=True) == pytest.approx(focal, rel=1e-5)


def test_focal_gamma_zero_is_alpha_weighted_cross_entropy():
    assert _loss([[0.3, -0.4, 1.1]], [2], use_focal_loss=True, focal_alpha=0.5, focal_gamma=0.0) == pytest.approx(
        0.5 * _loss([[0.3, -0.4, 1.1]], [2]), rel=1e-6)


@pytest.mark.parametrize("multi_label", [False, True])
@pytest.mark.parametrize("focal", [False, True])
def test_losses_and_gradients_stay_finite_for_huge_logits(multi_label, focal):
    logits = torch.tensor([[1e4, -1e4], [-1e4, 1e4]], requires_grad=True)
    target = torch.tensor([[0.0, 1.0], [0.0, 1.0]]) if multi_label else torch.tensor([1, 1])
    loss = classification_loss(logits, target, multi_label=multi_label, use_focal_loss=focal, focal_alpha=0.25,
                               focal_gamma=2.0, label_smoothing=0.0)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()
    # first row is confidently wrong, second confidently right
    if multi_label:  # 4 elements; the 2 wrong ones each cost 1e4 (times alpha_t for focal: 0.75 and 0.25)
        assert loss.item() == pytest.approx((0.75 + 0.25) * 1e4 / 4 if focal else 2e4 / 4)
    else:  # the wrong row costs 2e4 (times alpha 0.25 for focal since 1 - p = 1)
        assert loss.item() == pytest.approx(0.25 * 2e4 / 2 if focal else 2e4 / 2)


def test_focal_functions_accept_bf16_logits():
    logits = torch.tensor([[1.0, 0.0]], dtype=torch.bfloat16)
    assert softmax_focal_loss(logits, torch.tensor([0]), 0.25, 2.0).dtype == torch.float32
    assert sigmoid_focal_loss(logits, torch.tensor([[1.0, 0.0]]), 0.25, 2.0).dtype == torch.float32
