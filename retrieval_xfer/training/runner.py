"""One training phase: English intermediate task(s) or a target task, on one shared encoder.

``train(config)`` reads each task's data (local file or hub), builds the encoder and one head per task,
trains with sentence-transformers' trainer (one task per batch, a chosen sampler), and writes a run folder.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from datasets import Dataset, DatasetDict
from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments
from sentence_transformers.sentence_transformer.evaluation import SentenceEvaluator
from transformers import TrainerCallback

from retrieval_xfer.data.cards import TaskCard, list_cards, load_card, make_card
from retrieval_xfer.data.task_data import TaskData, read_task_file, read_task_hub
from retrieval_xfer.data.text_files import read_corpus
from retrieval_xfer.encoding.loader import mean_pooling_pipeline
from retrieval_xfer.encoding.precision import PRECISION_CHOICES, PrecisionChoice, choose_precision
from retrieval_xfer.encoding.source import resolve_model
from retrieval_xfer.errors import RxError
from retrieval_xfer.json_file import read_json_object
from retrieval_xfer.modeling.collator import MultiTaskCollator
from retrieval_xfer.modeling.features import build_rows, label_list
from retrieval_xfer.modeling.heads import HEADS, TaskHead, read_head_config
from retrieval_xfer.modeling.run_folder import (
    CHECKPOINT_STATE,
    CHECKPOINTS_DIR,
    EVAL_LOG,
    HEADS_DIR,
    LOSS_LOG,
    check_checkpoint_files,
    checkpoints,
    latest_checkpoint,
    read_run,
    unstarted_run,
    write_run,
)
from retrieval_xfer.output_lock import hold_output_lock
from retrieval_xfer.provenance import file_sha256, git_commit, now_iso
from retrieval_xfer.training.callbacks import (
    CheckpointState,
    EvaluationLog,
    NoFinalCheckpoint,
    SaveHeadsCallback,
    TaskLossLog,
    keep_steps_up_to,
)
from retrieval_xfer.training.config import SAMPLERS, TrainConfig
from retrieval_xfer.training.distributed import (
    HeadGradientSync,
    RankSlice,
    barrier,
    is_main_process,
    rank,
    world_size,
)
from retrieval_xfer.training.samplers import batch_sampler
from retrieval_xfer.version import __version__

MLM_TASK = "mlm"
MLM_CARD = make_card(
    {
        "name": MLM_TASK,
        "kind": "intermediate",
        "format": "masked-lm",
        "head": "masked-lm",
        "metric": "loss",
        "max_length": 128,
        "sources": {},
    },
    "the masked-LM task of --mlm-file",
)


class _Trainer(SentenceTransformerTrainer):
    """The sentence-transformers trainer without its model-card step (it fails on non-text columns), counting the
    examples of each task, and, with several ranks, giving every rank the same task per step (see
    ``training.distributed``)."""

    def __init__(self, *args: Any, state: CheckpointState, **kwargs: Any) -> None:
        self.rx_state = state
        super().__init__(*args, **kwargs)

    def add_model_card_callback(self, default_args_dict: dict[str, Any]) -> None:
        return None

    def get_batch_sampler(self, dataset, batch_size: int, *args: Any, **kwargs: Any):
        """Each task's sampler draws global batches (``batch_size`` per rank x ranks)."""
        return super().get_batch_sampler(dataset, batch_size * world_size(), *args, **kwargs)

    def get_multi_dataset_batch_sampler(self, *args: Any, **kwargs: Any):
        sampler = super().get_multi_dataset_batch_sampler(*args, **kwargs)
        return RankSlice(sampler, rank(), world_size()) if world_size() > 1 else sampler

    def get_train_dataloader(self):
        if world_size() == 1:
            return super().get_train_dataloader()
        from accelerate.data_loader import prepare_data_loader

        # RankSlice already gives this rank its part: accelerate only moves batches to the device, never re-shards
        loader = self._build_dataloader(self.train_dataset, self.args.train_batch_size, dataset_kind="train")
        self._train_dataloader = prepare_data_loader(
            loader, self.accelerator.device, num_processes=1, process_index=0, put_on_device=True, even_batches=False
        )
        return self._train_dataloader

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if model.training and inputs.get("dataset_name"):
            self.rx_state.count(inputs["dataset_name"], _batch_examples(inputs))
        return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)


