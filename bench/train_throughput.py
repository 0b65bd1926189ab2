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
--full-length gives every XNLI example --max-length tokens (each premise joined with the next ones, then cut at
--max-length), the load of a real training run, where dynamic padding of the short dev pairs (about 40 tokens) is
too little work to keep a GPU busy. --repeats N alternates plain Trainer and rx-single N times (a GPU's rate moves
between runs) and reports each one's best. --profile DIR records the last --profile-steps steps of each trainer
(after its timed window) with torch.profiler: the time per step on the host and on the device, and the top
operators, written to DIR/<trainer>.txt.

usage: python bench/train_throughput.py [--steps 40] [--batch-size 16] [--max-length 128] [--precision float32]
       [--full-length] [--repeats 1] [--profile DIR]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from dataclasses import dataclass, field
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
    """Examples per second from the end of step ``warm`` to the end of step ``stop`` (device synchronised)."""

    def __init__(self, warm: int, stop: int, batch: int) -> None:
        self.warm, self.stop, self.batch, self.start, self.rate = warm, stop, batch, 0.0, float("nan")

    @staticmethod
    def _now() -> float:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        return time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.warm:
            self.start = self._now()
        if state.global_step == self.stop:
            self.rate = (self.stop - self.warm) * self.batch / (self._now() - self.start)


class StepProfile(TrainerCallback):
    """torch.profiler over the steps after ``start`` to the end of training; writes a summary and the top
    operators by host and by device time to ``path``, and keeps the summary line in ``summary``."""

    def __init__(self, start: int, path: Path) -> None:
        self.start, self.path, self.profiler, self.summary, self.wall = start, path, None, "", 0.0

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.start:
            activities = [torch.profiler.ProfilerActivity.CPU]
            if torch.cuda.is_available():
                activities.append(torch.profiler.ProfilerActivity.CUDA)
                torch.cuda.synchronize()
            self.profiler = torch.profiler.profile(activities=activities)
            self.profiler.__enter__()
            self.wall = time.perf_counter()

    def on_train_end(self, args, state, control, **kwargs):
        if self.profiler is None:
            return
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        wall = time.perf_counter() - self.wall
        self.profiler.__exit__(None, None, None)
        steps = state.global_step - self.start
        events = self.profiler.key_averages()
        device = sum(e.self_device_time_total for e in events) / 1e3 / steps  # ms per step, kernels only
        self.summary = f"{1e3 * wall / steps:.1f} ms/step wall, {device:.1f} ms/step of device kernels ({steps} steps)"
        tables = [
            events.table(sort_by="self_cpu_time_total", row_limit=25),
            events.table(sort_by="self_device_time_total", row_limit=25) if torch.cuda.is_available() else "",
        ]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(self.summary + "\n\n" + "\n\n".join(tables))


def full_length_xnli(out: Path) -> Path:
    """XNLI-en with each premise joined to the next 7 (about 8 x 20 tokens: longer than any --max-length up to
    128, so every example is cut to exactly --max-length tokens); same labels and hypotheses."""
    rows = list(csv.reader(XNLI.open(encoding="utf-8"), delimiter="\t", quoting=csv.QUOTE_NONE))
    premises = [r[0] for r in rows]
    with out.open("w", encoding="utf-8", newline="") as f:
        for i, (_, hypothesis, label) in enumerate(rows):
            f.write(" ".join(premises[i : i + 8] + premises[: max(0, i + 8 - len(premises))]) + "\t")
            f.write(f"{hypothesis}\t{label}\n")
    return out


@dataclass
class Load:
    """What every trainer of one run is given: the same steps, batch, lengths, precision and XNLI file."""

    steps: int
    batch: int
    max_length: int
    precision: str
    warm: int
    profile_steps: int
    xnli: Path
    profile_dir: Path | None
    profiles: dict[str, StepProfile] = field(default_factory=dict)  # by trainer name, when profiling

    def callbacks(self, name: str) -> tuple[SteadyRate, list[TrainerCallback]]:
        """The timer over steps warm..steps - profile_steps, and the profiler of the steps after it."""
        stop = self.steps - (self.profile_steps if self.profile_dir else 0)
        timer = SteadyRate(self.warm, stop, self.batch)
        if not self.profile_dir:
            return timer, [timer]
        profile = StepProfile(stop, self.profile_dir / f"{name}.txt")
        self.profiles[name] = profile
        return timer, [timer, profile]


