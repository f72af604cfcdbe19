"""The engine's side of a fit on several ranks (torch.distributed, one process per device).

The loop asks `current_ranks()` which rank it is. Rank 0 alone reports, evaluates and writes
checkpoints and the artifact; every decision the ranks must share (the precision, whether to
resume, stop, checkpoint or stop early) is rank 0's, sent to the others with a collective,
so all ranks take each step together and none waits in a collective the others skipped.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data.distributed import DistributedSampler

log = logging.getLogger("trainers.engine")


@dataclass(frozen=True)
class Ranks:
    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def current_ranks() -> Ranks:
    """This process's rank in the process group it joined; rank 0 of 1 outside one."""
    if dist.is_available() and dist.is_initialized():
        return Ranks(dist.get_rank(), dist.get_world_size())
    return Ranks()


def world_size() -> int:
    """How many ranks train together: the global batch is batch_size times this."""
    return current_ranks().world_size


def unwrap(model: nn.Module) -> nn.Module:
    """The model itself, for attributes DistributedDataParallel does not pass through."""
    return model.module if isinstance(model, DistributedDataParallel) else model


def wrap(model: nn.Module, device: torch.device, ranks: Ranks) -> nn.Module:
    """The module each rank's training step calls: gradients are averaged over the ranks in
    backward, and rank 0's parameters and buffers reach the others when it is wrapped."""
    if not ranks.distributed:
        return model
    # static_graph: the parameters a step uses are the same every step, some never (a
    # backbone's stages past the features a head reads); DDP learns which in the first step
    # instead of searching the graph each step as find_unused_parameters would.
    return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None,
                                   static_graph=True)


def with_synchronized_batch_norm(model: nn.Module, device: torch.device, ranks: Ranks) -> nn.Module:
    """Batch-norm statistics over the global batch rather than each rank's share, on GPUs:
    PyTorch's SyncBatchNorm runs on no CPU, where each rank keeps its own statistics."""
    if not ranks.distributed:
        return model
    if device.type != "cuda":
        log.warning("sync_batchnorm: SyncBatchNorm needs GPUs; on %s each rank normalizes its own share", device)
        return model
    return nn.SyncBatchNorm.convert_sync_batchnorm(model)


def shard(indices: list[int], ranks: Ranks) -> list[int]:
    """This rank's share of the epoch's order, dealt as DistributedSampler deals a dataset:
    every world_size-th item from the rank's own, the same count on every rank (the few
    items past a multiple of world_size wait for a later epoch). The order itself is the
    engine's (epoch_indices: exact resume, items_per_epoch), the same on every rank; the
    sampler only deals it, which is why it does not shuffle."""
    if not ranks.distributed:
        return indices
    dealt = DistributedSampler(range(len(indices)), num_replicas=ranks.world_size, rank=ranks.rank,
                               shuffle=False, drop_last=True)
    return [indices[position] for position in dealt]


def items_per_rank(items: int, ranks: Ranks) -> int:
    return items // ranks.world_size


def from_main(value: Any, ranks: Ranks) -> Any:
    """Rank 0's `value` on every rank (any picklable object)."""
    if not ranks.distributed:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def flags_from_main(flags: tuple[bool, ...], device: torch.device, ranks: Ranks) -> tuple[bool, ...]:
    """Rank 0's yes/no decisions on every rank, in one small broadcast."""
    if not ranks.distributed:
        return flags
    tensor = torch.tensor([int(flag) for flag in flags], dtype=torch.int32, device=device)
    dist.broadcast(tensor, src=0)
    return tuple(bool(value) for value in tensor.tolist())


def summed(value: torch.Tensor, ranks: Ranks) -> torch.Tensor:
    """`value` summed over the ranks (every rank gets the sum)."""
    if ranks.distributed:
        value = value.clone()
        dist.all_reduce(value, op=dist.ReduceOp.SUM)
    return value


def gathered(value: Any, ranks: Ranks) -> list[Any]:
    """Every rank's `value`, in rank order, on every rank."""
    if not ranks.distributed:
        return [value]
    values: list[Any] = [None] * ranks.world_size
    dist.all_gather_object(values, value)
    return values
