"""The entry point of one data-parallel training step of ``rx experiment --ray`` (a step given several GPUs):
``torchrun --nproc_per_node N -m retrieval_xfer.experiment.distributed_step CONFIG.json`` trains the
``TrainConfig`` saved in ``CONFIG.json`` on every process, as ``rx train`` would."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from retrieval_xfer.errors import RxError
from retrieval_xfer.training.config import TrainConfig
from retrieval_xfer.workflows.train import train_phase


def load_config(path: Path) -> TrainConfig:
    """The ``TrainConfig`` written by the Ray executor (paths back to ``Path``)."""
    values = json.loads(Path(path).read_text(encoding="utf-8"))
    values["out"] = Path(values["out"])
    values["init"] = Path(values["init"]) if values.get("init") else None
    return TrainConfig(**values)


def main(argv: list[str]) -> int:
    """Train the configuration named by ``argv[0]``; 1 with a one-line error on bad input."""
    try:
        train_phase(load_config(Path(argv[0])))
    except RxError as err:
        print(f"Error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
