"""A family's graph as an ONNX file: opset 18, a dynamic batch axis, weights inside the file.

Two exporters, chosen by the family (`Exportable.traceable`):
- a graph that runs the same operations whatever its input's values (the classifiers) is
  traced (torch.onnx's TorchScript exporter): about 1 s for BN-Inception on 2 cores,
  where torch.export takes 13-19 s, which every deploy in ONNX Runtime would wait for;
- Mask2Former goes through torch.export (the dynamo exporter): the tracer bakes its
  data-dependent attention masks into constants and gives wrong outputs.
Either way package.check_onnx runs the file against the graph at another batch size and
refuses a mismatch, so a wrong trace cannot ship.
"""
from __future__ import annotations

import contextlib
import io
import logging
import warnings
from pathlib import Path

import torch

from torch import nn

OPSET = 18  # >= 17; the lowest the dynamo exporter writes without a version conversion
INPUT_NAME = "images"
EXAMPLE_BATCH = 2  # a batch of 1 could let the exporter specialise the batch axis


def exporter_name(traceable: bool) -> str:
    return "torch.onnx TorchScript trace" if traceable else "torch.onnx dynamo (torch.export)"


def export_onnx(graph: nn.Module, input_size: tuple[int, int], output_names: tuple[str, ...], path: Path,
                traceable: bool) -> Path:
    """Writes `graph` (images (B, 3, H, W) in, a tuple named `output_names` out) to `path`."""
    height, width = input_size
    example = torch.rand(EXAMPLE_BATCH, 3, height, width, generator=torch.Generator().manual_seed(0))
    if traceable:
        batch_axis = {0: "batch"}
        with _quiet():
            torch.onnx.export(
                graph, (example,), str(path), dynamo=False, opset_version=OPSET, do_constant_folding=True,
                input_names=[INPUT_NAME], output_names=list(output_names),
                dynamic_axes={INPUT_NAME: batch_axis, **{name: batch_axis for name in output_names}},
            )
        return path
    batch = torch.export.Dim("batch", min=1)
    with _quiet():
        torch.onnx.export(
            graph, (example,), str(path), dynamo=True, opset_version=OPSET, external_data=False,
            input_names=[INPUT_NAME], output_names=list(output_names),
            dynamic_shapes=({0: batch},), verbose=False,
        )
    return path


@contextlib.contextmanager
def _quiet():
    """The exporter narrates each stage on stdout and its optimiser logs every skipped fold."""
    loggers = [logging.getLogger(name) for name in ("onnxscript", "onnx_ir", "torch.onnx", "torch.export")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)
