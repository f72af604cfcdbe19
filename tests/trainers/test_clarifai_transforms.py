"""image_size (min side vs square), flip_direction and flip_probability act on real images."""
import numpy as np
import pytest
import torch
from PIL import Image

from trainers.families import build_trainer
from trainers.clarifai_templates.transforms import IMAGENET_MEAN, IMAGENET_STD, RandomFlip, min_side_transform

from clarifai_toys import make_dataset, one_torch_thread  # noqa: F401  (autouse)

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def thirds(width: int = 96, height: int = 32) -> Image.Image:
    """Red | green | blue vertical bands."""
    image = np.zeros((height, width, 3), np.uint8)
    for i, colour in enumerate((RED, GREEN, BLUE)):
        image[:, i * width // 3:(i + 1) * width // 3] = colour
    return Image.fromarray(image)


def gradients(size: int = 64) -> Image.Image:
    """Red grows downward, green grows rightward."""
    ramp = np.linspace(0, 255, size).astype(np.uint8)
    image = np.zeros((size, size, 3), np.uint8)
    image[..., 0] = ramp[:, None]
    image[..., 1] = ramp[None, :]
    return Image.fromarray(image)


def unnormalise(tensor: torch.Tensor) -> torch.Tensor:
    return tensor * torch.tensor(IMAGENET_STD).view(3, 1, 1) + torch.tensor(IMAGENET_MEAN).view(3, 1, 1)


def _recipe(tmp_path, key, **hyperparameters):
    return build_trainer(key, hyperparameters, make_dataset(tmp_path / "data"), tmp_path / "work",
                 device="cpu").recipe


def test_min_side_resize_keeps_the_aspect_ratio_and_crops_the_centre():
    # 96x32 -> short side 32 keeps 96x32; the centre 32x32 square is the green band only.
    tensor = unnormalise(min_side_transform(32, train=False)(thirds()))
    assert tensor.shape == (3, 32, 32)
    assert torch.allclose(tensor.mean(dim=(1, 2)), torch.tensor([0.0, 1.0, 0.0]), atol=0.02)


def test_min_side_resize_scales_the_short_side_to_image_size():
    # 96x32 at image_size 64 -> 192x64; the centre 64x64 square is still exactly the green band.
    tensor = unnormalise(min_side_transform(64, train=False)(thirds()))
    assert tensor.shape == (3, 64, 64)
    assert torch.allclose(tensor.mean(dim=(1, 2)), torch.tensor([0.0, 1.0, 0.0]), atol=0.02)


@pytest.mark.parametrize("key", ["clarifai_inception_batchnorm", "clarifai_inception_v2", "clarifai_resnext",
                                 "clarifai_inception_transfer_embed_norm", "clarifai_resnet50_rsb_a1"])
@pytest.mark.parametrize("image_size", [32, 48])
def test_the_network_is_fed_image_size_squares(tmp_path, key, image_size):
    extra = {"pretrained_weights": "None"} if key == "clarifai_resnet50_rsb_a1" else {}
    recipe = _recipe(tmp_path, key, image_size=image_size, batch_size=2, **extra)
    train_image, _ = recipe.train_dataset()[0]  # the drawn images are 40x32
    assert train_image.shape == (3, image_size, image_size)
    assert recipe.transform(train=False)(thirds()).shape == (3, image_size, image_size)


def test_rsb_a1_eval_resize_uses_the_236_over_224_ratio(tmp_path):
    recipe = _recipe(tmp_path, "clarifai_resnet50_rsb_a1", image_size=224, pretrained_weights="None")
    # A 96x32 thirds image: short side 32 -> 236, width 708; centre 224 of 708 is inside the green band
    # (236..472), so the output is pure green.
    tensor = unnormalise(recipe.transform(train=False)(thirds()))
    assert tensor.shape == (3, 224, 224)
    assert torch.allclose(tensor.mean(dim=(1, 2)), torch.tensor([0.0, 1.0, 0.0]), atol=0.02)


def _directions(tensor: torch.Tensor) -> tuple[bool, bool]:
    """(red grows downward, green grows rightward)."""
    image = unnormalise(tensor)
    return bool(image[0, -1].mean() > image[0, 0].mean()), bool(image[1][:, -1].mean() > image[1][:, 0].mean())


@pytest.mark.parametrize("direction, expected", [("horizontal", (True, False)), ("vertical", (False, True))])
def test_rsb_a1_flip_direction_mirrors_along_the_chosen_axis(tmp_path, direction, expected):
    recipe = _recipe(tmp_path, "clarifai_resnet50_rsb_a1", image_size=32, pretrained_weights="None",
                     flip_probability=1.0, flip_direction=direction)
    transform = recipe.transform(train=True)
    torch.manual_seed(0)
    for _ in range(5):  # the random resized crop never changes which way the gradients run
        assert _directions(transform(gradients())) == expected


def test_rsb_a1_flip_probability_zero_never_flips(tmp_path):
    recipe = _recipe(tmp_path, "clarifai_resnet50_rsb_a1", image_size=32, pretrained_weights="None",
                     flip_probability=0.0, flip_direction="vertical")
    transform = recipe.transform(train=True)
    torch.manual_seed(0)
    assert all(_directions(transform(gradients())) == (True, True) for _ in range(5))


@pytest.mark.parametrize("probability", [0.25, 0.75])
def test_flip_probability_is_the_share_of_flipped_images(probability):
    flip = RandomFlip(probability, "vertical")
    image = torch.arange(4.0).view(1, 4, 1)
    torch.manual_seed(0)
    flipped = sum(bool(flip(image)[0, 0, 0] == 3.0) for _ in range(2000))
    assert abs(flipped / 2000 - probability) < 0.04


def test_evaluation_never_flips(tmp_path):
    recipe = _recipe(tmp_path, "clarifai_resnet50_rsb_a1", image_size=32, pretrained_weights="None",
                     flip_probability=1.0, flip_direction="vertical")
    assert _directions(recipe.transform(train=False)(gradients())) == (True, True)