def _batch_examples(inputs: dict[str, Any]) -> int:
    """Examples in a collated batch: the rows of its label tensor (one row per example in every format)."""
    return int(inputs["label"].shape[0])


def trainable_tasks() -> list[str]:
    """Names of the cards that can be trained (intermediate, target and component tasks)."""
    return [c.name for c in list_cards() if c.kind in ("intermediate", "target", "component")]


def _card(name: str) -> TaskCard:
    valid = trainable_tasks()
    if name not in valid:
        raise RxError(f"unknown task {name!r}; trainable tasks: {', '.join(valid)}")
    return load_card(name)


def load_task_data(config: TrainConfig) -> dict[str, tuple[dict[str, Any], TaskData]]:
    """Read the training data of every task (and of the MLM corpus); RxError for unknown tasks or bad files."""
    unknown_files = set(config.train_files) - set(config.tasks)
    if unknown_files:
        raise RxError(f"--train-file for {', '.join(sorted(unknown_files))}, which is not in --tasks")
    data = {}
    for name in config.tasks:
        card = _card(name)
        if name in config.train_files:
            data[name] = (card, read_task_file(card, Path(config.train_files[name]), config.limit))
        else:
            data[name] = (card, read_task_hub(card, "train", config.limit))
    if config.mlm_file:
        _, texts = read_corpus(Path(config.mlm_file), blank="skip")
        texts = texts[: config.limit] if config.limit else texts
        data[MLM_TASK] = (MLM_CARD, TaskData(MLM_TASK, "masked-lm", [{"text": t} for t in texts], config.mlm_file))
    return data


def build_encoder(config: TrainConfig) -> SentenceTransformer:
    """The shared encoder: from ``--init`` (a run), a sentence-transformers folder, or a transformers model
    (then Transformer → mean pooling → L2 normalisation, so the run folder is a complete ST model)."""
    if config.init:
        read_run(config.init)
        return SentenceTransformer(str(config.init), device="cpu")
    source = resolve_model(config.base)
    if source.is_sentence_transformer:
        return SentenceTransformer(str(source.folder), device="cpu")
    return SentenceTransformer(modules=mean_pooling_pipeline(source), device="cpu")


def _head_config(card: TaskCard, labels: list[str]) -> dict[str, Any]:
    if card.format == "multiple-choice":
        return {"num_choices": card.num_choices}
    return {"labels": labels} if labels else {}


def build_heads(
    model: SentenceTransformer, data: dict[str, tuple[dict, TaskData]], init: Path | None
) -> dict[str, TaskHead]:
    """One head per task; a head saved in the ``--init`` run for the same task and labels is reused."""
    heads = {}
    for name, (card, task_data) in data.items():
        head = HEADS[card.head](model, _head_config(card, label_list(card, task_data.examples)))
        saved = Path(init) / HEADS_DIR / name if init else None
        if saved is not None and saved.is_dir():
            saved_config = read_head_config(saved)["config"]
            if saved_config.get("labels") == head.config.get("labels"):
                head.load_weights(saved)
        heads[name] = head
    return heads


def _datasets(
    config: TrainConfig, model: SentenceTransformer, data: dict[str, tuple[dict, TaskData]], heads: dict[str, TaskHead]
) -> tuple[DatasetDict, dict[str, str], dict[str, int]]:
    tokenizer = model[0].tokenizer
    sets, formats, sizes = {}, {}, {}
    for name, (card, task_data) in data.items():
        max_length = config.max_length or card.max_length
        rows = build_rows(card, task_data.examples, heads[name].config.get("labels", []), tokenizer, max_length)
        if config.max_examples_per_task:
            rows = rows[: config.max_examples_per_task]
        sets[name] = Dataset.from_list(rows)
        formats[name] = card.format
        sizes[name] = len(rows)
    return DatasetDict(sets), formats, sizes


@dataclass
class TrainResult:
    """What a phase produced: ``run`` (the content of ``run.json``), the trained encoder and its heads."""

    run: dict[str, Any]
    model: SentenceTransformer
    heads: dict[str, TaskHead]


@dataclass
class _Phase:
    """A training phase ready to run: its settings, run folder, data, encoder, heads and tokenized datasets, and
    the checkpoint it resumes (with the rx state saved beside it, and what a checkpoint must have been made with)."""

    config: TrainConfig
    out: Path
    data: dict[str, tuple[TaskCard, TaskData]]
    model: SentenceTransformer
    heads: dict[str, TaskHead]
    datasets: DatasetDict
    formats: dict[str, str]
    sizes: dict[str, int]
    checkpoint: Path | None
    resumed: dict[str, Any]
    settings: dict[str, Any]


