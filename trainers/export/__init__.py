"""Export of a trained artifact (pure PyTorch, no Django): `export_model(artifact_dir, fmt,
out_dir)` writes the weights or `model.onnx` with config, labels and a README;
`load_onnx_predictor(artifact_dir, onnx_path)` serves the ONNX file with ONNX Runtime.

Each trainer family provides its `Exportable` (exportable.py): the graph (preprocessed
images in, logits out) and its own pre- and post-processing, which both runtimes share.
"""
import importlib

from .formats import FORMATS, INT8_FILE, ONNX_FILE, PREDICT_OPTIONS, RUNTIME_FORMATS, TUNED

# Loaded on first use: torch and onnx take a second and a half to import, which a command
# or a web process that never exports should not pay.
_LAZY = {"Exportable": ".exportable", "OnnxPredictor": ".onnx_predictor",
         "load_onnx_predictor": ".onnx_predictor", "export_model": ".package",
         "images_per_second": ".quantization"}

__all__ = ["Exportable", "FORMATS", "INT8_FILE", "ONNX_FILE", "OnnxPredictor", "PREDICT_OPTIONS", "RUNTIME_FORMATS",
           "TUNED", "export_model", "images_per_second", "load_onnx_predictor"]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
