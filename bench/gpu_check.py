"""Is the platform ready for a GPU? `make gpu-check`, on a machine with CUDA (under 8 minutes
on one GPU).

1. FAI-CLS ResNet-50 at 224 px and FAI-MF ResNet-50 at 512 px train for `--steps` steps
   through the platform's engine (precision auto, channels_last, the engine's DataLoader) and
   through a bare PyTorch loop with the same model, batch and precision; images/s of each and
   the ratio engine/bare (target >= 0.95), the precision auto chose, the peak GPU memory.
2. The input pipeline: FAI-CLS's training dataset decoding real JPEG files written here, read
   as the engine reads them (its DataLoader workers, pinned memory): images/s against the
   GPU's images/s in 1. Below 1.0 the GPU waits for data.
3. Checkpoint portability: a fit checkpointed on the GPU resumes on the CPU, and back.

    .venv/bin/python bench/gpu_check.py [--steps 200] [--device cuda]
    .venv/bin/python bench/gpu_check.py --device cpu --steps 3 --small   # a smoke run of the script
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from torch.utils.data import DataLoader, Dataset, TensorDataset  # noqa: E402

from trainers.core import Callbacks, DatasetSpec  # noqa: E402
from trainers.data.classification import ClassificationDataset  # noqa: E402
from trainers.engine import EngineConfig, Recipe, fit  # noqa: E402
from trainers.engine.precision import Precision  # noqa: E402
from trainers.fai_cls.losses import classification_loss  # noqa: E402
from trainers.fai_cls.model import FAIClassification  # noqa: E402
from trainers.fai_mf.config import MaskFormerConfig  # noqa: E402
from trainers.fai_mf.data import collate as mask_collate  # noqa: E402
from trainers.fai_mf.model import build_mask_former  # noqa: E402
from trainers.families import build_trainer  # noqa: E402

WARMUP_STEPS = 5
LOSS = dict(multi_label=False, use_focal_loss=False, focal_alpha=0.75, focal_gamma=2.0, label_smoothing=0.0)


# --- the two workloads ------------------------------------------------------------------

class Workload:
    """A model, its synthetic training items and its loss: what the engine and the bare loop share."""

    name: str
    batch_size: int

    def model(self) -> torch.nn.Module: ...

    def dataset(self, steps: int) -> Dataset: ...

    def collate(self):
        return None

    def loss(self, model, batch) -> torch.Tensor: ...


class Classification(Workload):
    def __init__(self, small: bool):
        self.backbone, self.resolution, self.batch_size = ("tiny_test", 64, 8) if small else ("resnet50", 224, 64)
        self.name = f"fai-cls {self.backbone} {self.resolution} px batch {self.batch_size}"

    def model(self):
        return FAIClassification(self.backbone, 10, "res5", 2, 512, 0.2)

    def dataset(self, steps):
        g = torch.Generator().manual_seed(0)
        n = steps * self.batch_size
        return TensorDataset(torch.randn(n, 3, self.resolution, self.resolution, generator=g),
                             torch.randint(10, (n,), generator=g))

    def loss(self, model, batch):
        images, labels = batch
        return classification_loss(model(images), labels, **LOSS)


class _MaskItems(Dataset):
    def __init__(self, count: int, resolution: int, objects: int = 5):
        self.count, self.resolution, self.objects = count, resolution, objects

    def __len__(self):
        return self.count

    def __getitem__(self, index):
        g = torch.Generator().manual_seed(index)
        r = self.resolution
        masks = torch.zeros(self.objects, r, r, dtype=torch.bool)
        for mask in masks:
            x, y = torch.randint(0, r // 2, (2,), generator=g).tolist()
            w, h = torch.randint(r // 8, r // 2, (2,), generator=g).tolist()
            mask[y:y + h, x:x + w] = True
        target = {"labels": torch.randint(0, 80, (self.objects,), generator=g), "masks": masks}
        return torch.rand(3, r, r, generator=g), target


class Segmentation(Workload):
    def __init__(self, small: bool):
        self.backbone, self.resolution, self.batch_size = ("tiny_test", 64, 2) if small else ("resnet50", 512, 8)
        self.name = f"fai-mf {self.backbone} {self.resolution} px batch {self.batch_size}"

    def model(self):
        return build_mask_former(MaskFormerConfig(num_classes=80, resolution=self.resolution, backbone=self.backbone))

    def dataset(self, steps):
        return _MaskItems(steps * self.batch_size, self.resolution)

    def collate(self):
        return mask_collate

    def loss(self, model, batch):
        images, targets = batch
        return model.losses(model(images), targets)["loss"]


def _targets_to(batch, device):
    if isinstance(batch, tuple) and isinstance(batch[1], list):  # masks stay a list of dicts
        return batch[0], [{k: v.to(device, non_blocking=True) for k, v in t.items()} for t in batch[1]]
    return batch


# --- the engine and the bare loop ---------------------------------------------------------

class TimedRecipe(Recipe):
    """The workload through the engine; times from the first measured step to the epoch's end."""

    def __init__(self, workload: Workload, steps: int, device: str):
        self.workload, self.steps = workload, steps
        self.config = EngineConfig(epochs=1, batch_size=workload.batch_size, device=device, precision="auto",
                                   channels_last=True, num_workers=0)
        self.items = workload.dataset(WARMUP_STEPS + steps)
        self.calls, self.start, self.end = 0, 0.0, 0.0

    def build_model(self):
        torch.manual_seed(0)
        return self.workload.model()

    def train_dataset(self):
        return self.items

    def collate_fn(self):
        return self.workload.collate()

    def on_train_start(self, model, resumed):
        self.trained = model  # the precision decision times a copy first: not counted

    def train_step(self, model, batch, device):  # the engine moved the batch to the device
        if model is self.trained:
            self.calls += 1
            if self.calls == WARMUP_STEPS + 1:
                _sync(device)
                self.start = time.perf_counter()
        return {"loss": self.workload.loss(model, batch)}

    def build_optimizer(self, model):
        return torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-4)

    def evaluate(self, model, device):
        _sync(device)
        self.end = time.perf_counter()
        return {"accuracy": 0.0}

    def export(self, model, artifact_dir, metrics):
        pass


