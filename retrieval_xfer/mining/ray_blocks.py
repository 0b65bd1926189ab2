"""The blocks of the exact k-NN as Ray tasks (``rx mine --ray``): each task computes one block of x against all
of y (``knn.block_neighbours``) where Ray places it; the driver merges the results in block order, so the
neighbours, the checkpoints and the pairs file are those of the single-process run."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from retrieval_xfer.mining.knn import BlockRunner, block_neighbours
from retrieval_xfer.ray_cluster import connect
from retrieval_xfer.vectors import VectorSet


def ray_block_runner(
    x: VectorSet, y: VectorSet, k: int, block_rows: int, device: str, address: str | None, in_flight: int | None = None
) -> BlockRunner:
    """A ``runner`` for ``knn.knn_both_ways`` that sends blocks to Ray (at most ``in_flight`` at once, default
    the cluster's CPU count) and yields their results in order. Memory-mapped sides travel as file paths;
    in-memory ones are put in Ray's object store once."""
    ray = connect(address)
    task = ray.remote(num_cpus=1)(block_neighbours)
    x_ref, y_ref = ray.put(x), ray.put(y)
    limit = in_flight or max(1, int(ray.cluster_resources().get("CPU", 1)))

    def run(
        blocks: list[tuple[int, int]],
    ) -> Iterator[tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]]:
        pending: list = []
        queue = iter(blocks)
        for xs, xe in queue:
            pending.append(task.remote(x_ref, y_ref, xs, xe, k, block_rows, device))
            if len(pending) >= limit:
                break
        while pending:
            result = ray.get(pending.pop(0))
            nxt = next(queue, None)
            if nxt is not None:
                pending.append(task.remote(x_ref, y_ref, nxt[0], nxt[1], k, block_rows, device))
            yield result

    return run
