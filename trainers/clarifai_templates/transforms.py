"""Image preprocessing of the templates (PIL image in, normalised CHW float tensor out).

Inception family (`image_size` = the minimum side): resize keeping the aspect ratio so
the short side equals image_size, then crop a square of image_size so images batch
together - a random crop in training, the centre crop at evaluation and inference.

ResNet RSB A1 (`image_size` = a square side): training takes a random resized crop
(scale 0.08-1, as RSB A1) resized to image_size x image_size; evaluation resizes the
short side to image_size * 236/224 and takes the centre square (mmpretrain's RSB test
pipeline).
"""
from __future__ import annotations

import torch
from PIL import Image
from torchvision.transforms import v2 as T
from torchvision.transforms.v2 import functional as TF

from trainers.data.classification import IMAGENET_MEAN, IMAGENET_STD, normalised_tensor

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "RandomFlip", "min_side_transform", "square_transform"]



class RandomFlip(torch.nn.Module):
    """Flips with `probability` along `direction` ("horizontal" mirrors left-right)."""

    def __init__(self, probability: float, direction: str):
        super().__init__()
        if direction not in ("horizontal", "vertical"):
            raise ValueError(f"flip direction must be horizontal|vertical, got {direction!r}")
        self.probability = probability
        self.flip = TF.horizontal_flip if direction == "horizontal" else TF.vertical_flip

    def forward(self, image):
        if self.probability > 0 and torch.rand(()).item() < self.probability:
            return self.flip(image)
        return image


def _to_tensor() -> list:
    # NumPy on one core rather than torch's threaded ops (trainers/data/classification.py says why).
    return [normalised_tensor]


def _rgb(image: Image.Image) -> Image.Image:
    return image if image.mode == "RGB" else image.convert("RGB")


def min_side_transform(image_size: int, train: bool, flip_probability: float = 0.5,
                       flip_direction: str = "horizontal") -> T.Compose:
    crop = T.RandomCrop(image_size) if train else T.CenterCrop(image_size)
    steps = [T.Lambda(_rgb), T.Resize(image_size, antialias=True), crop]
    if train:
        steps.append(RandomFlip(flip_probability, flip_direction))
    return T.Compose(steps + _to_tensor())


def square_transform(image_size: int, train: bool, flip_probability: float = 0.5,
                     flip_direction: str = "horizontal") -> T.Compose:
    if train:
        steps = [T.Lambda(_rgb), T.RandomResizedCrop(image_size, scale=(0.08, 1.0), antialias=True),
                 RandomFlip(flip_probability, flip_direction)]
    else:
        steps = [T.Lambda(_rgb), T.Resize(round(image_size * 236 / 224), antialias=True),
                 T.CenterCrop(image_size)]
    return T.Compose(steps + _to_tensor())
