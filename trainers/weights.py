"""Load pretrained weights leniently: keep what matches in name and shape, report the rest.

Accepts a full-model state dict (keys like "backbone.layer1.0.conv1.weight"), a bare
torchvision backbone state dict ("layer1.0.conv1.weight", matched through `prefixes`),
and checkpoints wrapping one under "state_dict" or "model"; a DDP "module." prefix is dropped.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

from trainers.core import TrainerError


@dataclass
class LoadReport:
    loaded: list[str] = field(default_factory=list)  # module keys filled from the file
    missing: list[str] = field(default_factory=list)  # module keys the file did not provide
    unexpected: list[str] = field(default_factory=list)  # file keys with no place in the module
    mismatched_shapes: list[str] = field(default_factory=list)  # "key: file shape -> module shape"

    def to_dict(self) -> dict[str, list[str]]:
        return asdict(self)

    def summary(self) -> str:
        return (f"loaded {len(self.loaded)} tensors; missing {len(self.missing)}, unexpected "
                f"{len(self.unexpected)}, shape-mismatched {len(self.mismatched_shapes)}"
                + (f" ({', '.join(self.mismatched_shapes[:5])})" if self.mismatched_shapes else ""))


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    state = torch.load(path, map_location="cpu", weights_only=True)
    for wrapper in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(wrapper), dict):
            state = state[wrapper]
    if not isinstance(state, dict):
        raise ValueError(f"{path} does not hold a state dict")
    return {k.removeprefix("module."): v for k, v in state.items() if isinstance(v, torch.Tensor)}


def load_pretrained(module: nn.Module, path: str | Path, prefixes: tuple[str, ...] = ("", "backbone.")) -> LoadReport:
    """Copy every tensor of the file whose name (tried with each prefix, in order) and shape
    match the module; leave the rest of the module as initialised. A file of which nothing
    fits is an error: training would silently start from random weights."""
    target = module.state_dict()
    report, selected = LoadReport(), {}
    for key, tensor in read_state_dict(path).items():
        # mmpretrain / detectron-style files put the backbone under "backbone."
        candidates = (key, key.removeprefix("backbone.")) if key.startswith("backbone.") else (key,)
        name = next((p + k for k in candidates for p in prefixes if p + k in target), None)
        if name is None:
            report.unexpected.append(key)
        elif target[name].shape != tensor.shape:
            report.mismatched_shapes.append(f"{name}: {tuple(tensor.shape)} -> {tuple(target[name].shape)}")
        elif name not in selected:
            selected[name] = tensor
    report.loaded = sorted(selected)
    report.missing = sorted(k for k in target if k not in selected)
    if not selected:
        raise TrainerError("pretrained_weights_unusable",
                           f"no tensor of the registered weights file fits this model ({report.summary()}; "
                           f"first keys in the file: {', '.join(report.unexpected[:3])}); register the "
                           "weights of the architecture the template uses")
    module.load_state_dict(selected, strict=False)
    return report
