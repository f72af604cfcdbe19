"""Learning rates, schedules, parameter groups, weight decay and epoch size, against
hand-computed values."""
import math

import pytest
import torch

from trainers.clarifai_templates.lamb import Lamb
from trainers.families import build_trainer
from trainers.core import Callbacks

from clarifai_toys import make_dataset, one_torch_thread  # noqa: F401  (autouse)

INCEPTION_FAMILY = ["clarifai_inception_batchnorm", "clarifai_inception_v2", "clarifai_resnext"]


def _recipe(tmp_path, key, **hyperparameters):
    return build_trainer(key, {"image_size": 32, **hyperparameters}, make_dataset(tmp_path / "data"),
                 tmp_path / "work", device="cpu").recipe


def _lrs_at(optimizer, scheduler, steps: list[int]) -> dict[int, list[float]]:
    """Each group's lr when the optimizer takes step number s (0-based)."""
    seen, step = {}, 0
    while step <= max(steps):
        if step in steps:
            seen[step] = [group["lr"] for group in optimizer.param_groups]
        optimizer.step()
        scheduler.step()
        step += 1
    return seen


@pytest.mark.parametrize("key", INCEPTION_FAMILY)
def test_step_lr_is_batch_size_times_per_item_lrate_then_drops_tenfold_every_step_epochs(tmp_path, key):
    recipe = _recipe(tmp_path, key, batch_size=8, per_item_lrate=0.01, init_epochs=2, step_epochs=3)
    model = recipe.build_model()
    optimizer = recipe.build_optimizer(model)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.08)
    scheduler = recipe.build_scheduler(optimizer, steps_per_epoch=2, epochs=10)
    # 2 steps per epoch: epochs 0-1 at 0.08, epochs 2-4 at 0.008, epochs 5-7 at 0.0008.
    expected = {0: 0.08, 3: 0.08, 4: 0.008, 9: 0.008, 10: 0.0008, 15: 0.0008, 16: 0.00008}
    for step, lrs in _lrs_at(optimizer, scheduler, list(expected)).items():
        assert lrs[0] == pytest.approx(expected[step]), step


@pytest.mark.parametrize("key", INCEPTION_FAMILY)
def test_inception_family_uses_sgd_with_momentum_on_every_parameter(tmp_path, key):
    recipe = _recipe(tmp_path, key, batch_size=2)
    model = recipe.build_model()
    optimizer = recipe.build_optimizer(model)
    assert isinstance(optimizer, torch.optim.SGD)
    assert optimizer.param_groups[0]["momentum"] == 0.9
    assert sum(p.numel() for g in optimizer.param_groups for p in g["params"]) == \
        sum(p.numel() for p in model.parameters())


def test_rsb_a1_warms_up_linearly_from_warmup_ratio_then_cosine_to_the_minimum(tmp_path):
    recipe = _recipe(tmp_path, "clarifai_resnet50_rsb_a1", pretrained_weights="None", batch_size=4,
                     per_item_lrate=0.025, per_item_min_lrate=0.0025, warmup_iters=4, warmup_ratio=0.1)
    optimizer = recipe.build_optimizer(recipe.build_model())
    assert isinstance(optimizer, Lamb)
    scheduler = recipe.build_scheduler(optimizer, steps_per_epoch=3, epochs=4)  # 12 steps
    # lr 4 * 0.025 = 0.1, minimum 4 * 0.0025 = 0.01 (mmcv CosineAnnealing, linear warmup):
    # cosine over the whole run, 0.01 + 0.09 * (1 + cos(pi * s / 12)) / 2, scaled during the
    # 4 warmup steps by 1 - (1 - s / 4) * (1 - 0.1), i.e. from 0.1 (warmup_ratio) to 1.
    def cosine(s):
        return 0.01 + 0.09 * (1 + math.cos(math.pi * s / 12)) / 2

    expected = {0: 0.01, 2: cosine(2) * (1 - 0.5 * 0.9), 4: cosine(4), 6: 0.055, 9: cosine(9), 12: 0.01}
    for step, lrs in _lrs_at(optimizer, scheduler, list(expected)).items():
        assert lrs == pytest.approx([expected[step]] * 2), step


