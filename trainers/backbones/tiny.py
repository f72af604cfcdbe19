"""`tiny_test`: a few-channel 4-stage backbone for fast tests of every trainer."""
from __future__ import annotations

from torch import nn

from .factories import STRIDES, register_backbone


def _conv_bn_relu(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class TinyBackbone(nn.Module):
    def __init__(self, widths: tuple[int, int, int, int] = (8, 16, 24, 32)):
        super().__init__()
        self.stem = _conv_bn_relu(3, widths[0], 2)  # /2
        self.stage1 = _conv_bn_relu(widths[0], widths[0], 2)  # /4
        self.stage2 = _conv_bn_relu(widths[0], widths[1], 2)  # /8
        self.stage3 = _conv_bn_relu(widths[1], widths[2], 2)  # /16
        self.stage4 = _conv_bn_relu(widths[2], widths[3], 2)  # /32
        self.out_channels = {"res2": widths[0], "res3": widths[1], "res4": widths[2], "res5": widths[3]}
        self.strides = dict(STRIDES)

    def forward(self, x):
        res2 = self.stage1(self.stem(x))
        res3 = self.stage2(res2)
        res4 = self.stage3(res3)
        res5 = self.stage4(res4)
        return {"res2": res2, "res3": res3, "res4": res4, "res5": res5}


@register_backbone("tiny_test")
def tiny_test(**kwargs) -> nn.Module:
    return TinyBackbone(**kwargs)
