"""``rx experiment FILE --ray [ADDRESS]``: the experiment's steps as Ray tasks, with the resources the experiment
file gives their kind. Ray does the scheduling: every step that is not done is submitted at once, its task taking
the outcomes of the steps it needs as arguments, so Ray starts it when they are done (and where the resources
are); the driver only waits on completions (``ray.wait``, no polling) to print them.

- Done steps are skipped, as in the sequential run; a re-run after any kill (driver or worker) finishes what is
  left, and a training step continues from its last checkpoint. Ray itself retries a task whose worker died.
- A failed step stops only the steps that need its output (their tasks see its outcome and return at once,
  "blocked"); the summary lists each failure with its log file.
- Every step writes its own log, ``<runs_dir>/logs/<step>.log``; the console shows one line per step start and
  end (host, time) and the counts done / running / waiting / failed. A task reports its start through a Ray
  queue (``ray.util.queue``) that the driver waits on beside the completions.
- The runs folder must be storage every node sees: each node writes and reads a marker before any step runs.
- A training step given ``num_gpus`` > 1 runs data-parallel inside its task: ``torchrun`` on that node, with as
  many processes as GPUs (``experiment.distributed_step``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import socket
import subprocess
import sys
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval_xfer.errors import RxError
from retrieval_xfer.experiment.plan import Step, plan_steps
from retrieval_xfer.experiment.runner import done_line, read_record, record_done, run_step, train_config
from retrieval_xfer.experiment.spec import ExperimentSpec
from retrieval_xfer.logs import ROOT as ROOT_LOGGER
from retrieval_xfer.ray_cluster import connect

LOGS_DIR = "logs"
STORAGE_CHECK_DIR = ".rx-storage-check"

logger = logging.getLogger(__name__)


def step_log(spec: ExperimentSpec, step: Step) -> Path:
    """The log file of ``step``."""
    return spec.runs_dir / LOGS_DIR / f"{step.slug}.log"


@dataclass
class StepOutcome:
    """What a step's task reports back: where and when it ran, and its error (one line) if it failed; ``blocked``
    when it did not run because a step it needs failed."""

    host: str
    started: float
    ended: float
    error: str = ""
    blocked: bool = False


@contextlib.contextmanager
def _output_to(log: Path):
    """Send this process's stdout, stderr and log records to ``log`` while the step runs."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as stream:
        handler = logging.StreamHandler(stream)
        root, ours = logging.getLogger(), logging.getLogger(ROOT_LOGGER)
        root.addHandler(handler)
        level = ours.level
        ours.setLevel(logging.INFO)  # rx's progress lines belong in the step's log
        try:
            with contextlib.redirect_stdout(stream), contextlib.redirect_stderr(stream):
                yield stream
        finally:
            root.removeHandler(handler)
            ours.setLevel(level)