def train(
    config: TrainConfig, evaluator: SentenceEvaluator | None = None, callbacks: Sequence[TrainerCallback] = ()
) -> TrainResult:
    """Run one training phase and write ``config.out`` as a run folder (see ``modeling.run_folder``).

    ``evaluator`` (e.g. ``evaluation.tatoeba_during_training.TatoebaDuringTraining``) is run by the trainer every
    ``config.eval_every`` steps; its numbers go to the trainer's logs, ``eval_log.jsonl`` and ``run.json``.
    ``callbacks`` are extra transformers ``TrainerCallback``s (early stopping, timers, loggers).
    """
    checkpoint = _check_before_reading(config, evaluator)
    phase = _prepare(config, checkpoint)
    out = phase.out
    if checkpoint is None and is_main_process() and unstarted_run(out):  # stopped before its first checkpoint
        shutil.rmtree(out)  # so it starts again
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        with hold_output_lock(out) if is_main_process() else contextlib.nullcontext():  # one run per folder
            return _run_trainer(phase, evaluator, list(callbacks))
    except BaseException:
        if created and is_main_process() and latest_checkpoint(out) is None:  # nothing resumable:
            shutil.rmtree(out, ignore_errors=True)  # leave no half-written folder
        raise


def _check_before_reading(config: TrainConfig, evaluator: SentenceEvaluator | None) -> Path | None:
    """RxError in one line, before any data is read, for settings that cannot run; returns the checkpoint a
    ``resume`` continues from (None: a new run)."""
    if bool(config.base) == bool(config.init):
        raise RxError("give exactly one of --base (a model) or --init (a previous run)")
    if config.sampling not in SAMPLERS:
        raise RxError(f"--sampling {config.sampling!r}: choose one of {', '.join(SAMPLERS)}")
    mixed_precision(config.precision)
    out = Path(config.out)
    checkpoint = latest_checkpoint(out) if config.resume else None
    if config.resume and checkpoint is None and not unstarted_run(out):
        raise RxError(f"{out}: nothing to resume (no checkpoint under {out / CHECKPOINTS_DIR})")
    if not config.resume and out.exists() and any(out.iterdir()) and not unstarted_run(out):
        raise RxError(f"{out}: already exists; choose another --out, or pass --resume to continue an interrupted run")
    for name in config.tasks:
        _card(name)  # unknown names fail before any data is read
    if config.init:
        read_run(config.init)
    if config.eval_every and evaluator is None:
        raise RxError("--eval-every needs an evaluator (rx train builds one from --eval-data, a Tatoeba folder)")
    return checkpoint


def _prepare(config: TrainConfig, checkpoint: Path | None) -> _Phase:
    """Read the data, build the encoder and the heads (from ``checkpoint`` when resuming) and tokenize; RxError
    when a checkpoint was made with other settings or there are more processes than a task has examples."""
    settings = resume_settings(config)
    if checkpoint is not None:
        check_checkpoint_files(checkpoint)
    resumed = _checkpoint_state(checkpoint, settings) if checkpoint is not None else {}
    data = load_task_data(config)
    torch.manual_seed(config.seed)
    model = build_encoder(config)
    heads = build_heads(model, data, config.init)
    if checkpoint is not None:
        for name, head in heads.items():
            head.load_weights(checkpoint / HEADS_DIR / name)
    datasets, formats, sizes = _datasets(config, model, data, heads)
    if world_size() > min(sizes.values()):
        smallest = min(sizes, key=sizes.get)
        raise RxError(
            f"{world_size()} processes but task {smallest} has only {sizes[smallest]} training example(s): "
            f"use at most {sizes[smallest]} processes (--nproc_per_node)"
        )
    out = Path(config.out)
    return _Phase(config, out, data, model, heads, datasets, formats, sizes, checkpoint, resumed, settings)


# Settings that change nothing a run computes: they may differ on resume.
_FREE_ON_RESUME = ("out", "quiet", "resume", "report_to", "dataloader_workers", "logging_steps", "save_steps")


