"""A family's graph as an ONNX file: opset 18, a dynamic batch axis, weights inside the file.

The graph is traced (torch.onnx's TorchScript exporter): about 1-2 s for BN-Inception or
Mask2Former on 2 cores, where torch.export (the dynamo exporter) took 13-20 s, which every
deploy in ONNX Runtime waits for. Tracing records the operations one example ran: a Python
branch or number taken from the input's values would be frozen (tensor ops such as
torch.where stay in the graph; Mask2Former's traced graph matches PyTorch within 1e-6 at
batches 1, 4 and 7). package.check_onnx runs every file against the graph at another batch
size and refuses a mismatch, so a wrong trace cannot ship. The tracer is deprecated upstream
(torch pins it here); should it go, torch.onnx.export(..., dynamo=True,
dynamic_shapes=({0: torch.export.Dim("batch")},)) writes the same file, slowly.
"""
from __future__ import annotations

import contextlib
import io
import logging
import warnings
from pathlib import Path

import torch

from torch import nn

OPSET = 18  # >= 17
INPUT_NAME = "images"
EXAMPLE_BATCH = 2  # a batch of 1 could let the exporter specialise the batch axis
EXPORTER = "torch.onnx TorchScript trace"


def export_onnx(graph: nn.Module, input_size: tuple[int, int], output_names: tuple[str, ...], path: Path) -> Path:
    """Writes `graph` (images (B, 3, H, W) in, a tuple named `output_names` out) to `path`."""
    height, width = input_size
    example = torch.rand(EXAMPLE_BATCH, 3, height, width, generator=torch.Generator().manual_seed(0))
    batch_axis = {0: "batch"}
    with _quiet():
        torch.onnx.export(
            graph, (example,), str(path), dynamo=False, opset_version=OPSET, do_constant_folding=True,
            input_names=[INPUT_NAME], output_names=list(output_names),
            dynamic_axes={INPUT_NAME: batch_axis, **{name: batch_axis for name in output_names}},
        )
    return path


@contextlib.contextmanager
def _quiet():
    """The exporter warns that it is deprecated and at each shape check inside torch's own
    attention code, and its logger narrates."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
