"""Data-parallel training under ``torchrun`` / ``accelerate launch``: one task per global step on every rank,
disjoint examples per rank, heads kept equal across ranks.

sentence-transformers' trainer lets accelerate hand whole batches to ranks in turn (rank 0 gets batch 0, rank 1
batch 1, ...), so with several tasks two ranks train different heads in the same step: the mixture no longer holds
per step, and the heads, which sit in the loss modules outside DDP, drift apart. Here instead:

- the multi-task sampler draws *global* batches (``batch_size x world_size`` examples of one task), identically on
  every rank (same seed), and ``RankSlice`` gives each rank its contiguous part of each global batch: across ranks
  an epoch sees every example once; a task's last, short global batch is split as evenly as possible, and only
  when it has fewer examples than there are ranks do the ranks left over repeat one of its examples;
- after the backward pass the heads' gradients are averaged across ranks (``HeadGradientSync``), as DDP does for
  the encoder, so heads and encoder stay identical on every rank.

With one process every function here is the identity: ``rx train`` runs as before.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import torch
import torch.distributed as dist
from transformers import TrainerCallback


def world_size() -> int:
    """Processes in this training (``WORLD_SIZE`` set by torchrun/accelerate; 1 otherwise)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    """This process's global rank (0 when not distributed)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank()
    return int(os.environ.get("RANK", "0"))


def is_main_process() -> bool:
    """Whether this process writes logs, checkpoints and the run folder (global rank 0)."""
    return rank() == 0


def barrier() -> None:
    """Wait for every rank (nothing to wait for in one process)."""
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        dist.barrier()


def rank_part(batch: list[int], rank_index: int, ranks: int) -> list[int]:
    """This rank's contiguous part of a global batch: sizes differ by at most one; when the batch has fewer
    examples than ranks, a rank with no part repeats example ``rank_index % len(batch)`` (a forward pass needs
    at least one example, and DDP needs every rank to take part in the step)."""
    base, extra = divmod(len(batch), ranks)
    if base == 0 and rank_index >= extra:
        return [batch[rank_index % len(batch)]]
    start = rank_index * base + min(rank_index, extra)
    return batch[start : start + base + (1 if rank_index < extra else 0)]


class RankSlice:
    """A batch sampler yielding this rank's part of each global batch of ``sampler`` (see ``rank_part``)."""

    def __init__(self, sampler: Any, rank_index: int, ranks: int) -> None:
        self.batch_sampler = sampler  # the name accelerate and transformers look under for ``set_epoch``
        self.rank_index, self.ranks = rank_index, ranks

    def set_epoch(self, epoch: int) -> None:
        """Forwarded to the global sampler, so every rank shuffles the same way each epoch."""
        if hasattr(self.batch_sampler, "set_epoch"):
            self.batch_sampler.set_epoch(epoch)

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self.batch_sampler:
            yield rank_part(list(batch), self.rank_index, self.ranks)

    def __len__(self) -> int:
        return len(self.batch_sampler)


def _head_parameters(heads: dict[str, torch.nn.Module]) -> list[torch.nn.Parameter]:
    """Every head's own parameters (the shared encoder, under ``model.``, is DDP's)."""
    return [
        p
        for head in heads.values()
        for name, p in head.named_parameters()
        if not name.startswith("model.") and p.requires_grad
    ]


class HeadGradientSync(TrainerCallback):
    """Averages the heads' gradients across ranks before each optimizer step.

    Every rank trains the same task in a step (``RankSlice``), so the heads holding a gradient are the same on
    every rank and the collective calls match. Gradient clipping, which runs before this hook, covers only the
    encoder's parameters (the trainer clips ``model.parameters()``), so every rank clips identically."""

    def __init__(self, heads: dict[str, torch.nn.Module]) -> None:
        self.parameters = _head_parameters(heads)

    def on_pre_optimizer_step(self, args, state, control, **kwargs):
        if world_size() > 1:
            grads = [p.grad for p in self.parameters if p.grad is not None]
            if grads:
                flat = torch.cat([g.reshape(-1) for g in grads])
                dist.all_reduce(flat)
                flat /= world_size()
                offset = 0
                for g in grads:
                    g.copy_(flat[offset : offset + g.numel()].view_as(g))
                    offset += g.numel()
        return control


def sum_across_ranks(values: dict[str, float]) -> dict[str, float]:
    """``values`` summed over ranks (same keys on every rank); unchanged in one process."""
    if world_size() == 1 or not values:
        return dict(values)
    keys = sorted(values)
    device = torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else None
    tensor = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return dict(zip(keys, tensor.tolist()))
