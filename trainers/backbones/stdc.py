"""STDC backbones (Fan et al., "Rethinking BiSeNet for Real-time Semantic Segmentation", CVPR 2021).

`stdc1` is STDCNet813 (STDC-Small), `stdc2` is STDCNet1446 (STDC-Large, STDC-2).
A Short-Term Dense Concatenate module runs a chain of convolutions whose widths halve
(out/2, out/4, out/8, out/8 for four blocks) and concatenates every block's output, so the
module sees several receptive fields at a small cost. Module names follow the authors'
code (`features.N.conv_list.M.conv/bn`, `avd_layer`, `skip`), so their ImageNet state dict
loads with only its classifier (`conv_last`, `fc`, `bn`, `linear`) reported as skipped.
"""
from __future__ import annotations

import torch
from torch import nn

from .factories import LEVELS, STRIDES, register_backbone

BASE_WIDTH = 64
BLOCKS_PER_MODULE = 4


class ConvX(nn.Module):
    """Conv -> BatchNorm -> ReLU."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int = 3, stride: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel, stride, kernel // 2, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


def block_widths(out_channels: int, blocks: int) -> list[int]:
    """out/2, out/4, ... halving, the last block as wide as the one before: they sum to `out`."""
    widths = [out_channels // 2 ** (i + 1) for i in range(blocks - 1)]
    return widths + [widths[-1]]


class CatBottleneck(nn.Module):
    """One STDC module. With stride 2 the first block's output is downsampled twice: by a
    depthwise 3x3 conv on the path into block 2, and by average pooling for its own slot."""

    def __init__(self, in_channels: int, out_channels: int, blocks: int = BLOCKS_PER_MODULE, stride: int = 1):
        super().__init__()
        if blocks < 2:
            raise ValueError("an STDC module needs at least 2 blocks")
        widths = block_widths(out_channels, blocks)
        self.stride = stride
        if stride == 2:
            half = widths[0]
            self.avd_layer = nn.Sequential(
                nn.Conv2d(half, half, 3, 2, 1, groups=half, bias=False), nn.BatchNorm2d(half)
            )
            self.skip = nn.AvgPool2d(3, 2, 1)
        self.conv_list = nn.ModuleList([ConvX(in_channels, widths[0], kernel=1)])
        for previous, width in zip(widths, widths[1:]):
            self.conv_list.append(ConvX(previous, width))

    def forward(self, x):
        first = self.conv_list[0](x)
        out = self.avd_layer(first) if self.stride == 2 else first
        outputs = []
        for conv in self.conv_list[1:]:
            out = conv(out)
            outputs.append(out)
        if self.stride == 2:
            first = self.skip(first)
        return torch.cat([first, *outputs], dim=1)


class STDCNet(nn.Module):
    """forward(x) -> res2..res5 at strides 4, 8, 16, 32 with 64, 256, 512, 1024 channels."""

    def __init__(self, modules_per_stage: tuple[int, int, int], base: int = BASE_WIDTH,
                 blocks: int = BLOCKS_PER_MODULE):
        super().__init__()
        features: list[nn.Module] = [ConvX(3, base // 2, 3, 2), ConvX(base // 2, base, 3, 2)]
        taps = [1]  # index in `features` of the last layer at each level; stride 4 after the stem
        in_channels = base
        for stage, count in enumerate(modules_per_stage):
            out_channels = base * 4 * 2**stage
            for i in range(count):
                features.append(CatBottleneck(in_channels, out_channels, blocks, stride=2 if i == 0 else 1))
                in_channels = out_channels
            taps.append(len(features) - 1)
        self.features = nn.Sequential(*features)
        self._level_at = dict(zip(taps, LEVELS))
        self.out_channels = dict(zip(LEVELS, (base, base * 4, base * 8, base * 16)))
        self.strides = dict(STRIDES)

    def forward(self, x):
        out = {}
        for index, layer in enumerate(self.features):
            x = layer(x)
            if index in self._level_at:
                out[self._level_at[index]] = x
        return out


@register_backbone("stdc1")
def stdc1(**kwargs) -> nn.Module:
    """STDCNet813 (STDC-Small): 2, 2, 2 modules in stages 3-5."""
    return STDCNet((2, 2, 2), **kwargs)


@register_backbone("stdc2")
def stdc2(**kwargs) -> nn.Module:
    """STDCNet1446 (STDC-Large / STDC-2): 4, 5, 3 modules in stages 3-5."""
    return STDCNet((4, 5, 3), **kwargs)
