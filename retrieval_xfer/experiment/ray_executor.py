"""``rx experiment FILE --ray [ADDRESS]``: the experiment's steps as Ray tasks, each started as soon as the steps it
needs are done, with the resources the experiment file gives its kind.

- Done steps are skipped, as in the sequential run; a re-run after any kill (driver or worker) finishes what is
  left, and a training step continues from its last checkpoint. Ray itself retries a task whose worker died.
- A failed step stops only the steps that need its output; the summary lists each failure with its log file.
- Every step writes its own log, ``<runs_dir>/logs/<step>.log``; the console shows one line per step start and
  end (host, time) and the counts done / running / waiting / failed.
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

from retrieval_xfer.atomic import atomic_write_json
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


def _started_marker(log: Path) -> Path:
    return log.with_suffix(".started")


@dataclass
class StepOutcome:
    """What a step's task reports back: where and when it ran, and its error (one line) if it failed."""

    host: str
    started: float
    ended: float
    error: str = ""


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
    atomic_write_json(_started_marker(log), {"host": host, "started": started})  # the driver never reads half
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
    result = GridStatus()
    status: dict[Path, str] = {}
    for step in steps:
        if step.done():
            logger.info(f"{_clock()} {step.label}: {done_line(step, record)}")
            status[step.output] = "done"
    waiting = [s for s in steps if s.output not in status]
    running: dict[Any, Step] = {}
    announced: set[Path] = set()
    remote = ray.remote(execute_step)
    tic = time.time()

    def counts() -> str:
        values = list(status.values())
        return (
            f"done {values.count('done') + values.count('ran')} / running {len(running)} / waiting "
            f"{len(waiting)} / failed {values.count('failed') + values.count('blocked')}"
        )

    while waiting or running:
        for step in list(waiting):
            needs = [status.get(need) for need in step.needs]
            if any(s in ("failed", "blocked") for s in needs):
                waiting.remove(step)
                status[step.output] = "blocked"
                logger.info(f"{_clock()} blocked {step.label}: a step it needs failed  [{counts()}]")
            elif all(s in ("done", "ran") for s in needs):
                waiting.remove(step)
                _started_marker(step_log(spec, step)).unlink(missing_ok=True)  # left by an earlier run
                resources = spec.step_resources(step.kind)
                processes = int(resources["num_gpus"]) if step.kind == "train" and resources["num_gpus"] > 1 else 1
                running[
                    remote.options(num_cpus=resources["num_cpus"], num_gpus=resources["num_gpus"]).remote(
                        spec, step, quiet, int(resources["num_cpus"]), processes
                    )
                ] = step
        if not running:
            break
        finished, _ = ray.wait(list(running), num_returns=1, timeout=1.0)
        for step in running.values():  # a start line once the task reports its host
            marker = _started_marker(step_log(spec, step))
            if step.output not in announced and marker.is_file():
                announced.add(step.output)
                host = json.loads(marker.read_text(encoding="utf-8"))["host"]
                logger.info(f"{_clock()} start {step.label} on {host}  [{counts()}]")
        for ref in finished:
            step = running.pop(ref)
            log = step_log(spec, step)
            try:
                outcome = ray.get(ref)
            except Exception as err:  # the task's worker died more times than Ray retries it
                outcome = StepOutcome("?", time.time(), time.time(), f"its Ray task was lost ({type(err).__name__})")
            result.outcomes[step.output] = outcome
            if outcome.error:
                status[step.output] = "failed"
                result.failures.append((step, outcome.error, log))
                logger.info(
                    f"{_clock()} FAILED {step.label} on {outcome.host} after {outcome.ended - outcome.started:.0f}s: "
                    f"{outcome.error} (log: {log})  [{counts()}]"
                )
            else:
                status[step.output] = "ran"
                record_done(spec, record, step)
                logger.info(
                    f"{_clock()} end {step.label} on {outcome.host} in {outcome.ended - outcome.started:.0f}s  "
                    f"[{counts()}]"
                )
    logger.info(f"{_clock()} grid finished in {time.time() - tic:.0f}s  [{counts()}]")
    result.statuses = [(step, status.get(step.output, "waiting")) for step in steps]
    return result


def _clock() -> str:
    return time.strftime("%H:%M:%S")
