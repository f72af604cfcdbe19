"""ONNX Runtime against torch eager on this CPU: forward throughput of fai-cls ResNet-18 and
ResNet-50 at 224 px, on the same preprocessed batches, alternating runs so both share the
machine's noise. Torch runs as the platform's torch predictor does (channels_last, the
precision PREDICT_PRECISION=auto chooses here) and in plain fp32.
Usage: .venv/bin/python bench/bench_onnx_vs_torch.py [--rounds 5] [--batches 1 8]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from bench.serving_models import write_fai_cls_artifact  # noqa: E402
from trainers.export import OnnxPredictor, export_model  # noqa: E402
from trainers.predictor import TorchPredictor  # noqa: E402
from trainers.families import load_exportable, load_predictor  # noqa: E402

TARGET = 1.5


def seconds(run, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def torch_forward(predictor: TorchPredictor, batch: torch.Tensor):
    batch = batch.contiguous(memory_format=torch.channels_last)

    def run():
        with torch.inference_mode(), predictor.precision.autocast():
            predictor.model(batch)

    return run


def compare(backbone: str, batches: list[int], rounds: int, work: Path) -> dict[int, float]:
    artifact = write_fai_cls_artifact(backbone, 224, work / backbone / "artifact")
    exported = export_model(artifact, "onnx", work / backbone / "onnx")
    onnx = OnnxPredictor(load_exportable(artifact), exported / "model.onnx", device="cpu")
    platform = load_predictor(artifact, device="cpu", precision="auto")
    fp32 = platform if platform.precision.name == "fp32" else load_predictor(artifact, device="cpu", precision="fp32")
    ratios = {}
    for size in batches:
        batch = torch.rand(size, 3, 224, 224, generator=torch.Generator().manual_seed(size))
        runs = {"onnxruntime": lambda: onnx.outputs(batch),
                f"torch ({platform.precision.name}, as deployed)": torch_forward(platform, batch)}
        if platform.precision.name != "fp32":
            runs["torch fp32"] = torch_forward(fp32, batch)
        for run in runs.values():  # warm-up: oneDNN and ORT build their kernels
            run()
        best = {name: float("inf") for name in runs}
        for _ in range(rounds):
            for name, run in runs.items():
                best[name] = min(best[name], seconds(run, 1))
        images_per_s = {name: size / t for name, t in best.items()}
        print(f"{backbone} batch {size:2d}: " + ", ".join(f"{name} {v:6.1f} img/s" for name, v in images_per_s.items()))
        deployed = next(name for name in runs if "as deployed" in name)
        ratios[size] = images_per_s["onnxruntime"] / images_per_s[deployed]
        print(f"  ratio onnxruntime / {deployed}: {ratios[size]:.2f} (goal >= {TARGET})")
        if "torch fp32" in images_per_s:
            print(f"  ratio onnxruntime / torch fp32: {images_per_s['onnxruntime'] / images_per_s['torch fp32']:.2f}")
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    with tempfile.TemporaryDirectory(prefix="bench-onnx-") as tmp:
        ratios = {backbone: compare(backbone, args.batches, args.rounds, Path(tmp)) for backbone in ("resnet18", "resnet50")}
    worst = min(r for per_batch in ratios.values() for r in per_batch.values())
    faster = "onnxruntime" if worst >= 1.0 else "torch (at least in one case)"
    print(f"faster runtime on this machine: {faster}; lowest ratio onnxruntime / torch as deployed: {worst:.2f} "
          f"(goal >= {TARGET})")


if __name__ == "__main__":
    main()
