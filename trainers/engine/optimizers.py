"""The optimizers recipes build, with torch's fused kernels (CPU and CUDA).

torch's default on CPU is a Python loop over the parameter tensors. For a ResNet-18 the
fused step measured 12 ms against 40-56 ms (AdamW) and 7.7 ms against 18.6 ms (SGD with
momentum) on a 2-core Xeon, about a sixth of a 32 px training step saved.
"""
from __future__ import annotations

import torch


def sgd(params, **options) -> torch.optim.SGD:
    return torch.optim.SGD(params, fused=True, **options)


def adam(params, **options) -> torch.optim.Adam:
    return torch.optim.Adam(params, fused=True, **options)


def adamw(params, **options) -> torch.optim.AdamW:
    return torch.optim.AdamW(params, fused=True, **options)
