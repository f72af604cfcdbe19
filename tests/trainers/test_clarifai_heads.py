"""logreg (sigmoid + BCE vs softmax + CE), the L2-normalised embedding head and flip averaging."""
import math

import pytest
import torch
from torch import nn

from trainers.clarifai_templates.heads import EmbedNormHead, activation, classification_loss
from trainers.clarifai_templates.model import ClarifaiClassifier, build_feature_extractor
from trainers.families import build_trainer
from trainers.core import TrainerError
from trainers.families import check_hyperparameters

from clarifai_toys import make_dataset, one_torch_thread  # noqa: F401  (autouse)

LOGITS = torch.tensor([[0.0, math.log(3.0)]])


def test_logreg_1_gives_independent_sigmoid_probabilities():
    assert torch.allclose(activation(LOGITS, logreg=True), torch.tensor([[0.5, 0.75]]))


def test_logreg_0_gives_a_softmax_distribution():
    assert torch.allclose(activation(LOGITS, logreg=False), torch.tensor([[0.25, 0.75]]))


def test_logreg_1_trains_with_binary_cross_entropy():
    # -(log 0.5 + log(1 - 0.75)) = log 2 + log 4, summed over concepts
    loss = classification_loss(LOGITS, torch.tensor([[1.0, 0.0]]), logreg=True)
    assert loss.item() == pytest.approx(3.0 * math.log(2.0))


def test_binary_cross_entropy_is_averaged_over_images_not_concepts():
    # The per-image loss must not shrink as concepts are added: that would slow learning.
    two_images = torch.cat([LOGITS, LOGITS])
    targets = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    assert classification_loss(two_images, targets, logreg=True).item() == pytest.approx(3.0 * math.log(2.0))
    ten_concepts = torch.zeros(1, 10)
    target = torch.zeros(1, 10)
    target[0, 0] = 1.0
    assert classification_loss(ten_concepts, target, logreg=True).item() == pytest.approx(10 * math.log(2.0))


def test_logreg_0_trains_with_cross_entropy():
    loss = classification_loss(LOGITS, torch.tensor([[1.0, 0.0]]), logreg=False)
    assert loss.item() == pytest.approx(-math.log(0.25))


def test_softmax_spreads_a_multi_label_target_over_its_concepts():
    loss = classification_loss(LOGITS, torch.tensor([[1.0, 1.0]]), logreg=False)
    assert loss.item() == pytest.approx(-(0.5 * math.log(0.25) + 0.5 * math.log(0.75)))


def test_embed_norm_head_sees_only_the_direction_of_the_embedding():
    head = EmbedNormHead(2, 2, init_scale=2.0)
    with torch.no_grad():
        head.fc.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
        head.fc.bias.zero_()
    embedding = torch.tensor([[3.0, 4.0]])
    # scale * e / |e| = 2 * (0.6, 0.8)
    assert torch.allclose(head(embedding), torch.tensor([[1.2, 1.6]]))
    assert torch.allclose(head(10 * embedding), head(embedding))


def _classifier(average_horizontal_flips: bool) -> ClarifaiClassifier:
    torch.manual_seed(0)
    model = ClarifaiClassifier(build_feature_extractor("bn_inception"), 3, head="embed_norm",
                               average_horizontal_flips=average_horizontal_flips)
    return model.eval()


def test_flip_averaged_embedding_is_the_mean_of_image_and_mirror_embeddings():
    model = _classifier(average_horizontal_flips=True)
    images = torch.randn(2, 3, 32, 48)
    with torch.no_grad():
        expected = (model._embed(images) + model._embed(images.flip(-1))) / 2
        assert torch.allclose(model.embedding(images), expected, atol=1e-5)


def test_flip_averaging_makes_predictions_mirror_invariant():
    images = torch.randn(2, 3, 32, 48)
    with torch.no_grad():
        averaged = _classifier(average_horizontal_flips=True)
        assert torch.allclose(averaged(images), averaged(images.flip(-1)), atol=1e-5)
        plain = _classifier(average_horizontal_flips=False)
        assert not torch.allclose(plain(images), plain(images.flip(-1)), atol=1e-3)


@pytest.mark.parametrize("logreg, reference", [
    (1, lambda logits, target: nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="sum") / len(logits)),
    (0, lambda logits, target: nn.functional.cross_entropy(logits, target.argmax(1))),
])
def test_the_trainer_loss_follows_logreg(tmp_path, logreg, reference):
    dataset = make_dataset(tmp_path / "data")
    trainer = build_trainer("clarifai_inception_v2", {"logreg": logreg, "image_size": 32, "batch_size": 2},
                    dataset, tmp_path / "work", device="cpu")
    recipe = trainer.recipe
    torch.manual_seed(0)
    model = recipe.build_model().eval()
    images, targets = next(iter(torch.utils.data.DataLoader(recipe.train_dataset(), batch_size=4)))
    loss = recipe.train_step(model, (images, targets), torch.device("cpu"))["loss"]
    assert loss.item() == pytest.approx(reference(model(images), targets).item(), rel=1e-5)


@pytest.mark.parametrize("key", ["clarifai_inception_batchnorm", "clarifai_resnet50_rsb_a1"])
def test_batch_of_one_at_32_pixels_is_refused_with_an_actionable_error(tmp_path, key):
    dataset = make_dataset(tmp_path / "data")
    with pytest.raises(TrainerError) as error:
        build_trainer(key, {"image_size": 32, "batch_size": 1}, dataset, tmp_path / "work", device="cpu")
    assert error.value.code == "invalid_hyperparameters"
    assert "batch_size 1 at image_size 32 leaves 1x1 feature maps" in error.value.message
    check_hyperparameters(key, {"image_size": 48, "batch_size": 1})  # larger maps: allowed
    check_hyperparameters(key, {"image_size": 32, "batch_size": 2})
    check_hyperparameters("clarifai_inception_transfer_embed_norm", {"image_size": 32, "batch_size": 1})  # mirrored pair