def resume_settings(config: TrainConfig) -> dict[str, Any]:
    """What a checkpoint must have been made with to be resumed under ``config``: every setting that changes the
    computation, and the SHA-256 of each local training file (a file edited in place is a changed setting)."""
    settings = {k: v for k, v in asdict(config).items() if k not in _FREE_ON_RESUME}
    settings = json.loads(json.dumps(settings, default=str))
    files = {**config.train_files, **({MLM_TASK: config.mlm_file} if config.mlm_file else {})}
    settings["file_sha256"] = {task: file_sha256(Path(f)) for task, f in sorted(files.items()) if Path(f).is_file()}
    return settings


def _checkpoint_state(checkpoint: Path, settings: dict[str, Any]) -> dict[str, Any]:
    """The rx state saved with ``checkpoint``; RxError naming the first setting that differs from ``settings``,
    or a number of processes other than the checkpoint's."""
    state = read_json_object(
        checkpoint / CHECKPOINT_STATE,
        "checkpoint state",
        missing=f"{checkpoint}: no {CHECKPOINT_STATE} (a checkpoint of an older rx): "
        "start the run again in a new --out",
    )
    saved = state.get("settings", {})
    for key in sorted(set(saved) | set(settings)):
        if saved.get(key) != settings.get(key):
            what = "training file" if key == "file_sha256" else f"--{key.replace('_', '-')}"
            raise RxError(
                f"{checkpoint}: made with another {what} ({saved.get(key)!r}, now {settings.get(key)!r}); "
                "resume with the same settings, or start a new --out"
            )
    if state.get("world_size", 1) != world_size():
        raise RxError(
            f"{checkpoint}: made with {state.get('world_size', 1)} process(es), now {world_size()}: resume "
            f"with the same number (the data order and optimizer state are per rank)"
        )
    return state


def training_precision(precision: str) -> PrecisionChoice:
    """What ``precision`` (a name or ``auto``) trains in on this machine, and why."""
    if precision not in PRECISION_CHOICES:
        raise RxError(f"--precision {precision!r}: choose one of {', '.join(PRECISION_CHOICES)}")
    if precision == "float16" and not torch.cuda.is_available():
        raise RxError("--precision float16 needs a GPU (loss scaling is CUDA-only); on a CPU use bfloat16 or float32")
    return choose_precision(precision, "cuda" if torch.cuda.is_available() else "cpu")


def mixed_precision(precision: str) -> dict[str, bool]:
    """The trainer's mixed-precision flags for ``precision``: float32 weights and optimizer state throughout,
    forward and backward autocast to bfloat16/float16 (float16 with loss scaling, on a GPU only)."""
    chosen = training_precision(precision).name
    return {"bf16": chosen == "bfloat16", "fp16": chosen == "float16"}


def _run_trainer(
    phase: _Phase, evaluator: SentenceEvaluator | None, extra_callbacks: list[TrainerCallback]
) -> TrainResult:
    """Train ``phase`` (resuming its checkpoint) and write its run folder: the encoder, the heads and run.json."""
    config, out = phase.config, phase.out
    if phase.checkpoint is not None and is_main_process():
        _forget_after(phase.checkpoint, out)
    loss_log = TaskLossLog(phase.heads, out / LOSS_LOG, phase.resumed.get("losses"))
    eval_log = EvaluationLog(out / EVAL_LOG, phase.resumed.get("evaluations"))
    state = CheckpointState(phase.settings, loss_log, eval_log, phase.resumed.get("examples_seen"))
    callbacks = [
        SaveHeadsCallback(phase.heads),
        loss_log,
        eval_log,
        HeadGradientSync(phase.heads),
        *extra_callbacks,
        state,
        NoFinalCheckpoint(),
    ]
    evaluate = bool(config.eval_every and evaluator is not None)
    trainer = _Trainer(
        model=phase.model,
        args=_training_arguments(config, out, evaluate),
        train_dataset=phase.datasets,
        loss=phase.heads,
        data_collator=MultiTaskCollator(phase.model[0].tokenizer, phase.formats),
        evaluator=MainProcessEvaluator(evaluator) if evaluate else None,
        callbacks=callbacks,
        state=state,
    )
    tic = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=str(phase.checkpoint) if phase.checkpoint else None)
    run = {
        **_run_record(phase, state.examples_seen()),
        "steps": trainer.state.global_step,
        "train_loss": result.training_loss,
        "losses": loss_log.history,
        "evaluations": eval_log.history,
        "train_seconds": time.perf_counter() - tic,
    }
    if is_main_process():
        phase.model.save(str(out))
        for name, head in phase.heads.items():
            head.save(out / HEADS_DIR / name)
        write_run(out, run)
        shutil.rmtree(out / CHECKPOINTS_DIR, ignore_errors=True)
    barrier()  # no rank returns before the run folder is complete
    return TrainResult(run, phase.model, phase.heads)


