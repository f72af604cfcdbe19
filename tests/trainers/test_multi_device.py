"""One fit on two gloo ranks on the CPU: the same weights as one process with the global
batch, every family trains, and a killed or hung rank stops the fit (and it resumes)."""
import os
import signal
import threading
import time
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from trainers.core import Callbacks, DatasetSpec, FitResult
from trainers.engine import fit
from trainers.multi_device import RankFit, RanksFailed, fit_on_devices, free_port

from clarifai_toys import make_dataset
from engine_toys import ToyRecipe, toy_config
from fai_cls_data import write_dataset
from fai_mf_toys import TINY_ENGINE_OVERRIDES, TINY_HYPERPARAMETERS, TINY_MODEL_OVERRIDES, write_coco_dataset

pytestmark = pytest.mark.slow
FAI_CLS = dict(backbone="tiny_test", resolution=32, batch_size=4, learning_rate=0.02, num_layers=2,
               hidden_dim=32, dropout_rate=0.0, features="res3")


class DeterministicToy(ToyRecipe):
    """The toy without dropout, each epoch's weights kept (the monitor only grows): what two
    ranks and one process compute must then be the same."""

    def build_model(self):
        return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                             nn.Linear(4, 2))

    def evaluate(self, model, device):
        self.evaluations += 1
        return {"accuracy": float(self.evaluations)}


def _toy_config(batch_size: int):
    return toy_config(epochs=3, batch_size=batch_size, channels_last=False)


def _toy_rank(rank: int, world_size: int, init_method: str, work_dir: str, batch_size: int) -> None:
    dist.init_process_group("gloo", init_method=init_method, rank=rank, world_size=world_size)
    try:
        fit(DeterministicToy(_toy_config(batch_size), n_items=24), Path(work_dir))
    finally:
        dist.destroy_process_group()


def test_two_ranks_with_batch_b_train_the_weights_one_process_does_with_batch_2b(tmp_path):
    mp.spawn(_toy_rank, args=(2, f"tcp://127.0.0.1:{free_port()}", str(tmp_path / "two"), 4), nprocs=2)
    single = fit(DeterministicToy(_toy_config(8), n_items=24), tmp_path / "one")
    two = torch.load(tmp_path / "two" / "artifact" / "weights.pt")
    one = torch.load(single.artifact_dir / "weights.pt")
    torch.manual_seed(7)  # the engine's seed: the weights both runs started from
    start = DeterministicToy(_toy_config(8)).build_model().state_dict()
    for name, weight in one.items():
        assert not torch.equal(weight, start[name])  # it trained
        # fp32 sums in another order: equal to rounding, over 9 AdamW steps
        torch.testing.assert_close(two[name], weight, rtol=1e-5, atol=1e-6, msg=name)


def _request(dataset: DatasetSpec, work_dir: Path, trainer: str, hyperparameters: dict, **options) -> RankFit:
    return RankFit(trainer=trainer, hyperparameters=hyperparameters, dataset_root=str(dataset.root),
                   work_dir=str(work_dir), device="cpu", precision="fp32", recipe_options=options)


def test_a_fai_cls_job_on_two_ranks_reports_from_rank_0_and_ends_with_one_model(tmp_path):
    dataset = DatasetSpec.load(write_dataset(tmp_path / "data", {"train": 16, "valid": 8}))
    seen = {"metrics": [], "progress": []}
    callbacks = Callbacks(on_metrics=lambda epoch, step, metrics: seen["metrics"].append((epoch, step)),
                          on_progress=lambda progress: seen["progress"].append(progress))
    result = fit_on_devices(_request(dataset, tmp_path / "work", "fai_cls", {**FAI_CLS, "epochs": 2}), 2, callbacks)
    assert isinstance(result, FitResult) and (result.artifact_dir / "weights.pt").exists()
    # 16 images over 2 ranks of batch 4: 2 steps an epoch, counted once (not per rank)
    assert seen["metrics"] == [(1, 2), (2, 4)] and seen["progress"][-1].steps == 4


