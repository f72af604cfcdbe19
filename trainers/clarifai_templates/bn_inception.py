"""BN-Inception (Inception v2), Ioffe & Szegedy 2015, "Batch Normalization: Accelerating
Deep Network Training by Reducing Internal Covariate Shift", Figure 5.

Stem: 7x7/2 conv (64) -> 3x3/2 max pool -> 1x1 (64) + 3x3 (192) conv -> 3x3/2 max pool,
then inception modules 3a, 3b, 3c (stride 2), 4a-4e (4e stride 2), 5a, 5b. Every module
has a 1x1 branch, a 1x1 -> 3x3 branch, a 1x1 -> 3x3 -> 3x3 ("double 3x3") branch and a
pool branch; every convolution is followed by BatchNorm and ReLU.

Widths follow the per-branch columns of Figure 5. The figure's "output" column says 576
for 4c/4d and 1024 for 4e, but its branch widths add up to 608 and 1056 (the same
totals as the widely used Caffe release); the branch widths are what we build.

All pools pad by 1, so a stride-2 stage maps H to ceil(H/2) and the network runs at any
input of 32 px or more (1x1 feature map after 4e at 32 px); the head pools adaptively.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


def conv_bn_relu(in_ch: int, out_ch: int, kernel: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, kernel, stride=stride, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(out_ch),
        nn.ReLU(inplace=True),
    )


@dataclass(frozen=True)
class ModuleSpec:
    """One row of Figure 5: branch widths; `stride` 2 drops the 1x1 branch and passes the pool through."""

    name: str
    n1x1: int
    n3x3_reduce: int
    n3x3: int
    n_double_reduce: int
    n_double: int
    pool: str  # "avg" | "max"
    pool_proj: int  # 0 = pass-through (no projection)
    stride: int = 1


FIGURE_5 = (
    ModuleSpec("3a", 64, 64, 64, 64, 96, "avg", 32),
    ModuleSpec("3b", 64, 64, 96, 64, 96, "avg", 64),
    ModuleSpec("3c", 0, 128, 160, 64, 96, "max", 0, stride=2),
    ModuleSpec("4a", 224, 64, 96, 96, 128, "avg", 128),
    ModuleSpec("4b", 192, 96, 128, 96, 128, "avg", 128),
    ModuleSpec("4c", 160, 128, 160, 128, 160, "avg", 128),
    ModuleSpec("4d", 96, 128, 192, 160, 192, "avg", 128),
    ModuleSpec("4e", 0, 128, 192, 192, 256, "max", 0, stride=2),
    ModuleSpec("5a", 352, 192, 320, 160, 224, "avg", 128),
    ModuleSpec("5b", 352, 192, 320, 192, 224, "max", 128),
)


class InceptionModule(nn.Module):
    def __init__(self, in_ch: int, spec: ModuleSpec):
        super().__init__()
        s = spec.stride
        self.branch1x1 = conv_bn_relu(in_ch, spec.n1x1, 1) if spec.n1x1 else None
        self.branch3x3 = nn.Sequential(
            conv_bn_relu(in_ch, spec.n3x3_reduce, 1),
            conv_bn_relu(spec.n3x3_reduce, spec.n3x3, 3, stride=s),
        )
        self.branch_double3x3 = nn.Sequential(
            conv_bn_relu(in_ch, spec.n_double_reduce, 1),
            conv_bn_relu(spec.n_double_reduce, spec.n_double, 3),
            conv_bn_relu(spec.n_double, spec.n_double, 3, stride=s),
        )
        pool = (
            nn.MaxPool2d(3, stride=s, padding=1)
            if spec.pool == "max"
            else nn.AvgPool2d(3, stride=s, padding=1, count_include_pad=False)
        )
        self.branch_pool = (
            nn.Sequential(pool, conv_bn_relu(in_ch, spec.pool_proj, 1)) if spec.pool_proj else pool
        )
        self.out_channels = spec.n1x1 + spec.n3x3 + spec.n_double + (spec.pool_proj or in_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = [self.branch3x3(x), self.branch_double3x3(x), self.branch_pool(x)]
        if self.branch1x1 is not None:
            branches.insert(0, self.branch1x1(x))
        return torch.cat(branches, dim=1)


class BNInception(nn.Module):
    """Feature extractor: images [B,3,H,W] -> feature map [B, 1024, ~H/32, ~W/32]."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(
            conv_bn_relu(3, 64, 7, stride=2),
            nn.MaxPool2d(3, stride=2, padding=1),
            conv_bn_relu(64, 64, 1),
            conv_bn_relu(64, 192, 3),
            nn.MaxPool2d(3, stride=2, padding=1),
        )
        modules, channels = [], 192
        for spec in FIGURE_5:
            module = InceptionModule(channels, spec)
            modules.append((spec.name, module))
            channels = module.out_channels
        self.inception = nn.ModuleDict(modules)
        self.out_channels = channels
        self._init_weights()

    def _init_weights(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for module in self.inception.values():
            x = module(x)
        return x
