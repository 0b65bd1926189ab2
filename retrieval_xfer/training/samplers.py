"""How batches of the tasks interleave in a multi-task run (one task per batch).

proportional (default): each task in proportion to its number of batches, every example used once an epoch.
round-robin: tasks in turn until the smallest is exhausted (sentence-transformers' own).
temperature: task i drawn with probability ∝ n_i^(1/T) (T=1 proportional, T→∞ uniform); a task that runs out
restarts, and an epoch has as many batches as the proportional sampler's.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from itertools import accumulate

import torch
from sentence_transformers.base.sampler import (
    MultiDatasetDefaultBatchSampler,
    ProportionalBatchSampler,
    RoundRobinBatchSampler,
)


def temperature_probabilities(sizes: list[int], temperature: float) -> list[float]:
    """p_i = n_i^(1/T) / Σ_j n_j^(1/T)."""
    weights = [n ** (1.0 / temperature) for n in sizes]
    return [w / sum(weights) for w in weights]


class TemperatureBatchSampler(MultiDatasetDefaultBatchSampler):
    """Draws the task of every batch with probability ∝ (examples in the task)^(1/temperature)."""

    def __init__(self, *args, temperature: float = 2.0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.temperature = temperature

    def __iter__(self) -> Iterator[list[int]]:
        if self.generator is not None and self.seed is not None:
            self.generator.manual_seed(self.seed + self.epoch)
        sizes = [len(d) for d in self.dataset.datasets]
        offsets = [0] + list(accumulate(sizes))
        probabilities = torch.tensor(temperature_probabilities(sizes, self.temperature))
        iterators = [iter(s) for s in self.batch_samplers]
        draws = torch.multinomial(probabilities, len(self), replacement=True, generator=self.generator)
        for task in draws.tolist():
            try:
                batch = next(iterators[task])
            except StopIteration:
                iterators[task] = iter(self.batch_samplers[task])
                batch = next(iterators[task])
            yield [i + offsets[task] for i in batch]

    def __len__(self) -> int:
        return sum(len(s) for s in self.batch_samplers)


def batch_sampler(name: str, temperature: float = 2.0):
    """The ``multi_dataset_batch_sampler`` argument for the trainer."""
    if name == "temperature":
        return functools.partial(TemperatureBatchSampler, temperature=temperature)
    return {"proportional": ProportionalBatchSampler, "round-robin": RoundRobinBatchSampler}[name]