def test_rsb_a1_decays_to_the_minimum_even_when_warmup_is_longer_than_the_run(tmp_path):
    recipe = _recipe(tmp_path, "clarifai_resnet50_rsb_a1", pretrained_weights="None", batch_size=4,
                     per_item_lrate=0.025, per_item_min_lrate=0.0025, warmup_iters=500, warmup_ratio=0.1)
    optimizer = recipe.build_optimizer(recipe.build_model())
    scheduler = recipe.build_scheduler(optimizer, steps_per_epoch=4, epochs=100)  # 400 steps < 500
    lrs = _lrs_at(optimizer, scheduler, [0, 200, 400])
    # The cosine reaches 0.01 at the end; the unfinished warmup still scales it, as in mmcv
    # (it used to climb to the full 0.1 and end there).
    assert lrs[0][0] == pytest.approx(0.01)
    assert lrs[200][0] == pytest.approx(0.055 * (1 - (1 - 200 / 500) * 0.9))
    assert lrs[400][0] == pytest.approx(0.01 * (1 - (1 - 400 / 500) * 0.9))


def test_rsb_a1_without_warmup_starts_at_the_full_rate(tmp_path):
    recipe = _recipe(tmp_path, "clarifai_resnet50_rsb_a1", pretrained_weights="None", batch_size=2,
                     per_item_lrate=0.05, per_item_min_lrate=0.0, warmup_iters=0)
    optimizer = recipe.build_optimizer(recipe.build_model())
    scheduler = recipe.build_scheduler(optimizer, steps_per_epoch=5, epochs=2)
    lrs = _lrs_at(optimizer, scheduler, [0, 5, 10])
    assert lrs[0][0] == pytest.approx(0.1) and lrs[5][0] == pytest.approx(0.05) and lrs[10][0] == pytest.approx(0.0)


def test_rsb_a1_weight_decay_applies_to_weights_but_not_norms_and_biases(tmp_path):
    recipe = _recipe(tmp_path, "clarifai_resnet50_rsb_a1", pretrained_weights="None", weight_decay=0.05)
    model = recipe.build_model()
    groups = {g["name"]: g for g in recipe.build_optimizer(model).param_groups}
    assert groups["decay"]["weight_decay"] == 0.05 and groups["no_decay"]["weight_decay"] == 0.0
    decayed = {id(p) for p in groups["decay"]["params"]}
    body = model.features.body
    assert id(body.conv1.weight) in decayed and id(model.head.fc.weight) in decayed
    assert id(body.bn1.weight) not in decayed and id(model.head.fc.bias) not in decayed


def test_lamb_takes_the_trust_ratio_scaled_step_computed_by_hand():
    weight = torch.nn.Parameter(torch.tensor([3.0, 4.0]))  # |w| = 5
    weight.grad = torch.tensor([0.5, -2.0])
    Lamb([weight], lr=0.1, weight_decay=0.1, eps=0.0).step()
    # First step: adam direction = sign(g) = (1, -1); u = (1, -1) + 0.1 * (3, 4) = (1.3, -0.6);
    # |u| = sqrt(1.69 + 0.36); w <- w - 0.1 * (5 / |u|) * u
    u = torch.tensor([1.3, -0.6])
    assert torch.allclose(weight.detach(), torch.tensor([3.0, 4.0]) - 0.1 * 5 / u.norm() * u, atol=1e-6)


def test_lamb_without_weight_decay_takes_the_plain_adam_step():
    weight = torch.nn.Parameter(torch.tensor([3.0, 4.0]))
    weight.grad = torch.tensor([0.5, -2.0])
    Lamb([weight], lr=0.1, weight_decay=0.0, eps=0.0).step()
    assert torch.allclose(weight.detach(), torch.tensor([2.9, 4.1]))


