"""A hyperparameter study through the API: TPE with Hyperband pruning against random search
without pruning, the same trials and the same epoch budget, on the same data.

    .venv/bin/python bench/bench_study.py [--trials 12] [--epochs 9]

Data: scikit-learn's bundled handwritten digits (1,797 real 8x8 scans, 10 classes) scaled to
32x32 PNGs, split 80/20 by the platform's importer. The platform runs as `make run` does
(gunicorn + a real Celery worker on the embedded default, a throw-away DATA_DIR). Both
studies search fai-cls's learning_rate (log scale, 1e-4 to 0.1), batch_size (16 to 128, step
16), optimizer and label_smoothing (0 to 0.2) for ResNet-18 at 32 px, `--epochs` epochs a
trial, `--trials` trials, `max_total_epochs` = trials x epochs. It prints each study's best
held-out accuracy and the epochs its trials trained, and the ratios TPE+Hyperband / random
(target: best value >= 1.0x with epochs <= 0.6x).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.api_client import Api  # noqa: E402
from bench.bench_fai_cls_job import digits_zip  # noqa: E402
from bench.served_platform import served_platform  # noqa: E402

SEARCH_SPACE = {
    "learning_rate": {"min": 0.0001, "max": 0.1},
    "batch_size": {"min": 16, "max": 128, "step": 16},
    "optimizer": {},
    "label_smoothing": {"min": 0.0, "max": 0.2},
}


def run_study(api: Api, dataset_id: int, args, sampler: str, pruner: str) -> tuple[float, dict]:
    body = {"template": "fai-cls", "dataset": dataset_id, "name": f"{sampler} + {pruner}", "n_trials": args.trials,
            "sampler": sampler, "pruner": pruner, "seed": args.seed, "max_total_epochs": args.trials * args.epochs,
            "fixed": {"backbone": "resnet18", "resolution": 32, "epochs": args.epochs},
            "search_space": SEARCH_SPACE}
    start = time.monotonic()
    study = api.call("POST", "/studies/", json.dumps(body).encode(), "application/json")
    study = api.wait(f"/studies/{study['id']}/", lambda s: s["status"] in ("succeeded", "failed", "cancelled"),
                     interval=1.0)
    assert study["status"] == "succeeded", study
    return time.monotonic() - start, study


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=9)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-study-") as tmp:
        tmp = Path(tmp)
        digits_zip(tmp / "digits.zip")
        with served_platform(tmp / "data") as api:
            dataset = api.upload(tmp / "digits.zip", "digits")
            dataset = api.wait(f"/datasets/{dataset['id']}/", lambda d: d["status"] != "importing")
            assert dataset["status"] == "ready", dataset
            results = {}
            for sampler, pruner in (("tpe", "hyperband"), ("random", "none")):
                seconds, study = run_study(api, dataset["id"], args, sampler, pruner)
                results[sampler] = study
                counts = study["trial_counts"]
                print(f"{sampler:6} + {pruner:9}: best accuracy {study['best_trial']['value']:.4f} "
                      f"(trial {study['best_trial']['number']}), {study['epochs_trained']} epochs trained, "
                      f"{counts['complete']} complete / {counts['pruned']} pruned / {counts['failed']} failed, "
                      f"{seconds:.0f} s", flush=True)
                for trial in api.call("GET", f"/studies/{study['id']}/trials/"):
                    values = trial["intermediate_values"]
                    print(f"    trial {trial['number']:2}: {trial['state']:8} after {len(values)} epoch(s), "
                          f"value {trial['value']}, {trial['message']}".rstrip(", "), flush=True)
    tpe, random = results["tpe"], results["random"]
    print(f"{args.trials} trials of {args.epochs} epochs each at most (budget {args.trials * args.epochs} epochs), "
          f"resnet18 32x32 on digits")
    print(f"ratio best value TPE+Hyperband / random {tpe['best_trial']['value'] / random['best_trial']['value']:.3f} "
          f"(target >= 1.0)   epochs {tpe['epochs_trained'] / random['epochs_trained']:.3f} (target <= 0.6)")


if __name__ == "__main__":
    main()