def _run_distributed_training(spec: ExperimentSpec, step: Step, processes: int, log: Path, quiet: bool) -> None:
    """Train ``step`` with ``torchrun`` on this node, one process per GPU; its output goes to ``log``."""
    config = train_config(spec, step, quiet)
    config_file = log.with_suffix(".train.json")
    config_file.write_text(json.dumps(config.__dict__, default=str), encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        str(processes),
        "-m",
        "retrieval_xfer.experiment.distributed_step",
        str(config_file),
    ]
    with log.open("a", encoding="utf-8") as stream:
        done = subprocess.run(command, stdout=stream, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        raise RxError(f"torchrun with {processes} processes exited with {done.returncode}")


def execute_step(spec: ExperimentSpec, step: Step, quiet: bool, threads: int, processes: int) -> StepOutcome:
    """The body of a step's Ray task: run ``step`` with its output in its log file; never raises (an error is
    returned as one line, its traceback is in the log)."""
    import torch

    torch.set_num_threads(max(1, threads))
    log = step_log(spec, step)
    host = socket.gethostname()
    started = time.time()
    log.parent.mkdir(parents=True, exist_ok=True)
    error = ""
    with _output_to(log) as stream:
        print(f"== {step.label} on {host}, {time.strftime('%Y-%m-%d %H:%M:%S')}", flush=True)
        try:
            if step.kind == "train" and processes > 1:
                _run_distributed_training(spec, step, processes, log, quiet)
            else:
                run_step(spec, step, quiet)
        except Exception as err:  # reported to the driver; the other branches of the graph go on
            traceback.print_exc(file=stream)
            error = str(err).splitlines()[0] if str(err) else type(err).__name__
    return StepOutcome(host, started, time.time(), error)


def check_shared_storage(ray: Any, folder: Path) -> None:
    """Every alive node writes a marker into ``folder`` and reads the driver's: RxError naming the folder when a
    node cannot (the runs folder must be storage that every node sees)."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    check = folder / STORAGE_CHECK_DIR
    check.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex
    (check / token).write_text(token, encoding="utf-8")

    def probe(path: str, token: str) -> tuple[str, bool]:
        node = socket.gethostname()
        try:
            seen = Path(path, token).read_text(encoding="utf-8") == token
            Path(path, f"{token}.{node}").write_text(node, encoding="utf-8")
        except OSError:
            seen = False
        return node, seen

    remote = ray.remote(num_cpus=0)(probe)
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    try:
        answers = ray.get(
            [
                remote.options(scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False)).remote(
                    str(check.resolve()), token
                )
                for n in nodes
            ]
        )
        for node, seen in answers:
            if not seen or not (check / f"{token}.{node}").is_file():
                raise RxError(
                    f"runs folder {folder}: node {node} does not see it; with --ray, runs_dir must be "
                    "storage every node mounts at the same path (NFS, a cluster file system)"
                )
    finally:
        for marker in check.glob(f"{token}*"):
            marker.unlink(missing_ok=True)


def check_resources(ray: Any, spec: ExperimentSpec, steps: list[Step]) -> None:
    """RxError naming the step kind and the resource when no alive node of the cluster could ever run a step of
    that kind (Ray would wait for such a node forever, silently)."""
    nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
    for kind in sorted({step.kind for step in steps}):
        asked = spec.step_resources(kind)
        if any(node.get("CPU", 0) >= asked["num_cpus"] and node.get("GPU", 0) >= asked["num_gpus"] for node in nodes):
            continue
        largest = max(nodes, key=lambda node: (node.get("GPU", 0), node.get("CPU", 0)), default={})
        raise RxError(
            f"{spec.path}: resources.{kind} asks for {asked['num_cpus']:g} CPU(s) and {asked['num_gpus']:g} GPU(s) "
            f"a step, but no node of the cluster has that (the largest has {largest.get('CPU', 0):g} CPU(s) and "
            f"{largest.get('GPU', 0):g} GPU(s)); lower it in the experiment file or add such a node"
        )


@dataclass
class GridStatus:
    """The outcome of a run of the grid: each step's status (``done`` already, ``ran``, ``failed``, ``blocked``
    by a failed step it needs, or ``to run`` in a dry run), with each failure's one-line error and log."""

    statuses: list[tuple[Step, str]] = field(default_factory=list)
    failures: list[tuple[Step, str, Path]] = field(default_factory=list)
    outcomes: dict[Path, StepOutcome] = field(default_factory=dict)


def step_task(
    spec: ExperimentSpec, step: Step, quiet: bool, threads: int, processes: int, starts: Any, *needs: StepOutcome
) -> StepOutcome:
    """A step's Ray task. Ray runs it once the outcomes of the steps it needs (``needs``) exist: when one of them
    failed or was blocked, it returns "blocked" at once; otherwise it reports its start on ``starts`` (a
    ``ray.util.queue.Queue``) and runs the step (``execute_step``)."""
    if any(need.error or need.blocked for need in needs):
        now = time.time()
        return StepOutcome("", now, now, blocked=True)
    starts.actor.put.remote((str(step.output), socket.gethostname()))  # no wait: a blocked get frees the CPU
    return execute_step(spec, step, quiet, threads, processes)