def test_base_gradient_multiplier_scales_the_backbone_rate(tmp_path):
    recipe = _recipe(tmp_path, "clarifai_inception_transfer_embed_norm", lrate=0.02, base_gradient_multiplier=0.25)
    model = recipe.build_model()
    groups = {g["name"]: g for g in recipe.build_optimizer(model).param_groups}
    assert groups["head"]["lr"] == pytest.approx(0.02)  # lrate is per minibatch: not scaled by batch_size
    assert groups["base"]["lr"] == pytest.approx(0.005)
    assert {id(p) for p in groups["base"]["params"]} == {id(p) for p in model.features.parameters()}
    assert {id(p) for p in groups["head"]["params"]} == {id(p) for p in model.head.parameters()}


def test_base_gradient_multiplier_zero_leaves_the_base_weights_untouched(tmp_path):
    recipe = _recipe(tmp_path, "clarifai_inception_transfer_embed_norm", lrate=0.1, base_gradient_multiplier=0.0,
                     batch_size=4)
    torch.manual_seed(0)
    model = recipe.build_model().train()
    optimizer = recipe.build_optimizer(model)
    base_before = [p.detach().clone() for p in model.features.parameters()]
    head_before = model.head.fc.weight.detach().clone()
    batch = next(iter(torch.utils.data.DataLoader(recipe.train_dataset(), batch_size=4)))
    recipe.train_step(model, batch, torch.device("cpu"))["loss"].backward()
    optimizer.step()
    assert all(torch.equal(a, b) for a, b in zip(base_before, model.features.parameters()))
    assert not torch.equal(head_before, model.head.fc.weight)


def _fit_recording_batches(tmp_path, key, **hyperparameters):
    # fp32 outright: where bf16 is native, auto would time a few extra train_steps first.
    trainer = build_trainer(key, {"num_epochs": 1, **hyperparameters}, make_dataset(tmp_path / "data"),
                    tmp_path / "work", device="cpu", precision="fp32")
    shapes = []
    original = trainer.recipe.train_step

    def recording(model, batch, device):
        shapes.append(tuple(batch[0].shape))
        return original(model, batch, device)

    trainer.recipe.train_step = recording
    result = trainer.fit(Callbacks())
    return shapes, result


def test_num_items_per_epoch_sets_how_many_images_an_epoch_samples(tmp_path):
    # 8 training images; an epoch of 11 samples with replacement in batches of 4: 4 + 4 + 3.
    shapes, result = _fit_recording_batches(tmp_path, "clarifai_inception_v2", image_size=48, batch_size=4,
                                            num_items_per_epoch=11)
    assert [s[0] for s in shapes] == [4, 4, 3]
    assert {s[1:] for s in shapes} == {(3, 48, 48)}  # image_size reaches the network
    assert result.history[0]["step"] == 3


def test_without_num_items_per_epoch_an_epoch_is_the_training_split(tmp_path):
    shapes, _ = _fit_recording_batches(tmp_path, "clarifai_inception_transfer_embed_norm", image_size=32,
                                       batch_size=3, average_horizontal_flips=False)
    assert [s[0] for s in shapes] == [3, 3, 2]  # 8 images


def test_a_last_batch_of_one_image_is_dropped(tmp_path):
    # 9 samples in batches of 4 would end with a single image, which batch norm cannot train on at 32 px.
    shapes, _ = _fit_recording_batches(tmp_path, "clarifai_inception_batchnorm", image_size=32, batch_size=4,
                                       num_items_per_epoch=9)
    assert [s[0] for s in shapes] == [4, 4]


def test_evaluation_runs_in_fp32_like_the_predictor_even_under_the_engine_s_autocast(tmp_path, monkeypatch):
    from trainers.clarifai_templates import shared_recipe as recipe_module

    recipe = _recipe(tmp_path, "clarifai_inception_v2", batch_size=2)
    model = recipe.build_model().eval()
    seen = []
    predict = recipe_module.predict_probabilities
    monkeypatch.setattr(recipe_module, "predict_probabilities",
                        lambda *args: seen.append(torch.is_autocast_enabled("cpu")) or predict(*args))
    with torch.autocast("cpu", dtype=torch.bfloat16):  # as the engine calls evaluate()
        recipe.evaluate(model, torch.device("cpu"))
    assert seen == [False]
