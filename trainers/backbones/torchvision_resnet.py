"""torchvision ResNet / ResNeXt as 4-level backbones (weights=None: never downloads).

Module names are torchvision's own (conv1, bn1, layer1..layer4), so a torchvision state
dict for the same architecture loads directly: `backbone.load_state_dict(sd, strict=False)`
reports only `fc.*` as unexpected. Inside a model the keys gain the attribute prefix
(e.g. "backbone."); `trainers.weights.load_pretrained` handles that prefix.
"""
from __future__ import annotations

import torchvision
from torch import nn

from .factories import STRIDES, register_backbone


class TorchvisionResNet(nn.Module):
    def __init__(self, resnet: torchvision.models.ResNet):
        super().__init__()
        self.conv1, self.bn1, self.relu, self.maxpool = resnet.conv1, resnet.bn1, resnet.relu, resnet.maxpool
        self.layer1, self.layer2, self.layer3, self.layer4 = resnet.layer1, resnet.layer2, resnet.layer3, resnet.layer4
        self.out_channels = {
            f"res{i + 2}": _block_out_channels(layer[-1])
            for i, layer in enumerate((self.layer1, self.layer2, self.layer3, self.layer4))
        }
        self.strides = dict(STRIDES)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        res2 = self.layer1(x)
        res3 = self.layer2(res2)
        res4 = self.layer3(res3)
        res5 = self.layer4(res4)
        return {"res2": res2, "res3": res3, "res4": res4, "res5": res5}


def _block_out_channels(block: nn.Module) -> int:
    last_bn = block.bn3 if hasattr(block, "bn3") else block.bn2
    return last_bn.num_features


def _register(name: str):
    @register_backbone(name)
    def factory(**kwargs) -> nn.Module:
        return TorchvisionResNet(getattr(torchvision.models, name)(weights=None, **kwargs))

    factory.__name__ = name
    return factory


for _name in ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
              "resnext50_32x4d", "resnext101_32x8d"):
    _register(_name)
