"""Training throughput of the platform engine vs the best bare PyTorch loop, for the same FAI-CLS model.

    .venv/bin/python bench/bench_fai_cls_training.py [--steps 12] [--repeats 4]

The engine runs with precision "auto" (its own choice for this hardware); the bare loop runs
twice, in fp32 and under bf16 autocast, and the engine is compared with the *faster* of the
two, so a wrong choice of precision shows as a low ratio. All sides: fai_cls model (random
init) on the same in-memory synthetic data through a DataLoader, AdamW + LambdaLR cosine,
channels_last. Warm-up steps are excluded, and so are the few steps the engine times on a
copy of the model to decide its precision (the end-to-end job benchmark counts them); the
runs rotate order every repeat. Each step is timed at the same point of the
loop (the call of the forward pass), so two rates are reported: total (N steps / wall time,
median over repeats) and typical (1 / median step time over all repeats), the latter robust
to other processes competing for the CPU.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from trainers.engine import EngineConfig, Recipe, fit, schedules  # noqa: E402
from trainers.core import Callbacks  # noqa: E402
from trainers.fai_cls.losses import classification_loss  # noqa: E402
from trainers.fai_cls.model import FAIClassification  # noqa: E402

ENGINE_CHOICES: list[str] = []  # what each engine run decided
LOSS = dict(multi_label=False, use_focal_loss=False, focal_alpha=0.75, focal_gamma=2.0, label_smoothing=0.0)


def synthetic_data(n: int, resolution: int, num_classes: int) -> TensorDataset:
    g = torch.Generator().manual_seed(0)
    return TensorDataset(torch.randn(n, 3, resolution, resolution, generator=g),
                         torch.randint(num_classes, (n,), generator=g))


def make_model(args) -> torch.nn.Module:
    return FAIClassification(args.backbone, args.num_classes, "res5", 2, 512, 0.2)


def make_optimizer(model):
    return torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)


def make_scheduler(optimizer, total_steps):
    return torch.optim.lr_scheduler.LambdaLR(optimizer, schedules.warmup_cosine(total_steps, 0, 0.001, 0.0))


class BenchRecipe(Recipe):
    """Times steps warmup+1 .. warmup+steps: from that train_step call to the start of
    evaluate(), which the engine calls right after the epoch's last optimizer step."""

    def __init__(self, args, dataset):
        self.args, self.dataset = args, dataset
        self.config = EngineConfig(epochs=1, batch_size=args.batch_size, device="cpu", precision="auto",
                                   channels_last=True, items_per_epoch=(args.warmup + args.steps) * args.batch_size)
        self.calls, self.stamps = 0, []

    def build_model(self):
        return make_model(self.args)

    def train_dataset(self):
        return self.dataset

    def on_train_start(self, model, resumed):
        self.trained = model  # the precision decision times steps of a copy first: not counted

    def train_step(self, model, batch, device):
        if model is not self.trained:
            images, labels = batch
            return {"loss": classification_loss(model(images), labels, **LOSS)}
        self.calls += 1
        if self.calls > self.args.warmup:
            self.stamps.append(time.perf_counter())
        images, labels = batch
        return {"loss": classification_loss(model(images), labels, **LOSS)}

    def build_optimizer(self, model):
        return make_optimizer(model)

    def build_scheduler(self, optimizer, steps_per_epoch, epochs):
        return make_scheduler(optimizer, steps_per_epoch * epochs)

    def evaluate(self, model, device):
        self.stamps.append(time.perf_counter())
        return {"accuracy": 0.0}

    def export(self, model, artifact_dir, metrics):
        pass


def engine_run(args, dataset) -> list[float]:
    """Timestamps of the measured steps' forward calls, then of the end of the last step."""
    recipe = BenchRecipe(args, dataset)
    with tempfile.TemporaryDirectory() as work_dir:
        fit(recipe, Path(work_dir), Callbacks(on_precision=lambda p: ENGINE_CHOICES.append(f"{p.name} ({p.reason})")))
    return recipe.stamps


def bare_run(args, dataset, dtype: torch.dtype | None) -> list[float]:
    torch.manual_seed(0)
    model = make_model(args).to(memory_format=torch.channels_last).train()
    optimizer = make_optimizer(model)
    scheduler = make_scheduler(optimizer, args.warmup + args.steps)
    loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True)
    stamps = []
    for step, (images, labels) in enumerate(loader):
        if step == args.warmup + args.steps:
            break
        images = images.contiguous(memory_format=torch.channels_last)
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            if step >= args.warmup:
                stamps.append(time.perf_counter())
            loss = classification_loss(model(images), labels, **LOSS)
        loss.backward()
        optimizer.step()
        scheduler.step()
    loss.item()
    stamps.append(time.perf_counter())
    return stamps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backbone", default="resnet18", choices=["resnet18", "resnet50", "tiny_test"])
    parser.add_argument("--resolution", type=int, default=112)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--num-classes", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    # enough items for warm-up + measured steps, plus one spare batch for the bare loop's break
    dataset = synthetic_data((args.warmup + args.steps + 1) * args.batch_size, args.resolution, args.num_classes)
    runs = {"engine": lambda: engine_run(args, dataset),
            "bare fp32": lambda: bare_run(args, dataset, None),
            "bare bf16": lambda: bare_run(args, dataset, torch.bfloat16)}
    totals = {name: [] for name in runs}
    step_times = {name: [] for name in runs}
    names = list(runs)
    for repeat in range(args.repeats):
        for name in names[repeat % 3:] + names[:repeat % 3]:  # rotated: cancels load drifts
            stamps = runs[name]()
            assert len(stamps) == args.steps + 1
            totals[name].append(args.steps / (stamps[-1] - stamps[0]))
            step_times[name].extend(b - a for a, b in zip(stamps, stamps[1:]))
            print(f"repeat {repeat + 1} {name:9s} {totals[name][-1]:.3f} steps/s", flush=True)
    print(f"{args.backbone} {args.resolution}x{args.resolution} batch {args.batch_size} on CPU, channels_last, "
          f"{args.steps} steps x {args.repeats} rotated repeats, {torch.get_num_threads()} threads")
    print(f"engine's precision: {'; '.join(sorted(set(ENGINE_CHOICES)))}")
    for label, values in (("total  ", totals), ("typical", step_times)):
        if label == "total  ":
            rates = {name: statistics.median(v) for name, v in values.items()}
        else:
            rates = {name: 1.0 / statistics.median(v) for name, v in values.items()}
        best = max(rates["bare fp32"], rates["bare bf16"])
        print(f"{label} engine {rates['engine']:.3f}  bare fp32 {rates['bare fp32']:.3f}  bare bf16 "
              f"{rates['bare bf16']:.3f} steps/s   engine/fp32 {rates['engine'] / rates['bare fp32']:.3f}  "
              f"engine/bf16 {rates['engine'] / rates['bare bf16']:.3f}  "
              f"engine/best {rates['engine'] / best:.3f} (target >= 0.97)")

if __name__ == "__main__":
    main()
