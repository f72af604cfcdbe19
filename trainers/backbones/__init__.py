"""Backbone registry. Importing this package registers the built-in backbones.

    from trainers.backbones import build_backbone
    bb = build_backbone("resnet50")   # forward(x) -> {"res2".."res5"}; bb.out_channels, bb.strides

Other modules add theirs with `@register_backbone("name")` (they must be imported before
`build_backbone("name")` is called; a trainer package imports its own backbone module).
"""
from .factories import BACKBONE_FACTORIES, LEVELS, STRIDES, build_backbone, register_backbone
from . import stdc, tiny, torchvision_mobile, torchvision_resnet  # noqa: F401  (registration)

__all__ = ["BACKBONE_FACTORIES", "LEVELS", "STRIDES", "build_backbone", "register_backbone"]
