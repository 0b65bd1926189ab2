"""Encoding export shards on a pool of Ray actors (``rx export --ray``): one model per actor (a GPU each when the
cluster has GPUs), shards sent as they are read and their vectors returned in order, so the driver writes the
same shards and manifest as a single-process export and resumes the same way."""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Iterator

import numpy as np

from retrieval_xfer.encoding.options import EncoderOptions
from retrieval_xfer.errors import RxError
from retrieval_xfer.ray_cluster import connect
from retrieval_xfer.specs import EncoderSpec


class _EncodeActor:
    """Holds one encoder; ``encode`` turns a shard's sentences into float32 unit vectors."""

    def __init__(self, options: EncoderOptions) -> None:
        self.encoder = options.load()

    def spec(self) -> EncoderSpec:
        return self.encoder.spec

    def encode(self, texts: list[str]) -> np.ndarray:
        return self.encoder.encode(texts)


class RayShardEncoder:
    """A pool of encoder actors on Ray at ``address`` (``"local"``: start one here). ``spec`` is the actors'
    (all must agree); ``encode_shards`` keeps every actor busy with one shard and yields vectors in shard order."""

    def __init__(self, options: EncoderOptions, address: str, actors: int | None = None) -> None:
        ray = connect(address)
        self.ray = ray
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        self.actors = actors or (gpus if gpus else max(1, int(resources.get("CPU", 1))))
        per_actor = {"num_gpus": 1} if gpus else {"num_cpus": max(1, int(resources.get("CPU", 1)) // self.actors)}
        actor_class = ray.remote(**per_actor)(_EncodeActor)
        quiet = dataclasses.replace(options, quiet=True)
        self.pool = [actor_class.remote(quiet) for _ in range(self.actors)]
        specs = ray.get([actor.spec.remote() for actor in self.pool])
        if any(spec != specs[0] for spec in specs):
            raise RxError(
                "the Ray actors loaded different weights for the same --model (is the folder the same on every node?)"
            )
        self.spec: EncoderSpec = specs[0]

    def encode_shards(self, shards: Iterator[tuple[str, list[str]]]) -> Iterator[np.ndarray]:
        """The vectors of each ``(label, texts)`` shard, in the order given."""
        in_flight: collections.deque = collections.deque()
        free = list(self.pool)
        for _, texts in shards:
            if not free:
                ref, actor = in_flight.popleft()
                yield self.ray.get(ref)
                free.append(actor)
            actor = free.pop()
            in_flight.append((actor.encode.remote(texts), actor))
        while in_flight:
            ref, _ = in_flight.popleft()
            yield self.ray.get(ref)
