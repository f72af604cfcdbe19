"""Adapter from `trainers.backbones` to the four feature maps the pixel decoder reads.

The backbone stays a direct child of the model (`model.backbone.<torchvision names>`), so
`trainers.weights.load_pretrained(model, path)` finds bare torchvision state dicts.
"""
from __future__ import annotations

from torch import nn

from trainers.backbones import build_backbone  # the shared registry of backbones

from .pixel_decoder import FEATURE_NAMES

EXPECTED_STRIDES = {"res2": 4, "res3": 8, "res4": 16, "res5": 32}


def checked_backbone(backbone: nn.Module) -> nn.Module:
    """The backbone itself, after checking it declares res2..res5 at strides 4..32."""
    strides = {name: int(backbone.strides[name]) for name in FEATURE_NAMES}
    if strides != EXPECTED_STRIDES:
        raise ValueError(f"backbone strides {strides} differ from {EXPECTED_STRIDES}")
    return backbone


def backbone_channels(backbone: nn.Module) -> dict[str, int]:
    return {name: int(backbone.out_channels[name]) for name in FEATURE_NAMES}


def build_feature_backbone(name: str) -> nn.Module:
    return checked_backbone(build_backbone(name))
