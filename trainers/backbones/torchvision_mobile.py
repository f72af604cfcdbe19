"""torchvision EfficientNet-B0 and MobileNetV3-Large as 4-level backbones.

The torchvision `features` Sequential is kept under the same name, so the torchvision
state dict's `features.*` keys load unchanged (`classifier.*` is reported unexpected).
Taps are the last block of each stride (measured on a 224 input).
"""
from __future__ import annotations

import torchvision
from torch import nn

from .factories import LEVELS, STRIDES, register_backbone

# level -> index in `features` whose output is that level
TAPS = {
    "efficientnet_b0": (2, 3, 5, 8),
    "mobilenet_v3_large": (3, 6, 12, 16),
}
CHANNELS = {
    "efficientnet_b0": (24, 40, 112, 1280),
    "mobilenet_v3_large": (24, 40, 112, 960),
}


class TorchvisionFeatures(nn.Module):
    def __init__(self, features: nn.Sequential, taps: tuple[int, ...], channels: tuple[int, ...]):
        super().__init__()
        self.features = features[: taps[-1] + 1]
        self._level_at = {index: level for index, level in zip(taps, LEVELS)}
        self.out_channels = dict(zip(LEVELS, channels))
        self.strides = dict(STRIDES)

    def forward(self, x):
        out = {}
        for index, block in enumerate(self.features):
            x = block(x)
            if index in self._level_at:
                out[self._level_at[index]] = x
        return out


def _register(name: str):
    @register_backbone(name)
    def factory(**kwargs) -> nn.Module:
        model = getattr(torchvision.models, name)(weights=None, **kwargs)
        return TorchvisionFeatures(model.features, TAPS[name], CHANNELS[name])

    factory.__name__ = name
    return factory


for _name in TAPS:
    _register(_name)
