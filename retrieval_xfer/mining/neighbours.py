"""The one k-NN step of mining, for ``rx mine`` and BUCC alike: optional centering, then the exact blockwise k-NN
(under a memory budget, checkpointed, on Ray if asked) or an approximate FAISS one, in both directions.

``find_neighbours`` is the only place that chooses between them; a new mining backend is wired in here once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval_xfer.errors import RxError
from retrieval_xfer.indexing.factory import IndexParams, check_trainable
from retrieval_xfer.mining.approximate import knn_approximate
from retrieval_xfer.mining.budget import parse_size, plan_block_rows
from retrieval_xfer.mining.checkpoint import KnnCheckpoint
from retrieval_xfer.mining.knn import Neighbours, default_device, knn_both_ways
from retrieval_xfer.mining.options import CENTER_CHOICES, MiningOptions
from retrieval_xfer.mining.ray_blocks import ray_block_runner
from retrieval_xfer.vectors import CenteredVectors, VectorSet, mean_vector

logger = logging.getLogger(__name__)


@dataclass
class FoundNeighbours:
    """What ``find_neighbours`` returns: the ``neighbours`` both ways, what ran (``knn``, for a sidecar), and the
    ``checkpoint`` used (``None`` without a checkpoint folder) and whether it resumed."""

    neighbours: Neighbours
    knn: dict[str, Any]
    checkpoint: KnnCheckpoint | None

    @property
    def resumed(self) -> bool:
        """Whether finished blocks of an interrupted run were reused."""
        return self.checkpoint is not None and self.checkpoint.resumed


def check_center(center: str) -> None:
    """RxError for a ``--center`` value other than none or language."""
    if center not in CENTER_CHOICES:
        raise RxError(f"--center {center!r}: choose none or language")


def check_approximate(options: MiningOptions, counts: tuple[int, int], dimension: int) -> None:
    """RxError when the approximate index of ``options`` cannot be trained on sides of ``counts`` rows (call it
    before encoding, so a bad choice fails before the model runs). Nothing to check for the exact k-NN."""
    if not options.exact:
        params = IndexParams.from_options(options.index)
        for count in counts:
            check_trainable(params.resolved(count, dimension), count, dimension)


def find_neighbours(
    x: VectorSet,
    y: VectorSet,
    options: MiningOptions,
    checkpoint_folder: Path | None = None,
    identity: dict[str, Any] | None = None,
    desc: str | None = None,
) -> FoundNeighbours:
    """The ``options.k`` nearest neighbours of every row of ``x`` among ``y`` and of ``y`` among ``x``.

    ``center="language"`` first removes each side's mean vector (estimated from that side). An exact ``index``
    (``flat``): the blockwise k-NN, in blocks sized for ``max_memory``, on Ray with ``ray`` (``"local"`` or an
    address); another: FAISS's approximate search. ``checkpoint_folder``: the exact k-NN saves each block there
    and resumes an interrupted run (``identity`` names the inputs, so another job's folder is refused). ``desc``
    shows a progress bar; what runs is logged."""
    check_center(options.center)
    if options.k is None:
        raise RxError("mining options must be resolved (k unset): call MiningOptions.resolved first")
    k = options.k
    if options.center == "language":
        x, y = CenteredVectors(x, mean_vector(x)), CenteredVectors(y, mean_vector(y))
    n_x, n_y, dimension = len(x), len(y), x.dimension
    if options.ray is not None and not options.exact:
        raise RxError("--ray distributes the exact k-NN (--index-type flat); an approximate index runs in one process")
    block_rows = plan_block_rows(parse_size(options.max_memory), n_x, n_y, dimension, k)
    device = options.device or default_device()
    if not options.exact:
        check_approximate(options, (n_x, n_y), dimension)
        index = IndexParams.from_options(options.index)
        logger.info(
            f"approximate k-NN: {index.resolved(n_y, dimension).factory_string()} over the target side, "
            f"{index.resolved(n_x, dimension).factory_string()} over the source side"
        )
        neighbours, info = knn_approximate(x, y, k, index, block_rows=block_rows, desc=desc)
        return FoundNeighbours(neighbours, info, None)
    checkpoint = None
    if checkpoint_folder is not None:
        settings = {"k": k, "block_rows": block_rows, "device": device, "center": options.center, "index": "exact"}
        checkpoint = KnnCheckpoint(checkpoint_folder, {**(identity or {}), **settings})
        if checkpoint.resumed:
            logger.info(
                f"resuming the k-NN from {checkpoint.folder} ({checkpoint.blocks_done} block(s) of "
                f"{-(-n_x // block_rows)} done)"
            )
    runner = ray_block_runner(x, y, k, block_rows, device, options.ray) if options.ray is not None else None
    neighbours = knn_both_ways(
        x,
        y,
        k,
        block_rows,
        checkpoint,
        device,
        desc=desc and f"{desc} both directions (exact, blocks of {block_rows})",
        runner=runner,
    )
    info = {
        "kind": "exact",
        "method": "blockwise matmul + top-k, both directions from one product",
        "block_rows": block_rows,
        "device": device,
        "ray": options.ray,
    }
    return FoundNeighbours(neighbours, info, checkpoint)
