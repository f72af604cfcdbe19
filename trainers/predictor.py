"""The PyTorch predictor every trainer family serves through: the family's Exportable
(trainers/export/exportable.py) gives the graph and the pre- and post-processing, which the
ONNX Runtime predictor shares, so the two runtimes cannot drift apart. The graph is built
once; predict() runs one batched forward pass under inference_mode, in the precision
`trainers.engine.precision` decides for this hardware."""
from __future__ import annotations

from typing import Any

import torch

from trainers.engine.precision import predictor_precision, resolve_device
from trainers.export.exportable import Exportable


class TorchPredictor:
    runtime = "torch"

    def __init__(self, exportable: Exportable, device: str | None = None, precision: str = "auto",
                 probe_batch: int = 8, channels_last: bool = False):
        """`probe_batch`: images in the forward pass timed for the precision decision;
        `channels_last`: the memory format the graph runs fastest in."""
        self.exportable = exportable
        self.classes: list[str] = exportable.classes
        self.device = resolve_device(device)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.model = exportable.build_graph().to(self.device, memory_format=self.memory_format)
        self.precision = predictor_precision(precision, self.model, self.device, probe_batch, exportable.input_size[0])

    def outputs(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """The graph's raw outputs for a preprocessed batch, by name, in fp32."""
        batch = batch.to(self.device, memory_format=self.memory_format)
        with torch.inference_mode(), self.precision.autocast():
            outputs = self.model(batch)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        return {name: output.float() for name, output in zip(self.exportable.output_names, outputs)}

    def predict(self, images: list[Any], options: dict[str, Any] | None = None) -> list[list[dict[str, Any]]]:
        """`options`: the request's PREDICT_OPTIONS (trainers/export/exportable.py)."""
        if not images:
            return []
        return self.exportable.postprocess(self.outputs(self.exportable.preprocess(images)), images, options)