def _sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def engine_rate(workload: Workload, steps: int, device: str) -> tuple[float, Precision]:
    recipe, chosen = TimedRecipe(workload, steps, device), []
    with tempfile.TemporaryDirectory() as work_dir:
        fit(recipe, Path(work_dir), Callbacks(on_precision=chosen.append))
    return steps * workload.batch_size / (recipe.end - recipe.start), chosen[0]


def bare_rate(workload: Workload, steps: int, device: str, precision: Precision) -> float:
    torch.manual_seed(0)
    model = workload.model().to(device).to(memory_format=torch.channels_last).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-4)
    scaler = torch.amp.GradScaler(torch.device(device).type, enabled=precision.needs_grad_scaler)
    loader = DataLoader(workload.dataset(WARMUP_STEPS + steps), batch_size=workload.batch_size, shuffle=True,
                        collate_fn=workload.collate(), pin_memory=torch.device(device).type == "cuda")
    start = 0.0
    for step, batch in enumerate(loader):
        if step == WARMUP_STEPS:
            _sync(device)
            start = time.perf_counter()
        images, rest = _targets_to(batch, device)
        images = images.to(device, non_blocking=True).contiguous(memory_format=torch.channels_last)
        rest = rest.to(device, non_blocking=True) if isinstance(rest, torch.Tensor) else rest
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(torch.device(device).type, dtype=precision.dtype or torch.float32,
                            enabled=precision.dtype is not None):
            loss = workload.loss(model, (images, rest))
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    _sync(device)
    return steps * workload.batch_size / (time.perf_counter() - start)


# --- the input pipeline and checkpoints ---------------------------------------------------

