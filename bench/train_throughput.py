"""Training throughput: rx's trainer (sentence-transformers, heads as losses) vs. a plain transformers Trainer.

Same encoder (the offline multilingual-e5-small unless RX_MODEL is set), same English XNLI data
(../shared/data/xtreme/xnli/dev-en.tsv), same batch size and max length, same number of steps, in one run:
  hf-trainer   AutoModelForSequenceClassification + transformers.Trainer + DataCollatorWithPadding
  rx-single    rx train on xnli_en alone (classification head as a loss)
  rx-multi     rx train on xnli_en + cosmosqa + panx_en + squad_en, proportional sampling (examples differ in cost:
               a CosmosQA example is 4 sequences, so its examples/s is not comparable one to one)
Prints examples/s of each (steady state: timed from the end of step --warm-steps to the end of training, so
start-up and the first steps' kernel selection are not counted) and the ratios rx-single / hf-trainer (goal ≥ 0.9)
and rx-multi / hf-trainer.

--precision bfloat16 trains both under bfloat16 autocast (transformers' bf16=True, rx train --precision bfloat16).

usage: python bench/train_throughput.py [--steps 40] [--batch-size 16] [--max-length 128] [--precision float32]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
from common import SHARED, machine, real_encoder
from datasets import Dataset
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)

from retrieval_xfer.data.cards import load_card
from retrieval_xfer.data.task_data import read_task_file
from retrieval_xfer.encoding.source import resolve_model
from retrieval_xfer.training.runner import TrainConfig, train

XNLI = SHARED / "data/xtreme/xnli/dev-en.tsv"
MULTI = {
    "xnli_en": XNLI,
    "cosmosqa": SHARED / "data/english/cosmosqa/valid.csv",
    "panx_en": SHARED / "data/xtreme/panx/train-en.tsv",
    "squad_en": SHARED / "data/xquad/xquad.en.json",
}


class SteadyRate(TrainerCallback):
    """Examples per second from the end of step ``warm`` to the end of training (device synchronised)."""

    def __init__(self, warm: int, batch: int) -> None:
        self.warm, self.batch, self.start, self.rate = warm, batch, 0.0, float("nan")

    @staticmethod
    def _now() -> float:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        return time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.warm:
            self.start = self._now()

    def on_train_end(self, args, state, control, **kwargs):
        self.rate = (state.global_step - self.warm) * self.batch / (self._now() - self.start)


def hf_trainer(model_dir: Path, steps: int, batch: int, max_length: int, out: Path, precision: str, warm: int) -> float:
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    labels = ["entailment", "neutral", "contradiction"]
    records = read_task_file(load_card("xnli_en"), XNLI).examples
    dataset = Dataset.from_list(
        [{"a": r["text_a"], "b": r["text_b"], "label": labels.index(r["label"])} for r in records]
    )
    dataset = dataset.map(
        lambda x: tokenizer(x["a"], x["b"], truncation=True, max_length=max_length),
        batched=True,
        remove_columns=["a", "b"],
    )
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=3)
    args = TrainingArguments(
        output_dir=str(out),
        per_device_train_batch_size=batch,
        max_steps=steps,
        learning_rate=2e-5,
        report_to="none",
        save_strategy="no",
        logging_strategy="no",
        use_cpu=not torch.cuda.is_available(),
        dataloader_num_workers=0,
        disable_tqdm=True,
        bf16=precision == "bfloat16",
        fp16=precision == "float16",
    )
    timer = SteadyRate(warm, batch)
    Trainer(
        model=model,
        args=args,
        train_dataset=dataset,
        data_collator=DataCollatorWithPadding(tokenizer),
        callbacks=[timer],
    ).train()
    return timer.rate


def rx_trainer(
    model: str,
    tasks: list[str],
    steps: int,
    batch: int,
    max_length: int,
    out: Path,
    precision: str,
    warm: int,
    workers: int,
) -> float:
    config = TrainConfig(
        tasks=tasks,
        out=out,
        base=model,
        train_files={t: str(MULTI[t]) for t in tasks},
        limit=2000,
        max_steps=steps,
        batch_size=batch,
        max_length=max_length,
        lr=2e-5,
        save_steps=10**9,
        logging_steps=10**9,
        quiet=True,
        precision=precision,
        dataloader_workers=workers,
    )
    timer = SteadyRate(warm, batch)
    train(config, callbacks=[timer])
    return timer.rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--precision", default="float32", choices=["float32", "bfloat16", "float16"])
    parser.add_argument("--warm-steps", type=int, default=5, help="steps run before the clock starts")
    parser.add_argument("--workers", type=int, default=0, help="rx train --dataloader-workers (tokenising processes)")
    args = parser.parse_args()
    model = real_encoder()
    transformer_dir = resolve_model(model).transformer_folder
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        hf = hf_trainer(
            transformer_dir, args.steps, args.batch_size, args.max_length, tmp / "hf", args.precision, args.warm_steps
        )
        single = rx_trainer(
            model,
            ["xnli_en"],
            args.steps,
            args.batch_size,
            args.max_length,
            tmp / "single",
            args.precision,
            args.warm_steps,
            args.workers,
        )
        multi = rx_trainer(
            model,
            list(MULTI),
            args.steps,
            args.batch_size,
            args.max_length,
            tmp / "multi",
            args.precision,
            args.warm_steps,
            args.workers,
        )
    print(f"machine: {machine()}")
    print(
        f"model: {model}; {args.steps} steps (clock from step {args.warm_steps}), batch {args.batch_size}, "
        f"max length {args.max_length}, {args.precision}, rx dataloader workers {args.workers}"
    )
    print(f"  hf-trainer (XNLI-en)                    {hf:7.2f} examples/s")
    print(f"  rx-single  (XNLI-en)                    {single:7.2f} examples/s   ratio {single / hf:.2f}")
    print(f"  rx-multi   (XNLI-en, CosmosQA, PAN-X, XQuAD-en) {multi:7.2f} examples/s   ratio {multi / hf:.2f}")


if __name__ == "__main__":
    main()
