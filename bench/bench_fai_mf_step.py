"""Time one FAI-MF training step on this machine: the platform's precision vs bare fp32 and bf16.

The platform's run uses what `trainers.engine.precision` chooses for this CPU ("auto") and
channels_last, as the fai_mf trainer does; it is compared with the *faster* of the bare fp32
and bare bf16-autocast runs (both channels_last), so a wrong choice shows as a low ratio.

ResNet-50 configuration (the template's defaults: 256-dim pixel decoder and transformer, 100
queries, 6 decoder layers, 12544 points), 512x512 images, batch 2, 80 classes. Both paths
start from the same initial weights and see the same batch and the same matcher/point
sampling seed, so their first-step losses are comparable.

    .venv/bin/python bench/bench_fai_mf_step.py [--steps 2] [--repeats 3] [--resolution 512] [--batch 2]
"""
from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trainers.engine.precision import choose_precision  # noqa: E402
from trainers.fai_mf.config import MaskFormerConfig  # noqa: E402
from trainers.fai_mf.model import build_mask_former  # noqa: E402

LOSS_TOLERANCE = 0.02  # bf16's first-step loss must stay within 2% of fp32's


def synthetic_batch(batch: int, resolution: int, num_classes: int, objects: int = 5):
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(batch, 3, resolution, resolution, generator=generator)
    targets = []
    for _ in range(batch):
        masks = torch.zeros(objects, resolution, resolution, dtype=torch.bool)
        for m in masks:
            x, y = torch.randint(0, resolution // 2, (2,), generator=generator).tolist()
            w, h = torch.randint(resolution // 8, resolution // 2, (2,), generator=generator).tolist()
            m[y:y + h, x:x + w] = True
        targets.append({"labels": torch.randint(0, num_classes, (objects,), generator=generator), "masks": masks})
    return images, targets


def step_in(model, images, targets):
    """One training step in a given dtype, as the engine's precision probe times it."""
    model = model.to(memory_format=torch.channels_last).train()
    images = images.contiguous(memory_format=torch.channels_last)

    def step(dtype: torch.dtype | None) -> None:
        with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            loss = model.losses(model(images), targets)["loss"]
        loss.backward()
        model.zero_grad(set_to_none=True)

    return step


def run(model, initial_state, images, targets, steps: int, dtype: torch.dtype | None, channels_last: bool = True):
    model.load_state_dict(initial_state)
    model.train()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        images = images.contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.05)
    times, first_loss = [], None
    for step in range(steps + 1):  # step 0: warm-up, also the loss comparison at the initial weights
        torch.manual_seed(1234)  # same matcher points and importance sampling in both paths
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            loss = model.losses(model(images), targets)["loss"]
        loss.backward()
        optimizer.step()
        elapsed = time.perf_counter() - start
        if step == 0:
            first_loss = float(loss.detach())
        else:
            times.append(elapsed)
    return times, first_loss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--resolution", type=int, default=512)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    torch.manual_seed(0)
    config = MaskFormerConfig(num_classes=80, resolution=args.resolution, backbone="resnet50")
    model = build_mask_former(config)
    initial = copy.deepcopy(model.state_dict())
    images, targets = synthetic_batch(args.batch, args.resolution, config.num_classes)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, resnet50 {args.resolution}x"
          f"{args.resolution} batch {args.batch}, {config.num_queries} queries, "
          f"{config.transformer_predictor_dec_layers} decoder layers, {args.steps} timed steps each")

    chosen = choose_precision("auto", "cpu", workload=step_in(model, images, targets))  # as the engine decides
    print(f"platform's precision: {chosen.name} ({chosen.reason})")
    runs = {"bare fp32": None, "bare bf16": torch.bfloat16, f"platform ({chosen.name})": chosen.dtype}
    seconds, losses = {name: [] for name in runs}, {}
    names = list(runs)
    for repeat in range(args.repeats):  # rotated, so no configuration always runs first or warm
        for name in names[repeat % 3:] + names[:repeat % 3]:
            steps, losses[name] = run(model, initial, images, targets, args.steps, runs[name])
            seconds[name] += steps
            print(f"repeat {repeat + 1} {name:16s}: {', '.join(f'{t:.2f}' for t in steps)} s/step   "
                  f"first-step loss {losses[name]:.4f}", flush=True)
    best = {name: statistics.median(values) for name, values in seconds.items()}
    fp32_s, bf16_s, platform_s = (best[name] for name in names)
    relative = abs(losses["bare bf16"] - losses["bare fp32"]) / abs(losses["bare fp32"])
    print(f"bf16 loss relative difference {relative:.2%} (within {LOSS_TOLERANCE:.0%}: {relative <= LOSS_TOLERANCE})")
    print(f"median s/step: bare fp32 {fp32_s:.2f}  bare bf16 {bf16_s:.2f}  platform {platform_s:.2f}")
    print(f"ratio platform/fp32 {fp32_s / platform_s:.3f}  platform/bf16 {bf16_s / platform_s:.3f}  "
          f"platform/best {min(fp32_s, bf16_s) / platform_s:.3f} (target >= 0.97)")

if __name__ == "__main__":
    main()
