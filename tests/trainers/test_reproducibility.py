"""The same data, hyperparameters and seed give the same weights in any process.

Run in subprocesses with different PYTHONHASHSEED values: anything that leaned on the
order of a set of strings, or on hash(), would train a different model in each."""
import os
import subprocess
import sys
from pathlib import Path

from fai_cls_data import write_dataset

ROOT = Path(__file__).resolve().parents[2]
FIT = """
import hashlib, sys, torch
torch.set_num_threads(1)
from trainers.core import DatasetSpec
from trainers.families import build_trainer
hp = dict(backbone="tiny_test", resolution=32, batch_size=4, epochs=2, learning_rate=0.02, features="res3")
# fp32: auto times bf16 against fp32, and on a loaded machine two processes may choose differently.
result = build_trainer("fai_cls", hp, DatasetSpec.load(sys.argv[1]), sys.argv[2], device="cpu", precision="fp32").fit()
state = torch.load(result.artifact_dir / "weights.pt", weights_only=True)
print(hashlib.sha256(b"".join(state[k].float().numpy().tobytes() for k in sorted(state))).hexdigest())
"""


def fit_in_a_new_process(data: Path, work: Path, hash_seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", FIT, str(data), str(work)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def test_a_fit_gives_identical_weights_in_processes_with_different_string_hashes(tmp_path):
    data = write_dataset(tmp_path / "data", {"train": 12, "valid": 4})
    digests = {fit_in_a_new_process(data, tmp_path / f"work{seed}", seed) for seed in ("1", "2")}
    assert len(digests) == 1, digests
