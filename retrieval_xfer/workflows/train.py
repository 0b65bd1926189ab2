"""A training phase with Tatoeba evaluated while it trains (``rx train --eval-every``)."""

from __future__ import annotations

from pathlib import Path

from retrieval_xfer.errors import RxError
from retrieval_xfer.evaluation.tatoeba_during_training import TatoebaDuringTraining
from retrieval_xfer.training.config import TrainConfig
from retrieval_xfer.training.runner import TrainResult, train


def train_phase(config: TrainConfig) -> TrainResult:
    """Run ``training.train(config)``; with ``config.eval_every``, a ``TatoebaDuringTraining`` evaluator on
    ``config.eval_data`` (``eval_langs``, ``eval_layer``, ``eval_prompt``) goes with it. RxError when
    ``eval_every`` is given without ``eval_data``."""
    evaluator = None
    if config.eval_every:
        if not config.eval_data:
            raise RxError("--eval-every needs --eval-data, a folder of Tatoeba files (LASER layout)")
        evaluator = TatoebaDuringTraining(
            Path(config.eval_data), config.eval_langs, config.eval_layer, config.eval_prompt
        )
    return train(config, evaluator)
