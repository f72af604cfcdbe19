"""Export of a trained artifact (pure PyTorch, no Django): `export_model(artifact_dir, fmt,
out_dir)` writes the weights or `model.onnx` with config, labels and a README;
`load_onnx_predictor(artifact_dir, onnx_path)` serves the ONNX file with ONNX Runtime.

Each trainer family provides its `Exportable` (exportable.py): the graph (preprocessed
images in, logits out) and its own pre- and post-processing, which both runtimes share.
"""
from .exportable import Exportable
from .onnx_predictor import OnnxPredictor, load_onnx_predictor
from .package import FORMATS, ONNX_FILE, export_model

__all__ = ["Exportable", "FORMATS", "ONNX_FILE", "OnnxPredictor", "export_model", "load_onnx_predictor"]
