"""An artifact as a folder a user takes away: the weights (state dict) or `model.onnx`,
`config.json` (the resolved hyperparameters, preprocessing, outputs), `labels.json` and a
README saying how to run it."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import onnx
import onnxruntime
import torch

from trainers.core import TrainerError
from trainers.families import load_exportable

from .exportable import Exportable
from .formats import FORMATS, ONNX_FILE
from .onnx_graph import EXPORTER, INPUT_NAME, OPSET, export_onnx
from .onnx_predictor import OnnxPredictor
from .readme import render_readme

WEIGHTS_FILE = "weights.pt"
# An exported graph whose probabilities differ from torch's by more is refused.
ONNX_TOLERANCE = 1e-3


def export_model(artifact_dir: str | Path, fmt: str, out_dir: str | Path) -> Path:
    """Writes the export of `artifact_dir` in `fmt` into `out_dir` (created) and returns it."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    artifact_dir, out_dir = Path(artifact_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    exportable = load_exportable(artifact_dir)
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
    config = {**json.loads((artifact_dir / "config.json").read_text()), **exportable.describe(),
              "format": fmt, "export": export}
    (out_dir / "config.json").write_text(json.dumps(config, indent=2))
    shutil.copyfile(artifact_dir / "labels.json", out_dir / "labels.json")
    (out_dir / "README.md").write_text(render_readme(fmt, config, exportable.classes))
    return out_dir


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
