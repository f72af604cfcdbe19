"""The classifier the five templates share: feature extractor -> pooled embedding -> head."""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from trainers.backbones import build_backbone

from .bn_inception import BNInception
from .heads import EmbedNormHead, LinearHead

BN_INCEPTION = "bn_inception"


class LastFeatureMap(nn.Module):
    """Wraps a `trainers.backbones` module ({"res2".."res5"}) to return only its last map."""

    def __init__(self, backbone: nn.Module, key: str = "res5"):
        super().__init__()
        self.body = backbone
        self.key = key
        channels: Any = backbone.out_channels
        self.out_channels = int(channels[key] if isinstance(channels, dict) else channels[-1])

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x)[self.key]


def build_feature_extractor(architecture: str) -> nn.Module:
    """`bn_inception` (ours) or any name of the shared backbone registry (e.g. resnet50)."""
    if architecture == BN_INCEPTION:
        return BNInception()
    return LastFeatureMap(build_backbone(architecture))


class ClarifaiClassifier(nn.Module):
    """`forward` returns logits; `embedding` is the globally average-pooled feature vector.

    With `average_horizontal_flips` the embedding is the mean of the image's and its
    mirror image's embeddings (in training and at inference alike), so the output is
    invariant to a horizontal flip of the input.
    """

    def __init__(self, features: nn.Module, num_classes: int, head: str = "linear",
                 average_horizontal_flips: bool = False):
        super().__init__()
        self.features = features
        self.pool = nn.AdaptiveAvgPool2d(1)
        head_cls = {"linear": LinearHead, "embed_norm": EmbedNormHead}[head]
        self.head = head_cls(features.out_channels, num_classes)
        self.average_horizontal_flips = average_horizontal_flips

    def _embed(self, images: Tensor) -> Tensor:
        return self.pool(self.features(images)).flatten(1)

    def embedding(self, images: Tensor) -> Tensor:
        if not self.average_horizontal_flips:
            return self._embed(images)
        both = self._embed(torch.cat([images, images.flip(-1)], dim=0))
        count = images.shape[0]  # slices, not chunk(2): torch.export keeps the batch axis dynamic
        return (both[:count] + both[count:]) / 2

    def forward(self, images: Tensor) -> Tensor:
        """Logits. The features run in the caller's autocast precision, the head in fp32
        (training, evaluation and predict alike)."""
        embedding = self.embedding(images)
        with torch.autocast(images.device.type, enabled=False):
            return self.head(embedding.float())

    def backbone_parameters(self):
        return self.features.parameters()

    def head_parameters(self):
        return self.head.parameters()
