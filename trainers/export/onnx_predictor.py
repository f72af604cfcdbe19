"""Predict with ONNX Runtime: the family's own preprocessing, the exported graph in an ORT
session, the family's own post-processing (trainers/export/exportable.py)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import onnxruntime as ort
import torch

from trainers.families import load_exportable

from .exportable import Exportable


def session_options() -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = torch.get_num_threads()  # the same cores torch would use
    # Idle pool threads sleep instead of spinning: a web process shares its cores with the
    # threads that decode the next requests (measured faster under that contention).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only
    return options


def providers(device: str | None) -> list[str]:
    """CUDA when asked for (or automatic) and this onnxruntime build has it, else the CPU."""
    available = ort.get_available_providers()
    wants_cuda = device is None or str(device).startswith("cuda")
    if wants_cuda and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


class OnnxPredictor:
    runtime = "onnxruntime"

    def __init__(self, exportable: Exportable, onnx_path: str | Path, device: str | None = None):
        self.exportable = exportable
        self.classes: list[str] = exportable.classes
        self.session = ort.InferenceSession(os.fspath(onnx_path), session_options(), providers=providers(device))
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = [output.name for output in self.session.get_outputs()]

    def outputs(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """The graph's raw outputs for a preprocessed batch, by name."""
        results = self.session.run(self.output_names, {self.input_name: batch.contiguous().numpy()})
        return {name: torch.from_numpy(result) for name, result in zip(self.output_names, results)}

    def predict(self, images: list[Any], options: dict[str, Any] | None = None) -> list[list[dict[str, Any]]]:
        """`options`: the request's PREDICT_OPTIONS (trainers/export/exportable.py)."""
        if not images:
            return []
        return self.exportable.postprocess(self.outputs(self.exportable.preprocess(images)), images, options)


def load_onnx_predictor(artifact_dir: str | Path, onnx_path: str | Path, device: str | None = None) -> OnnxPredictor:
    """The artifact's model served by ONNX Runtime from `onnx_path` (made by export_onnx)."""
    return OnnxPredictor(load_exportable(artifact_dir), onnx_path, device)
