"""The one decision of numeric precision, for training, evaluation and predict.

`auto` decides from the hardware, never by habit:
- CUDA: bf16 where the GPU supports it, else fp16 (with a grad scaler in training).
- CPU: bf16 only where oneDNN reports native bf16 (AVX512-BF16 / AMX) *and* a short
  measurement in this process shows it faster than fp32. Without native bf16, autocast
  emulates it and a training step is 5x (ResNet-18, 32 px) to 13x (ResNet-50, 224 px)
  slower than fp32; with it, bf16 + channels_last measured up to 2x faster.
- anything else (mps, ...): fp32.

A caller may also ask for fp32, bf16 or fp16 outright (a worker's TRAINING_PRECISION, a
job's request); that is obeyed on any device.
"""
from __future__ import annotations

import contextlib
import functools
import logging
import time
from dataclasses import dataclass

import torch
from torch import nn

from trainers.core import REQUESTABLE_PRECISIONS

log = logging.getLogger("trainers.precision")

REQUESTABLE = REQUESTABLE_PRECISIONS
_DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
# bf16 must beat fp32 by this much in the measurement to be chosen: a tie is fp32's.
BF16_MIN_SPEEDUP = 1.1


@dataclass(frozen=True)
class Precision:
    name: str  # fp32 | bf16 | fp16
    device_type: str
    reason: str

    @property
    def dtype(self) -> torch.dtype | None:
        """The autocast dtype; None means full fp32."""
        return _DTYPES[self.name]

    @property
    def needs_grad_scaler(self) -> bool:
        """Loss scaling is needed for fp16 only (bf16 has fp32's exponent range)."""
        return self.name == "fp16"

    def autocast(self):
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device_type, dtype=self.dtype)

    def describe(self) -> dict[str, str]:
        """What artifacts and jobs record of the choice."""
        return {"precision": self.name, "device": self.device_type, "reason": self.reason}


def resolve_device(device: str | torch.device | None) -> torch.device:
    """The device asked for, else CUDA where there is one, else the CPU."""
    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def choose_precision(requested: str | Precision, device: torch.device | str) -> Precision:
    """The precision to compute in on `device`; a Precision already chosen is kept."""
    device = torch.device(device)
    if isinstance(requested, Precision):
        return requested
    if requested not in REQUESTABLE:
        raise ValueError(f"precision must be one of {', '.join(REQUESTABLE)}, got {requested!r}")
    if requested != "auto":
        return Precision(requested, device.type, "requested")
    if device.type == "cuda":
        if torch.cuda.is_bf16_supported():
            return Precision("bf16", "cuda", "auto: the GPU supports bf16")
        return Precision("fp16", "cuda", "auto: the GPU has no bf16; fp16 with loss scaling")
    if device.type == "cpu":
        if not cpu_has_native_bf16():
            return Precision("fp32", "cpu", "auto: the CPU has no native bf16 (it would be emulated, several times slower)")
        speedup = cpu_bf16_speedup()
        if speedup >= BF16_MIN_SPEEDUP:
            return Precision("bf16", "cpu", f"auto: native bf16, measured {speedup:.2f}x as fast as fp32")
        return Precision("fp32", "cpu", f"auto: native bf16, but measured only {speedup:.2f}x as fast as fp32")
    return Precision("fp32", device.type, f"auto: fp32 on {device.type}")


def cpu_has_native_bf16() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def cpu_bf16_speedup() -> float:
    """fp32 time / bf16 time of a ResNet-like training step, measured once per process
    (under a second). Only meaningful where bf16 is native."""
    return _measured_cpu_bf16_speedup()


@functools.cache
def _measured_cpu_bf16_speedup() -> float:
    fp32, bf16 = _time_conv_step(None), _time_conv_step(torch.bfloat16)
    speedup = fp32 / bf16
    log.info("CPU bf16 measurement: fp32 %.1f ms, bf16 %.1f ms per step (%.2fx)", fp32 * 1e3, bf16 * 1e3, speedup)
    return speedup


def _time_conv_step(dtype: torch.dtype | None, repeats: int = 3) -> float:
    """The best of `repeats` forward+backward passes of two 3x3 conv blocks at 64 channels,
    56x56, batch 8, channels_last: the shape of the work ResNets spend their time on."""
    generator = torch.Generator().manual_seed(0)
    block = nn.Sequential(nn.Conv2d(64, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                          nn.Conv2d(64, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU())
    block = block.to(memory_format=torch.channels_last)
    images = torch.randn(8, 64, 56, 56, generator=generator).contiguous(memory_format=torch.channels_last)
    best = float("inf")
    for attempt in range(repeats + 1):  # the first pass warms oneDNN's kernel cache
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            loss = block(images).float().square().mean()
        loss.backward()
        if attempt:
            best = min(best, time.perf_counter() - start)
    return best