class _Progress:
    """The driver's view of the grid: each step's status, and the console lines with the counts."""

    def __init__(self, steps: list[Step], result: GridStatus) -> None:
        self.steps, self.result = steps, result
        self.status: dict[Path, str] = {}
        self.started: set[Path] = set()

    def counts(self) -> str:
        values = list(self.status.values())
        running = len(self.started) - values.count("ran") - values.count("failed")
        waiting = len(self.steps) - len(values) - running
        return (
            f"done {values.count('done') + values.count('ran')} / running {running} / waiting {waiting} / failed "
            f"{values.count('failed') + values.count('blocked')}"
        )

    def start(self, step: Step, host: str) -> None:
        if step.output not in self.started:
            self.started.add(step.output)
            logger.info(f"{_clock()} start {step.label} on {host}  [{self.counts()}]")

    def end(self, step: Step, outcome: StepOutcome, log: Path) -> None:
        self.result.outcomes[step.output] = outcome
        if outcome.blocked:
            self.status[step.output] = "blocked"
            logger.info(f"{_clock()} blocked {step.label}: a step it needs failed  [{self.counts()}]")
            return
        self.start(step, outcome.host)  # its start event may still be on its way
        took = f"{outcome.ended - outcome.started:.0f}s"
        if outcome.error:
            self.status[step.output] = "failed"
            self.result.failures.append((step, outcome.error, log))
            logger.info(
                f"{_clock()} FAILED {step.label} on {outcome.host} after {took}: {outcome.error} (log: {log})  "
                f"[{self.counts()}]"
            )
        else:
            self.status[step.output] = "ran"
            logger.info(f"{_clock()} end {step.label} on {outcome.host} in {took}  [{self.counts()}]")


def run_experiment_on_ray(
    spec: ExperimentSpec,
    address: str | None = None,
    quiet: bool = False,
    num_cpus: int | None = None,
) -> GridStatus:
    """Run the steps of ``spec`` that are not done as Ray tasks on the cluster at ``address`` (``None``: a local
    Ray on this machine's cores, or ``num_cpus``). Returns every step's status; failures do not raise."""
    # absolute output folders: a Ray worker's working directory is not the driver's
    spec = dataclasses.replace(
        spec,
        runs_dir=spec.runs_dir.resolve(),
        results_dir=spec.results_dir.resolve(),
        report_dir=spec.report_dir.resolve(),
    )
    steps = plan_steps(spec)
    record = read_record(spec)
    ray = connect(address, num_cpus=num_cpus)
    check_resources(ray, spec, [step for step in steps if not step.done()])
    check_shared_storage(ray, spec.runs_dir)
    from ray.util.queue import Queue

    result = GridStatus()
    progress = _Progress(steps, result)
    starts = Queue(actor_options={"num_cpus": 0})
    task = ray.remote(step_task)
    submitted: dict[Path, Any] = {}
    for step in steps:  # in plan order, so the steps a step needs are submitted before it
        if step.done():
            progress.status[step.output] = "done"
            logger.info(f"{_clock()} {step.label}: {done_line(step, record)}")
            continue
        resources = spec.step_resources(step.kind)
        processes = int(resources["num_gpus"]) if step.kind == "train" and resources["num_gpus"] > 1 else 1
        needs = [submitted[need] for need in step.needs if need in submitted]
        submitted[step.output] = task.options(num_cpus=resources["num_cpus"], num_gpus=resources["num_gpus"]).remote(
            spec, step, quiet, int(resources["num_cpus"]), processes, starts, *needs
        )
    by_output = {step.output: step for step in steps}
    pending = {ref: by_output[output] for output, ref in submitted.items()}
    next_start = starts.actor.get.remote(None)
    tic = time.time()
    try:
        while pending:
            ready, _ = ray.wait([next_start, *pending], num_returns=1)
            if ready[0] == next_start:
                output, host = ray.get(next_start)
                progress.start(by_output[Path(output)], host)
                next_start = starts.actor.get.remote(None)
                continue
            step = pending.pop(ready[0])
            progress.end(step, _outcome(ray, ready[0], step, progress.status), step_log(spec, step))
            if progress.status[step.output] == "ran":
                record_done(spec, record, step)
    finally:
        starts.shutdown()  # its actor goes; the last get left waiting on it goes with it
    logger.info(f"{_clock()} grid finished in {time.time() - tic:.0f}s  [{progress.counts()}]")
    result.statuses = [(step, progress.status.get(step.output, "waiting")) for step in steps]
    return result


def _outcome(ray: Any, ref: Any, step: Step, status: dict[Path, str]) -> StepOutcome:
    """The outcome of a finished task; a task Ray could not run (its worker died more times than Ray retries, or a
    step it needs was lost) is a failure, or blocked when a step it needs failed."""
    try:
        return ray.get(ref)
    except Exception as err:
        now = time.time()
        if any(status.get(need) in ("failed", "blocked") for need in step.needs):
            return StepOutcome("", now, now, blocked=True)
        return StepOutcome("?", now, now, f"its Ray task was lost ({type(err).__name__})")


def _clock() -> str:
    return time.strftime("%H:%M:%S")
