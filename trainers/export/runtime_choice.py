"""Which runtime serves a model fastest on this machine, for deployments that name none.

Measured with bench/bench_onnx_vs_torch.py (fai-cls, ResNet-18 and ResNet-50, 224 px):
- an AMD EPYC with native bf16, idle: torch in bf16 served 0.84-1.0x ONNX Runtime's fp32
  speed at batch 1 and 1.4-1.6x at batch 8; its bf16 ran 1.4-1.7x its fp32;
- an Intel Xeon with AMX, loaded: the predictor's probe kept torch in fp32 (bf16 was not
  faster there), and ONNX Runtime was 2.5-9.9x torch;
- ONNX Runtime's fp32 against torch's fp32: 1.07-1.5x on the EPYC.
So torch wins where its bf16 is well ahead of its fp32, and ONNX Runtime everywhere else.
On a CUDA GPU (not measured here): ONNX Runtime where its CUDA build is installed, else torch.
"""
from __future__ import annotations

import onnxruntime as ort
import torch

from trainers.engine import precision as hardware

# torch bf16 / fp32 speed past which torch's bf16 beats ONNX Runtime's fp32 (1.07-1.5x torch
# fp32): between the EPYC's 1.4-1.7 and the 1.1 under which the probe keeps fp32.
TORCH_BF16_BEATS_ONNX = 1.25


def fastest_runtime(precision: str = "auto") -> str:
    """"torch" or "onnxruntime" for a model predicting in `precision` (PREDICT_PRECISION)."""
    if torch.cuda.is_available():
        return "onnxruntime" if "CUDAExecutionProvider" in ort.get_available_providers() else "torch"
    if precision in ("auto", "bf16") and hardware.cpu_has_native_bf16() and \
            hardware.cpu_bf16_speedup() >= TORCH_BF16_BEATS_ONNX:
        return "torch"
    return "onnxruntime"