def hf_trainer(model_dir: Path, load: Load, out: Path, name: str) -> float:
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    labels = ["entailment", "neutral", "contradiction"]
    records = read_task_file(load_card("xnli_en"), load.xnli).examples
    dataset = Dataset.from_list(
        [{"a": r["text_a"], "b": r["text_b"], "label": labels.index(r["label"])} for r in records]
    )
    dataset = dataset.map(
        lambda x: tokenizer(x["a"], x["b"], truncation=True, max_length=load.max_length),
        batched=True,
        remove_columns=["a", "b"],
    )
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=3)
    args = TrainingArguments(
        output_dir=str(out),
        per_device_train_batch_size=load.batch,
        max_steps=load.steps,
        learning_rate=2e-5,
        report_to="none",
        save_strategy="no",
        logging_strategy="no",
        use_cpu=not torch.cuda.is_available(),
        dataloader_num_workers=0,
        disable_tqdm=True,
        bf16=load.precision == "bfloat16",
        fp16=load.precision == "float16",
    )
    timer, callbacks = load.callbacks(name)
    Trainer(
        model=model,
        args=args,
        train_dataset=dataset,
        data_collator=DataCollatorWithPadding(tokenizer),
        callbacks=callbacks,
    ).train()
    return timer.rate


def rx_trainer(model: str, tasks: list[str], load: Load, out: Path, name: str, workers: int) -> float:
    config = TrainConfig(
        tasks=tasks,
        out=out,
        base=model,
        train_files={t: str(load.xnli if t == "xnli_en" else MULTI[t]) for t in tasks},
        limit=2000,
        max_steps=load.steps,
        batch_size=load.batch,
        max_length=load.max_length,
        lr=2e-5,
        save_steps=10**9,
        logging_steps=10**9,
        quiet=True,
        precision=load.precision,
        dataloader_workers=workers,
    )
    timer, callbacks = load.callbacks(name)
    train(config, callbacks=callbacks)
    return timer.rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--precision", default="float32", choices=["float32", "bfloat16", "float16"])
    parser.add_argument("--warm-steps", type=int, default=5, help="steps run before the clock starts")
    parser.add_argument("--workers", type=int, default=0, help="rx train --dataloader-workers (collating processes)")
    parser.add_argument("--full-length", action="store_true", help="every XNLI example --max-length tokens long")
    parser.add_argument("--repeats", type=int, default=1, help="plain Trainer and rx-single, alternated, N times")
    parser.add_argument("--profile", type=Path, help="folder for torch.profiler summaries of the last steps")
    parser.add_argument("--profile-steps", type=int, default=5, help="steps profiled after the timed window")
    args = parser.parse_args()
    model = real_encoder()
    transformer_dir = resolve_model(model).transformer_folder
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        xnli = full_length_xnli(tmp / "xnli-full.tsv") if args.full_length else XNLI
        load = Load(
            args.steps,
            args.batch_size,
            args.max_length,
            args.precision,
            args.warm_steps,
            args.profile_steps,
            xnli,
            args.profile,
        )
        hf, single = [], []
        for repeat in range(args.repeats):
            hf.append(hf_trainer(transformer_dir, load, tmp / f"hf{repeat}", "hf-trainer"))
            single.append(rx_trainer(model, ["xnli_en"], load, tmp / f"single{repeat}", "rx-single", args.workers))
        multi = rx_trainer(model, list(MULTI), load, tmp / "multi", "rx-multi", args.workers)
    print(f"machine: {machine()}")
    print(
        f"model: {model}; {args.steps} steps (clock from step {args.warm_steps}), batch {args.batch_size}, "
        f"max length {args.max_length}{' (every XNLI example full length)' if args.full_length else ''}, "
        f"{args.precision}, rx dataloader workers {args.workers}, best of {args.repeats}"
    )
    runs = lambda rates: " ".join(f"{r:.1f}" for r in rates)  # noqa: E731
    print(f"  hf-trainer (XNLI-en)                    {max(hf):7.2f} examples/s   runs {runs(hf)}")
    print(
        f"  rx-single  (XNLI-en)                    {max(single):7.2f} examples/s   ratio {max(single) / max(hf):.2f}"
        f"   runs {runs(single)}"
    )
    print(f"  rx-multi   (XNLI-en, CosmosQA, PAN-X, XQuAD-en) {multi:7.2f} examples/s   ratio {multi / max(hf):.2f}")
    for name, profile in load.profiles.items():
        print(f"  profile {name}: {profile.summary}")


if __name__ == "__main__":
    main()