@pytest.mark.parametrize("family", ["fai_mf", "clarifai_resnext"])
def test_fai_mf_and_a_clarifai_template_train_an_epoch_on_two_ranks(tmp_path, family):
    if family == "fai_mf":
        dataset = write_coco_dataset(tmp_path / "data")
        request = _request(dataset, tmp_path / "work", "fai_mf", {**TINY_HYPERPARAMETERS, "epochs": 1},
                           model_overrides=TINY_MODEL_OVERRIDES,
                           engine_overrides={**TINY_ENGINE_OVERRIDES, "items_per_epoch": 8})
    else:
        dataset = make_dataset(tmp_path / "data", per_class=4)
        request = _request(dataset, tmp_path / "work", family, {"image_size": 32, "batch_size": 2, "num_epochs": 1})
    epochs = []
    result = fit_on_devices(request, 2, Callbacks(on_metrics=lambda epoch, step, metrics: epochs.append(epoch)))
    assert epochs == [1] and (result.artifact_dir / "weights.pt").exists()


def _rank_process(rank: int):
    return next(p for p in mp.active_children() if p.name == f"rank-{rank}")


def test_a_rank_killed_mid_run_stops_every_rank_and_the_fit_resumes_from_its_checkpoint(tmp_path):
    dataset = DatasetSpec.load(write_dataset(tmp_path / "data", {"train": 16, "valid": 8}))
    request = _request(dataset, tmp_path / "work", "fai_cls", {**FAI_CLS, "epochs": 3})

    def kill_rank_1_in_epoch_3(epoch, step, metrics):  # epoch 1's checkpoint is written by now
        if epoch == 2:
            os.kill(_rank_process(1).pid, signal.SIGKILL)

    started = time.monotonic()
    with pytest.raises(RanksFailed, match="rank 1: killed by signal 9"):
        fit_on_devices(request, 2, Callbacks(on_metrics=kill_rank_1_in_epoch_3))
    assert time.monotonic() - started < 120 and not mp.active_children()  # nothing left running
    resumed = fit_on_devices(request, 2)
    assert resumed.resumed_from_epoch >= 1 and resumed.history[-1]["epoch"] == 3


def test_a_hung_rank_is_caught_by_the_collective_time_out(tmp_path):
    dataset = DatasetSpec.load(write_dataset(tmp_path / "data", {"train": 16, "valid": 8}))
    request = _request(dataset, tmp_path / "work", "fai_cls", {**FAI_CLS, "epochs": 20})

    def freeze_rank_1(progress):
        process = _rank_process(1)
        if process.is_alive():
            os.kill(process.pid, signal.SIGSTOP)  # alive, holding its socket, never answering

    started = time.monotonic()
    with pytest.raises(RanksFailed, match="rank 0: exit code 1"):
        fit_on_devices(request, 2, Callbacks(on_progress=freeze_rank_1), timeout_s=5)
    assert time.monotonic() - started < 120 and not mp.active_children()


def test_two_nodes_of_one_rank_each_train_one_job_meeting_at_the_leader_over_loopback(tmp_path):
    """Each node has its own work folder, as machines do: node 1 gets rank 0's state through
    the process group, and only node 0 writes checkpoints and the model."""
    dataset = DatasetSpec.load(write_dataset(tmp_path / "data", {"train": 16, "valid": 8}))
    meet_at = f"tcp://127.0.0.1:{free_port()}"
    follower = {}

    def node_1():
        request = _request(dataset, tmp_path / "node1", "fai_cls", {**FAI_CLS, "epochs": 2})
        follower["result"] = fit_on_devices(request, 1, init_method=meet_at, node_rank=1, nodes=2)

    thread = threading.Thread(target=node_1)
    thread.start()
    epochs = []
    result = fit_on_devices(_request(dataset, tmp_path / "node0", "fai_cls", {**FAI_CLS, "epochs": 2}), 1,
                            Callbacks(on_metrics=lambda epoch, step, metrics: epochs.append((epoch, step))),
                            init_method=meet_at, node_rank=0, nodes=2)
    thread.join(timeout=60)
    assert follower == {"result": None} and (result.artifact_dir / "weights.pt").exists()
    assert epochs == [(1, 2), (2, 4)]  # 16 images over 2 ranks of batch 4
    assert not (tmp_path / "node1" / "artifact").exists() and not (tmp_path / "node1" / "checkpoints").exists()


def test_each_rank_seeds_its_data_workers_apart_and_rank_0_as_one_device_does():
    from trainers.engine.sampling import epoch_generator, worker_generator

    def worker_seeds(generator):  # as DataLoader draws its workers' base seed from its generator
        return int(torch.empty((), dtype=torch.int64).random_(generator=generator).item())

    assert worker_seeds(worker_generator(3, 5, 0)) == worker_seeds(epoch_generator(3, 5))
    seeds = {worker_seeds(worker_generator(3, 5, rank)) for rank in range(4)}
    assert len(seeds) == 4
