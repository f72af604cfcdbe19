"""An artifact as a folder a user takes away: the weights (state dict) or `model.onnx`,
`config.json` (the resolved hyperparameters, preprocessing, outputs), `labels.json` and a
README saying how to run it."""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import onnx
import onnxruntime
import torch

from trainers.core import INT8_RUNTIME, ONNX_RUNTIME, DatasetSpec, TrainerError
from trainers.families import family_of, load_exportable

from .exportable import Exportable
from .formats import FORMATS, ONNX_FILE
from .onnx_graph import EXPORTER, INPUT_NAME, OPSET, export_onnx
from .onnx_predictor import OnnxPredictor
from .readme import render_readme

WEIGHTS_FILE = "weights.pt"
# An exported graph whose probabilities differ from torch's by more is refused.
ONNX_TOLERANCE = 1e-3
DEFAULT_MAX_DROP_POINTS = 1.0  # the INT8 gate (the platform's QUANTIZED_MAX_METRIC_DROP)


def export_model(artifact_dir: str | Path, fmt: str, out_dir: str | Path, dataset: DatasetSpec | None = None,
                 max_drop_points: float = DEFAULT_MAX_DROP_POINTS) -> Path:
    """Writes the export of `artifact_dir` in `fmt` into `out_dir` (created) and returns it.
    `onnx-int8` needs the model's `dataset` (its training images calibrate the INT8 ranges, its
    evaluation split scores the result) and refuses a graph whose main metric drops by more than
    `max_drop_points` (TrainerError `accuracy_gate`), or a family that does not quantize."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    artifact_dir, out_dir = Path(artifact_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    exportable = load_exportable(artifact_dir)
    extra = {}
    if fmt == "pytorch":
        shutil.copyfile(artifact_dir / WEIGHTS_FILE, out_dir / WEIGHTS_FILE)
        export = {"file": WEIGHTS_FILE, "kind": "PyTorch state dict of the trainer's model",
                  "torch": torch.__version__}
    else:
        graph = exportable.build_graph()
        export_onnx(graph, exportable.input_size, exportable.output_names, out_dir / ONNX_FILE)
        check_onnx(exportable, graph, out_dir / ONNX_FILE)
        height, width = exportable.input_size
        export = {"file": ONNX_FILE, "opset": OPSET,
                  "input": {"name": INPUT_NAME, "shape": ["batch", 3, height, width], "dtype": "float32"},
                  "outputs": list(exportable.output_names), "torch": torch.__version__,
                  "exporter": EXPORTER,
                  "onnx": onnx.__version__, "checked_with_onnxruntime": onnxruntime.__version__}
        if fmt == "onnx-int8":
            extra["quantization"] = quantize_export(artifact_dir, exportable, out_dir / ONNX_FILE, dataset,
                                                    max_drop_points)
            export["precision"] = f"int8 ({extra['quantization']['scheme']})"
    config = {**json.loads((artifact_dir / "config.json").read_text()), **exportable.describe(),
              "format": fmt, "export": export, **extra}
    (out_dir / "config.json").write_text(json.dumps(config, indent=2))
    shutil.copyfile(artifact_dir / "labels.json", out_dir / "labels.json")
    (out_dir / "README.md").write_text(render_readme(fmt, config, exportable.classes))
    return out_dir


def quantize_export(artifact_dir: Path, exportable: Exportable, onnx_path: Path, dataset: DatasetSpec | None,
                    max_drop_points: float) -> dict:
    """Replaces the fp32 graph at `onnx_path` by its INT8 one once it passes the gate; returns
    the gate's figures, with both runtimes' images/s at batch 1."""
    from trainers.evaluation import REPORT_DIR, REPORT_FILE, evaluate

    from . import quantization

    refusal = family_of(artifact_dir).int8_refusal
    if refusal:
        raise TrainerError("runtime_unsupported", refusal)
    if dataset is None:
        raise TrainerError("no_calibration_data", "an INT8 export needs the model's dataset to calibrate on")
    own_report = artifact_dir / REPORT_DIR / REPORT_FILE
    original = json.loads(own_report.read_text()) if own_report.exists() else None
    split = original["split"] if original else dataset.evaluation_split()
    fp32 = OnnxPredictor(exportable, onnx_path, device="cpu")
    int8_path = onnx_path.with_name("int8.onnx")
    quantization.quantize(exportable, onnx_path, int8_path, quantization.calibration_images(dataset))
    int8 = OnnxPredictor(exportable, int8_path, device="cpu")
    with tempfile.TemporaryDirectory(prefix="gate-") as tmp:
        if original is None:
            original = evaluate(fp32, dataset, split, Path(tmp) / "fp32", max_examples=0)
        quantized = evaluate(int8, dataset, split, Path(tmp) / "int8", max_examples=0)
    figures = quantization.gate(original, quantized, max_drop_points)
    figures["images_per_s_batch_1"] = {
        runtime: round(quantization.images_per_second(predictor, exportable), 2)
        for runtime, predictor in ((ONNX_RUNTIME, fp32), (INT8_RUNTIME, int8))}
    figures["calibration_images"] = min(quantization.CALIBRATION_IMAGES, dataset.train_images() or 0) or None
    int8_path.replace(onnx_path)
    return figures


def check_onnx(exportable: Exportable, graph: torch.nn.Module, onnx_path: Path) -> None:
    """Runs the file in ONNX Runtime and the graph in torch on the same batch (of a size
    other than the example's, so the batch axis is exercised) and refuses a file whose
    probabilities differ by more than ONNX_TOLERANCE."""
    model = onnx.load(str(onnx_path))
    onnx.checker.check_model(model)
    if not model.graph.input[0].type.tensor_type.shape.dim[0].dim_param:
        raise TrainerError("export_failed", "the exporter fixed the batch size; the graph must take any batch")
    height, width = exportable.input_size
    batch = torch.rand(3, 3, height, width, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        outputs = graph(batch)
        outputs = (outputs,) if isinstance(outputs, torch.Tensor) else outputs
        expected = dict(zip(exportable.output_names, outputs))
    got = OnnxPredictor(exportable, onnx_path, device="cpu").outputs(batch)
    expected, got = exportable.probabilities(expected), exportable.probabilities(got)
    for name in expected:
        difference = float((expected[name] - got[name]).abs().max())
        if difference > ONNX_TOLERANCE:
            raise TrainerError("export_mismatch", f"the ONNX graph's {name} probabilities differ from "
                                                  f"PyTorch's by {difference:.2g} (> {ONNX_TOLERANCE})")
