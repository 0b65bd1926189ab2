"""Speeds measured on this machine (``rx calibrate-speed``), cached in one JSON file per user.

The file records the machine it was measured on (``retrieval_xfer.machine.machine_fingerprint``: CPU model, a hash
of its flags, usable cores). A cache from another machine, or one this version cannot read, is ignored (and logged):
its speeds say nothing about this one. Encoder speeds are kept per encoder configuration (``encoder_key``), the
k-NN speeds once per machine.

Location: ``$RX_SPEED_CACHE``, else ``~/.cache/retrieval_xfer/speed.json``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from retrieval_xfer.atomic import atomic_write_json
from retrieval_xfer.machine import machine_fingerprint

logger = logging.getLogger(__name__)
FORMAT = 1


def cache_path() -> Path:
    """``$RX_SPEED_CACHE``, else ``~/.cache/retrieval_xfer/speed.json``."""
    return Path(os.environ.get("RX_SPEED_CACHE") or Path.home() / ".cache" / "retrieval_xfer" / "speed.json")


@dataclass
class KnnSpeeds:
    """The k-NN's speeds here on ``threads`` threads: ``exact_gflops`` (useful flops of rx's blockwise k-NN,
    both directions from one product: 2·n_x·n_y·d per second), ``gemm_gflops`` (faiss's flat inner-product
    search, what k-means and the IVF cell assignment run), ``scan_vectors_per_s`` (IVF-Flat vectors of
    ``scan_dimension`` compared per second while searching a database larger than the caches) and
    ``pq_scan_codes_per_s`` (the same for PQ codes of ``pq_bytes`` bytes)."""

    exact_gflops: float
    gemm_gflops: float
    scan_vectors_per_s: float
    scan_dimension: int
    pq_scan_codes_per_s: float
    pq_bytes: int
    threads: int


@dataclass
class EncoderSpeed:
    """One encoder configuration's speed here: non-padding tokens per second with 1 thread (what one Ray actor
    of one CPU runs) and with all ``threads``, and the seconds to load the model (what each actor pays once).
    ``label`` says which encoder it is, for people reading the cache."""

    tokens_per_s_one_thread: float
    tokens_per_s_all_threads: float
    threads: int
    load_seconds: float
    label: str


@dataclass
class SpeedCache:
    """The speeds measured on ``machine``: the k-NN's (``None`` until measured) and each encoder's."""

    machine: dict[str, Any] = field(default_factory=machine_fingerprint)
    knn: KnnSpeeds | None = None
    encoders: dict[str, EncoderSpeed] = field(default_factory=dict)

    def save(self, path: Path | None = None) -> Path:
        """Write the cache (atomically) to ``path`` or ``cache_path()``; returns where."""
        path = path or cache_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(path, {"format": FORMAT, **asdict(self)})
        return path


def encoder_key(configuration: dict[str, Any]) -> str:
    """The cache key of an encoder ``configuration`` (JSON-ready: what its speed depends on), hashed."""
    return hashlib.sha256(json.dumps(configuration, sort_keys=True).encode()).hexdigest()[:20]


def load_speeds(path: Path | None = None) -> SpeedCache:
    """The cached speeds of this machine, or an empty cache when there are none, they were measured on another
    machine (CPU model, flags or core count differ), or the file cannot be read (each logged)."""
    path = path or cache_path()
    here = machine_fingerprint()
    if not path.is_file():
        return SpeedCache(machine=here)
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        if stored.get("format") != FORMAT:
            raise ValueError(f"format {stored.get('format')!r}")
        if stored.get("machine") != here:
            logger.info(f"{path}: speeds measured on another machine ({stored.get('machine')}); measuring again")
            return SpeedCache(machine=here)
        knn = KnnSpeeds(**stored["knn"]) if stored.get("knn") else None
        encoders = {key: EncoderSpeed(**value) for key, value in stored.get("encoders", {}).items()}
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as err:
        logger.warning(f"{path}: unreadable speed cache ({err}); measuring again")
        return SpeedCache(machine=here)
    return SpeedCache(machine=here, knn=knn, encoders=encoders)