def jpeg_dataset(root: Path, images: int, side: int) -> DatasetSpec:
    rng = np.random.default_rng(0)
    items = []
    for index in range(images):
        path = Path("train") / f"{index}.jpg"
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 255, (side, side, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / path, quality=90)
        items.append({"image": str(path), "labels": [index % 2]})
    manifest = {"format": "classification_folder", "task": "classification", "classes": ["a", "b"],
                "splits": {"train": {"items": items}, "valid": {"items": items[:8]}}}
    (root / "manifest.json").write_text(json.dumps(manifest))
    return DatasetSpec.load(root)


def pipeline_rate(spec: DatasetSpec, resolution: int, batch_size: int, device: str) -> tuple[float, int]:
    """Images/s of decoding and augmenting through a DataLoader as the fai-cls recipe sets it up."""
    from trainers.fai_cls.recipe import _default_num_workers

    workers = _default_num_workers(device)
    dataset = ClassificationDataset(spec, "train", resolution, False, train=True, horizontal_flip=0.5,
                                    cache_budget_bytes=0)  # decoded from the files every time
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=workers,
                        pin_memory=torch.device(device).type == "cuda", persistent_workers=False)
    seen, start = 0, time.perf_counter()
    for images, _ in loader:
        seen += len(images)
    return seen / (time.perf_counter() - start), workers


def checkpoint_round_trip(spec: DatasetSpec, device: str, work_dir: Path) -> str:
    """A fit checkpointed on `device` resumes on the CPU, then on `device` again."""
    values = {"backbone": "tiny_test", "resolution": 32, "batch_size": 8}
    trail = []
    for epochs, where in ((1, device), (2, "cpu"), (3, device)):
        result = build_trainer("fai_cls", {**values, "epochs": epochs}, spec, work_dir, device=where).fit()
        trail.append(f"{where}: epoch {result.resumed_from_epoch} -> {epochs}")
        if result.resumed_from_epoch != epochs - 1:
            raise SystemExit(f"checkpoint did not resume on {where}: {trail}")
    return "; ".join(trail)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--small", action="store_true", help="tiny models, for a smoke run of the script itself")
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("gpu-check needs CUDA: this machine has no GPU torch can see (--device cpu --small "
                         "runs the script itself on the CPU)")
    on_cuda = args.device.startswith("cuda")
    name = torch.cuda.get_device_name(args.device) if on_cuda else "CPU"
    print(f"gpu-check on {name}, torch {torch.__version__}, {args.steps} timed steps after {WARMUP_STEPS}")
    gpu_rates = {}
    for workload in (Classification(args.small), Segmentation(args.small)):
        if on_cuda:
            torch.cuda.reset_peak_memory_stats()
        engine, precision = engine_rate(workload, args.steps, args.device)
        peak = torch.cuda.max_memory_allocated() / 2**30 if on_cuda else float("nan")
        bare = bare_rate(workload, args.steps, args.device, precision)
        gpu_rates[workload.name] = engine
        print(f"{workload.name}: engine {engine:.1f} img/s, bare loop {bare:.1f} img/s, ratio {engine / bare:.3f} "
              f"(target >= 0.95); precision auto chose {precision.name} ({precision.reason}); "
              f"peak memory {peak:.2f} GiB", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        classification = Classification(args.small)
        spec = jpeg_dataset(Path(folder) / "jpegs", 64 if args.small else 512, 2 * classification.resolution)
        rate, workers = pipeline_rate(spec, classification.resolution, classification.batch_size, args.device)
        step_rate = gpu_rates[classification.name]
        print(f"input pipeline ({workers} DataLoader workers, JPEG decode + resize + flip): {rate:.1f} img/s = "
              f"{rate / step_rate:.2f}x what the GPU trains ({'fed' if rate >= step_rate else 'data-bound'})")
        print(f"checkpoint round trip: {checkpoint_round_trip(spec, args.device, Path(folder) / 'work')}")


if __name__ == "__main__":
    main()
