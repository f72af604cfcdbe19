"""Backbones by name (timm `register_model` / detectron2 registry style).

Every backbone is an nn.Module whose forward(x) returns {"res2", "res3", "res4", "res5"}
feature maps at strides 4/8/16/32, with `out_channels` and `strides` dicts.
"""
from __future__ import annotations

from typing import Callable

from torch import nn

LEVELS = ("res2", "res3", "res4", "res5")
STRIDES = {"res2": 4, "res3": 8, "res4": 16, "res5": 32}

BACKBONE_FACTORIES: dict[str, Callable[..., nn.Module]] = {}


def register_backbone(name: str):
    """Decorator: `@register_backbone("resnet50") def resnet50(**kw) -> nn.Module`."""

    def decorator(factory: Callable[..., nn.Module]):
        if name in BACKBONE_FACTORIES and BACKBONE_FACTORIES[name] is not factory:
            raise ValueError(f"backbone {name!r} is already registered")
        BACKBONE_FACTORIES[name] = factory
        return factory

    return decorator


def build_backbone(name: str, **kwargs) -> nn.Module:
    try:
        factory = BACKBONE_FACTORIES[name]
    except KeyError:
        raise KeyError(f"unknown backbone {name!r}; registered: {sorted(BACKBONE_FACTORIES)}") from None
    return factory(**kwargs)
