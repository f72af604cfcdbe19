"""Square resize with optional flip + scale jitter + crop/pad, applied to an image and its masks.

Every image becomes resolution x resolution (aspect ratio is not kept; the predictor
does the same and maps masks back to the original size). With augmentation strength
s > 0: horizontal flip with probability 0.5, rescale by a factor in [1 - 0.5 s, 1 + s],
then a random crop (when larger) or a random placement on a padded canvas (when
smaller). Randomness comes from torch's generator (seeded by the engine per epoch).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

SHRINK_PER_STRENGTH = 0.5
GROW_PER_STRENGTH = 1.0


def image_to_tensor(image: Image.Image) -> torch.Tensor:
    """PIL image -> (3, H, W) float32 in [0, 1]."""
    array = np.asarray(image.convert("RGB"), dtype=np.uint8)
    return torch.from_numpy(array.copy()).permute(2, 0, 1).float().div_(255.0)


def resize_image(image: torch.Tensor, size: int) -> torch.Tensor:
    return F.interpolate(image[None], size=(size, size), mode="bilinear", align_corners=False,
                         antialias=True)[0].clamp_(0.0, 1.0)


def resize_labels(labels: torch.Tensor, size: int) -> torch.Tensor:
    """(N, H, W) integer maps (instance masks or a class map), nearest neighbour."""
    if labels.shape[0] == 0:  # an image with no objects (background, crowd only): interpolate refuses it
        return labels.new_zeros((0, size, size))
    if labels.dtype == torch.uint8:  # no float copy: many full-size instance masks add up
        return F.interpolate(labels[None], size=(size, size), mode="nearest-exact")[0]
    resized = F.interpolate(labels[None].float(), size=(size, size), mode="nearest-exact")[0]
    return resized.to(labels.dtype)


@dataclass(frozen=True)
class SquareTransform:
    resolution: int
    strength: float = 0.0  # 0 = plain resize (evaluation, inference)

    def __call__(self, image: torch.Tensor, labels: torch.Tensor, pad_label: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(3, H, W) image and (N, H, W) label maps -> both at resolution x resolution."""
        if self.strength <= 0:
            return resize_image(image, self.resolution), resize_labels(labels, self.resolution)
        if torch.rand(()) < 0.5:
            image, labels = image.flip(-1), labels.flip(-1)
        low = 1.0 - SHRINK_PER_STRENGTH * self.strength
        high = 1.0 + GROW_PER_STRENGTH * self.strength
        scale = low + (high - low) * float(torch.rand(()))
        size = max(8, round(self.resolution * scale))
        image, labels = resize_image(image, size), resize_labels(labels, size)
        return self._crop_or_pad(image, labels, size, pad_label)

    def _crop_or_pad(self, image, labels, size, pad_label):
        r = self.resolution
        if size >= r:
            top = int(torch.randint(0, size - r + 1, ()))
            left = int(torch.randint(0, size - r + 1, ()))
            return image[:, top:top + r, left:left + r], labels[:, top:top + r, left:left + r]
        top = int(torch.randint(0, r - size + 1, ()))
        left = int(torch.randint(0, r - size + 1, ()))
        canvas = image.new_zeros((3, r, r))
        canvas[:, top:top + size, left:left + size] = image
        label_canvas = labels.new_full((labels.shape[0], r, r), pad_label)
        label_canvas[:, top:top + size, left:left + size] = labels
        return canvas, label_canvas
