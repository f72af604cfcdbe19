"""The one decision of numeric precision, for training, evaluation and predict.

`auto` decides from the hardware and the work, never by habit:
- CUDA: bf16 where the GPU supports it, else fp16 (with a grad scaler in training).
- CPU: bf16 only where oneDNN reports native bf16 (AVX512-BF16 / AMX) *and* the work at
  hand, timed in both precisions, runs at least BF16_MIN_SPEEDUP times as fast in bf16.
  Without native bf16, autocast emulates it: a training step is 5x (ResNet-18, 32 px) to
  13x (ResNet-50, 224 px) slower than fp32. With it, the gain depends on the work:
  bf16 + channels_last measured 1.9x for Mask2Former R50 at 512 px but 0.8x (slower) for a
  ResNet-18 at 32 px, whose tiny maps leave mostly casts. So the engine times a step of
  the real model on a real batch, and a predictor its real forward pass.
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
from typing import Callable

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


Workload = Callable[[torch.dtype | None], None]  # runs one representative step in that autocast dtype


def choose_precision(requested: str, device: torch.device | str, workload: Workload | None = None) -> Precision:
    """The precision to compute in on `device`. `workload` is timed to decide on a CPU with
    native bf16; without one a ResNet-like block stands in for the work."""
    device = torch.device(device)
    if requested not in REQUESTABLE:
        raise ValueError(f"precision must be one of {', '.join(REQUESTABLE)}, got {requested!r}")
    if requested != "auto":
        return Precision(requested, device.type, "requested")
    if device.type == "cuda":
        if cuda_has_native_bf16(device):
            return Precision("bf16", "cuda", "auto: the GPU supports bf16")
        return Precision("fp16", "cuda", "auto: the GPU has no bf16; fp16 with loss scaling")
    if device.type == "cpu":
        if not cpu_has_native_bf16():
            return Precision("fp32", "cpu", "auto: the CPU has no native bf16 (it would be emulated, several times slower)")
        speedup = cpu_bf16_speedup(workload)
        if speedup >= BF16_MIN_SPEEDUP:
            return Precision("bf16", "cpu", f"auto: native bf16, measured {speedup:.2f}x as fast as fp32")
        return Precision("fp32", "cpu", f"auto: native bf16, but measured only {speedup:.2f}x as fast as fp32")
    return Precision("fp32", device.type, f"auto: fp32 on {device.type}")


def cuda_has_native_bf16(device: torch.device) -> bool:
    """Ampere (compute capability 8.0) and later; torch.cuda.is_bf16_supported() also says
    yes for older GPUs that only emulate it, and asks about the current device, not this one."""
    return torch.cuda.get_device_capability(device) >= (8, 0)


def cpu_has_native_bf16() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def cpu_bf16_speedup(workload: Workload | None = None) -> float:
    """fp32 time / bf16 time of `workload` (timed now), or of a ResNet-like block (timed
    once per process). Only meaningful where bf16 is native."""
    if workload is None:
        return _block_speedup()
    return measure_speedup(workload)


def measure_speedup(workload: Workload, repeats: int = 3) -> float:
    """fp32 time / bf16 time of `workload`: after a warm-up run of each (oneDNN builds its
    kernels), `repeats` runs of each, alternating, so a busy moment of the machine slows
    both alike; the fastest of each is compared."""
    times: dict[torch.dtype | None, list[float]] = {None: [], torch.bfloat16: []}
    for attempt in range(repeats + 1):
        for dtype in times:
            start = time.perf_counter()
            workload(dtype)
            if attempt:
                times[dtype].append(time.perf_counter() - start)
    fp32, bf16 = min(times[None]), min(times[torch.bfloat16])
    log.info("bf16 on this CPU: fp32 %.1f ms, bf16 %.1f ms a step (%.2fx)", fp32 * 1e3, bf16 * 1e3, fp32 / bf16)
    return fp32 / bf16


@functools.cache
def _block_speedup() -> float:
    return measure_speedup(_conv_block_step(), repeats=3)


def _conv_block_step() -> Workload:
    """Forward+backward of two 3x3 conv blocks at 64 channels, 56x56, batch 8, channels_last:
    the shape of the work ResNets spend most of their time on."""
    generator = torch.Generator().manual_seed(0)
    block = nn.Sequential(nn.Conv2d(64, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                          nn.Conv2d(64, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU())
    block = block.to(memory_format=torch.channels_last)
    images = torch.randn(8, 64, 56, 56, generator=generator).contiguous(memory_format=torch.channels_last)

    def step(dtype: torch.dtype | None) -> None:
        with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            loss = block(images).float().square().mean()
        loss.backward()

    return step


def predictor_precision(requested: str, model: nn.Module, device: torch.device, batch: int, side: int) -> Precision:
    """A predictor's precision: where it must be measured, the timed work is the model's
    forward pass, without gradients, on `batch` random side x side images (channels_last)."""
    generator = torch.Generator().manual_seed(0)
    example = torch.randn(batch, 3, side, side, generator=generator).to(device)
    example = example.contiguous(memory_format=torch.channels_last)

    def forward(dtype: torch.dtype | None) -> None:
        with torch.inference_mode(), torch.autocast(device.type, dtype=dtype or torch.bfloat16,
                                                    enabled=dtype is not None):
            model(example)

    return choose_precision(requested, device, forward)