def _forget_after(checkpoint: Path, out: Path) -> None:
    """Remove what was logged or saved after ``checkpoint``: those steps are trained again."""
    step = int(checkpoint.name.split("-")[1])
    for later_step, folder, _ in checkpoints(out):
        if later_step > step:  # incomplete (a kill while it was written): its step is trained again
            shutil.rmtree(folder)
    keep_steps_up_to(out / LOSS_LOG, step)
    keep_steps_up_to(out / EVAL_LOG, step)


def _training_arguments(config: TrainConfig, out: Path, evaluate: bool) -> SentenceTransformerTrainingArguments:
    """The trainer's arguments for ``config`` (checkpoints under ``out``; evaluation steps when ``evaluate``)."""
    with _quiet_logger("sentence_transformers.base.training_args"):  # its drop_last advice is undone below
        args = SentenceTransformerTrainingArguments(
            output_dir=str(out / CHECKPOINTS_DIR),
            per_device_train_batch_size=config.batch_size,
            gradient_accumulation_steps=config.grad_accum,
            learning_rate=config.lr,
            num_train_epochs=config.epochs,
            max_steps=config.max_steps,
            warmup_steps=config.warmup,
            seed=config.seed,
            data_seed=config.seed,
            logging_steps=config.logging_steps,
            save_strategy="steps",
            save_steps=config.save_steps,
            report_to=config.report_to,
            use_cpu=not torch.cuda.is_available(),
            dataloader_num_workers=config.dataloader_workers,
            disable_tqdm=config.quiet or not is_main_process(),
            multi_dataset_batch_sampler=batch_sampler(config.sampling, config.temperature),
            eval_strategy="steps" if evaluate else "no",
            eval_steps=config.eval_every if evaluate else None,
            **mixed_precision(config.precision),
        )
    args.dataloader_drop_last = False  # RankSlice gives every rank a part of every batch: no rank waits, none dropped
    return args


def _run_record(phase: _Phase, examples_seen: dict[str, int]) -> dict[str, Any]:
    """What run.json says of ``phase`` besides the training's outcome: provenance, tasks, sampler, settings."""
    config = phase.config
    return {
        "rx_version": __version__,
        "git_commit": git_commit(),
        "created_at": now_iso(),
        "base_model": config.base or read_run(config.init)["base_model"],
        "init": str(config.init or ""),
        "tasks": {
            name: {
                "format": card.format,
                "head": card.head,
                "examples": len(d.examples),
                "rows": phase.sizes[name],
                "source": d.source,
                "skipped": dict(d.skipped),
                "labels": phase.heads[name].config.get("labels"),
                "examples_seen": examples_seen.get(name, 0),
            }
            for name, (card, d) in phase.data.items()
        },
        "sampler": {
            "name": config.sampling,
            "temperature": config.temperature if config.sampling == "temperature" else None,
        },
        "hyperparameters": {k: v for k, v in asdict(config).items() if k not in ("tasks", "out", "quiet", "resume")},
        "distributed": {
            "world_size": world_size(),
            "batch_size_per_device": config.batch_size,
            "global_batch": config.batch_size * world_size() * config.grad_accum,
        },
        "seed": config.seed,
        "precision": dataclasses.asdict(training_precision(config.precision)),
    }


@contextlib.contextmanager
def _quiet_logger(name: str) -> Iterator[None]:
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


class MainProcessEvaluator(SentenceEvaluator):
    """Runs ``evaluator`` on the main process only (the other ranks return no metrics and go on to the next
    step, where they wait for it), as sentence-transformers recommends for data-parallel training."""

    def __init__(self, evaluator: SentenceEvaluator) -> None:
        super().__init__()
        self.evaluator = evaluator
        self.primary_metric = getattr(evaluator, "primary_metric", None)
        self.greater_is_better = getattr(evaluator, "greater_is_better", True)

    def __call__(
        self, model: SentenceTransformer, output_path: str | None = None, epoch: float = -1, steps: int = -1
    ) -> dict[str, float]:
        return self.evaluator(model, output_path, epoch, steps) if is_main_process() else {}
