"""Checkpoints of a long k-NN: one file per finished block of queries and the running state of the other
direction, written atomically, so a killed job resumes after its last block and ends as if never stopped.

Layout of a checkpoint folder::

    state.json          the job's fingerprint (inputs and settings)
    block-000000.npz    top-k similarities and ids of the first block of x
    y-state.npz         the running top-k of every row of y and the number of blocks of x it includes

``y-state.npz`` is renamed into place after the block file it counts, so its count is the commit point: a kill
at any moment leaves either the old state (the new block is redone) or the new one.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from retrieval_xfer.atomic import atomic_write_file, atomic_write_json
from retrieval_xfer.errors import RxError

STATE_FILE, Y_STATE_FILE = "state.json", "y-state.npz"


def _save_npz(path: Path, **arrays: np.ndarray) -> None:
    atomic_write_file(path, lambda f: np.savez(f, **arrays))


class KnnCheckpoint:
    """A checkpoint folder for one k-NN job identified by ``fingerprint`` (a JSON-ready dict).

    Opening a folder made for another fingerprint is refused (RxError naming the first field that differs):
    a changed input or setting is never mixed with earlier results."""

    def __init__(self, folder: Path, fingerprint: dict[str, Any]) -> None:
        self.folder = Path(folder)
        self.fingerprint = fingerprint
        state_path = self.folder / STATE_FILE
        if state_path.is_file():
            try:
                state = json.loads(state_path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                raise RxError(f"{state_path}: corrupt checkpoint; delete {self.folder} to start again") from None
            for key in [*fingerprint, *(k for k in state.get("fingerprint", {}) if k not in fingerprint)]:
                if state["fingerprint"].get(key) != fingerprint.get(key):
                    raise RxError(
                        f"{self.folder}: a checkpoint of another job ({key} differs: it has "
                        f"{state['fingerprint'].get(key)!r}, this run {fingerprint.get(key)!r}); delete "
                        f"{self.folder} or use another --out"
                    )
        else:
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic_write_json(state_path, {"fingerprint": fingerprint})
        self.blocks_done = 0
        if (self.folder / Y_STATE_FILE).is_file():
            try:
                with np.load(self.folder / Y_STATE_FILE) as saved:
                    self.blocks_done = int(saved["blocks_done"])
            except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
                raise RxError(
                    f"{self.folder / Y_STATE_FILE}: corrupt checkpoint (truncated or damaged); delete "
                    f"{self.folder} to start again"
                ) from None
        self.found_blocks = self.blocks_done

    @property
    def resumed(self) -> bool:
        """Whether finished blocks of an earlier run were found when the folder was opened."""
        return self.found_blocks > 0

    def load(
        self, n_y: int, k_y: int
    ) -> tuple[list[tuple[np.ndarray, np.ndarray]], tuple[np.ndarray, np.ndarray] | None]:
        """The finished blocks of x (in order) and the saved state of y, or ``([], None)`` for a new job."""
        if not self.blocks_done:
            return [], None
        try:
            parts = []
            for number in range(self.blocks_done):
                with np.load(self.folder / f"block-{number:06d}.npz") as saved:
                    parts.append((saved["sims"], saved["ids"]))
            with np.load(self.folder / Y_STATE_FILE) as saved:
                y_state = (saved["sims"], saved["ids"])
        except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as err:
            raise RxError(
                f"{self.folder}: corrupt checkpoint ({type(err).__name__}); delete it to start again"
            ) from None
        if y_state[0].shape != (n_y, k_y):
            raise RxError(
                f"{self.folder}: corrupt checkpoint (state of shape {y_state[0].shape}, expected {(n_y, k_y)})"
            )
        return parts, y_state

    def save(self, number: int, x_part: tuple[np.ndarray, np.ndarray], y_state: tuple[np.ndarray, np.ndarray]) -> None:
        """Record block ``number`` of x and the state of y after it; the state file is renamed last."""
        _save_npz(self.folder / f"block-{number:06d}.npz", sims=x_part[0], ids=x_part[1])
        _save_npz(self.folder / Y_STATE_FILE, sims=y_state[0], ids=y_state[1], blocks_done=np.array(number + 1))
        self.blocks_done = number + 1
