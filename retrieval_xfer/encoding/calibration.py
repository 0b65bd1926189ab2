"""The sentences static int8 quantisation calibrates on: a ``--calibration-file`` or a sample of the user's corpus.

Never the hub: activations are calibrated on text like the text that will be encoded. ``Calibration.describe``
is what index, export and result metadata record (sample size, and the file's hash or the corpus sample's hash).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from retrieval_xfer.errors import RxError

MIN_CALIBRATION = 50  # fewer sentences give unstable activation ranges
DEFAULT_CALIBRATION = 300  # NNCF's default subset size
SEED = 0


@dataclass(frozen=True)
class Calibration:
    """The calibration sentences and where they came from (``origin``: a file path, or ``corpus sample``)."""

    sentences: tuple[str, ...]
    origin: str
    sha256: str

    def describe(self) -> str:
        """One line for metadata: ``300 sentences of <origin> (sha256 <12 hex>…)``."""
        return f"{len(self.sentences)} sentences of {self.origin} (sha256 {self.sha256[:12]}…)"


def _sample(sentences: Sequence[str], size: int) -> tuple[str, ...]:
    chosen = sorted(random.Random(SEED).sample(range(len(sentences)), min(size, len(sentences))))
    return tuple(sentences[i] for i in chosen)


def read_calibration_file(path: Path, size: int = DEFAULT_CALIBRATION) -> Calibration:
    """A seeded sample of ``size`` non-blank lines of ``path`` (UTF-8, one sentence per line); RxError naming the
    file when it is missing, undecodable, empty or shorter than ``MIN_CALIBRATION`` sentences."""
    path = Path(path)
    if not path.is_file():
        raise RxError(f"{path}: no such calibration file")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise RxError(f"{path}:{line}: calibration file is not valid UTF-8 (byte 0x{raw[err.start]:02x})") from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise RxError(f"{path}: calibration file has no sentences")
    if len(lines) < MIN_CALIBRATION:
        raise RxError(
            f"{path}: calibration file has {len(lines)} sentences; int8 calibration needs at least {MIN_CALIBRATION}"
        )
    return Calibration(_sample(lines, size), str(path), hashlib.sha256(raw).hexdigest())


def sample_corpus(sentences: Sequence[str], size: int = DEFAULT_CALIBRATION) -> Calibration:
    """A seeded sample of the sentences about to be encoded; RxError when there are too few to calibrate on."""
    usable = [s for s in sentences if s.strip()]
    if len(usable) < MIN_CALIBRATION:
        raise RxError(
            f"int8 calibration needs at least {MIN_CALIBRATION} sentences and this input has {len(usable)}; "
            "pass --calibration-file with sentences like the ones you encode"
        )
    sample = _sample(usable, size)
    return Calibration(sample, "a corpus sample", hashlib.sha256("\n".join(sample).encode()).hexdigest())
