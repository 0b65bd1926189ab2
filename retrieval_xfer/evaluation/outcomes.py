"""Per-example outcomes beside a result file, so a score can be recomputed on a resample (``rx eval``'s intervals,
``rx compare``'s paired deltas) long after the run.

A result ``X.json`` whose evaluator kept them has ``X.outcomes.npz`` beside it: one array of unit rows per metric and
group (``"<metric>/<group>"``, e.g. ``"en2xx/de"``: one row per query, columns as ``bootstrap.STATISTICS`` names
them) plus whatever else the evaluator stores for error analysis (Tatoeba's retrieved ids, ``"ids/en2xx/de"``).
Units are matched between two results of the same data by position (Tatoeba's queries), or by key where each
result has its own set of units (``"keys/<group>"``: BUCC's F1 units are its gold and predicted pairs; a pair one
result lacks is, for it, neither gold nor predicted: a row of zeros).
The result's ``outcomes`` block names the file, its SHA-256 and each metric's statistic. An evaluator hands them to
``write_results`` under ``OUTCOMES_KEY`` (arrays never reach the JSON). A result from before rx kept outcomes
loads as it always did: it has no intervals.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from retrieval_xfer.errors import RxError
from retrieval_xfer.evaluation.bootstrap import Units

OUTCOMES_KEY = "_outcomes"  # payload key of the arrays an evaluator kept; write_results moves them to the .npz
UNIT_KEYS = "keys"  # arrays "keys/<group>": each unit's key, when two results' units are matched by key
SUFFIX = ".outcomes.npz"


def outcomes_path(result_path: Path) -> Path:
    """``X.outcomes.npz`` beside the result ``X.json``."""
    result_path = Path(result_path)
    return result_path.with_name(result_path.stem + SUFFIX)


def encode_outcomes(arrays: dict[str, np.ndarray]) -> tuple[bytes, str]:
    """The compressed ``.npz`` bytes of ``arrays`` and their SHA-256."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    data = buffer.getvalue()
    return data, hashlib.sha256(data).hexdigest()


def unit_arrays(metric: str, units: dict[str, Units]) -> dict[str, np.ndarray]:
    """``units`` of ``metric`` per group as the arrays an outcomes file holds."""
    return {f"{metric}/{group}": one.rows for group, one in units.items()}


@dataclass(frozen=True)
class GroupUnits:
    """One group's units of one metric, and their keys (None: matched by position)."""

    units: Units
    keys: np.ndarray | None


def read_units(result_path: Path, result: dict[str, Any], metric: str) -> dict[str, GroupUnits] | None:
    """The units of ``metric`` per group from the outcomes file of the result at ``result_path``, or None when the
    result has none (a file written before rx kept outcomes). RxError naming the file when it is missing, altered
    since the result was written, or unreadable."""
    record = result.get("outcomes")
    if not record or metric not in record.get("metrics", {}):
        return None
    path = Path(result_path).with_name(record["file"])
    try:
        data = path.read_bytes()
    except OSError:
        raise RxError(f"{path}: the outcomes file {result_path} names is missing") from None
    if hashlib.sha256(data).hexdigest() != record.get("sha256"):
        raise RxError(f"{path}: does not match the SHA-256 {result_path} recorded (altered or replaced)")
    statistic = record["metrics"][metric]
    try:
        with np.load(io.BytesIO(data)) as arrays:
            groups = [name.split("/", 1)[1] for name in arrays.files if name.startswith(f"{metric}/")]
            return {
                group: GroupUnits(
                    Units(statistic, arrays[f"{metric}/{group}"]),
                    arrays[f"{UNIT_KEYS}/{group}"] if f"{UNIT_KEYS}/{group}" in arrays.files else None,
                )
                for group in groups
            }
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as err:
        raise RxError(f"{path}: unreadable outcomes file ({err})") from None
