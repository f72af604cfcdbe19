"""A small fai-cls job through the API, from submit to succeeded, against a bare PyTorch loop.

    .venv/bin/python bench/bench_fai_cls_job.py [--epochs 10] [--backbone resnet18]

Data: scikit-learn's bundled handwritten digits (1,797 real 8x8 scans, 10 classes), scaled
to 32x32 PNGs, split 80/20 by the platform's importer. The platform runs as `make run` does
(gunicorn + real Celery workers on the embedded default, a throw-away DATA_DIR), precision
"auto". The bare loop is what one would write by hand: torchvision ImageFolder + DataLoader
on the same split files, the same FAI-CLS model and batch size, AdamW with a cosine
schedule, and an evaluation of the valid split after every epoch, as the job does. It runs
in fp32, and also under bf16 autocast where the CPU has native bf16; the job is compared
with the faster. Ratio = bare time / job time (target >= 0.85).
"""
from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from PIL import Image  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402
from torchvision import datasets, transforms  # noqa: E402

from bench.served_platform import served_platform  # noqa: E402
from trainers.data.classification import IMAGENET_MEAN, IMAGENET_STD  # noqa: E402
from trainers.engine import schedules  # noqa: E402
from trainers.engine.precision import cpu_has_native_bf16  # noqa: E402
from trainers.fai_cls.hyperparameters import FaiClsHyperparameters  # noqa: E402
from trainers.fai_cls.model import build_model  # noqa: E402

RESOLUTION = 32


def digits_zip(path: Path) -> None:
    digits = load_digits()
    with zipfile.ZipFile(path, "w") as archive:
        for index, (pixels, label) in enumerate(zip(digits.images, digits.target)):
            image = Image.fromarray((pixels * 255 / 16).astype("uint8")).convert("RGB").resize((RESOLUTION, RESOLUTION))
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
            archive.writestr(f"{label}/{index}.png", buffer.getvalue())


def run_job(args, archive: Path, data_dir: Path) -> tuple[float, dict]:
    with served_platform(data_dir) as api:
        dataset = api.upload(archive, "digits")
        dataset = api.wait(f"/datasets/{dataset['id']}/", lambda d: d["status"] != "importing")
        assert dataset["status"] == "ready", dataset
        hyperparameters = {"backbone": args.backbone, "resolution": RESOLUTION, "epochs": args.epochs,
                           "batch_size": args.batch_size}
        body = json.dumps({"template": "fai-cls", "dataset": dataset["id"], "hyperparameters": hyperparameters})
        start = time.monotonic()
        job = api.call("POST", "/jobs/", body.encode(), "application/json")
        job = api.wait(f"/jobs/{job['id']}/", lambda j: j["status"] in ("succeeded", "failed", "cancelled"))
        elapsed = time.monotonic() - start
        assert job["status"] == "succeeded", job
        return elapsed, job


def bare_loop(args, split_root: Path, dtype: torch.dtype | None) -> tuple[float, float]:
    """Seconds and final valid accuracy of the hand-written loop."""
    start = time.monotonic()
    torch.manual_seed(0)
    normalise = [transforms.ToTensor(), transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)]
    train = datasets.ImageFolder(str(split_root / "train"), transforms.Compose(
        [transforms.Resize((RESOLUTION, RESOLUTION)), transforms.RandomHorizontalFlip(0.5), *normalise]))
    valid = datasets.ImageFolder(str(split_root / "valid"), transforms.Compose(
        [transforms.Resize((RESOLUTION, RESOLUTION)), *normalise]))
    hp = FaiClsHyperparameters(backbone=args.backbone, resolution=RESOLUTION, epochs=args.epochs,
                               batch_size=args.batch_size)
    model = build_model(hp, len(train.classes)).to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=hp.learning_rate, weight_decay=hp.weight_decay)
    loader = DataLoader(train, batch_size=hp.batch_size, shuffle=True)
    steps = len(loader) * hp.epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedules.warmup_cosine(steps, 0, 0.001, 0.0))
    autocast = dict(device_type="cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None)
    accuracy = 0.0
    for _ in range(hp.epochs):
        model.train()
        for images, labels in loader:
            with torch.autocast(**autocast):
                loss = torch.nn.functional.cross_entropy(model(images.contiguous(memory_format=torch.channels_last)), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
        model.eval()
        correct = 0
        with torch.no_grad(), torch.autocast(**autocast):
            for images, labels in DataLoader(valid, batch_size=hp.batch_size):
                correct += int((model(images.contiguous(memory_format=torch.channels_last)).argmax(1) == labels).sum())
        accuracy = correct / len(valid)
    return time.monotonic() - start, accuracy


def split_files(data_dir: Path, dest: Path) -> Path:
    """The imported dataset's train/valid split as ImageFolder trees (the same files the job read)."""
    manifest_path = next((data_dir / "storage").rglob("manifest.json"))
    manifest = json.loads(manifest_path.read_text())
    for split in ("train", "valid"):
        for item in manifest["splits"][split]["items"]:
            target = dest / split / manifest["classes"][item["labels"][0]] / Path(item["image"]).name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(manifest_path.parent / item["image"], target)
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="resnet18")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-job-") as tmp:
        tmp = Path(tmp)
        digits_zip(tmp / "digits.zip")
        job_s, job = run_job(args, tmp / "digits.zip", tmp / "data")
        print(f"job through the API: {job_s:.1f} s, precision {job['precision']}, "
              f"valid accuracy {job['metrics']['accuracy']:.3f}", flush=True)
        split_root = split_files(tmp / "data", tmp / "split")
        bare = {"fp32": bare_loop(args, split_root, None)}
        print(f"bare loop fp32     : {bare['fp32'][0]:.1f} s, valid accuracy {bare['fp32'][1]:.3f}", flush=True)
        if cpu_has_native_bf16():
            bare["bf16"] = bare_loop(args, split_root, torch.bfloat16)
            print(f"bare loop bf16     : {bare['bf16'][0]:.1f} s, valid accuracy {bare['bf16'][1]:.3f}", flush=True)
        else:
            print("bare loop bf16     : not run (no native bf16 here: emulated bf16 is several times slower)")
    best = min(seconds for seconds, _ in bare.values())
    print(f"{args.backbone} {RESOLUTION}x{RESOLUTION}, {args.epochs} epochs, batch {args.batch_size}, "
          f"{torch.get_num_threads()} threads; the job trained in {job['precision']}")
    print(f"ratio bare fp32 / job {bare['fp32'][0] / job_s:.3f}   bare best / job {best / job_s:.3f} (target >= 0.85)")


if __name__ == "__main__":
    main()
