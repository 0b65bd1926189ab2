"""Result files (one JSON per evaluation run) and the plain-text tables printed beside them."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from retrieval_xfer.atomic import atomic_write_file, atomic_write_json
from retrieval_xfer.errors import RxError
from retrieval_xfer.outputs import OutputKind, check_own_file
from retrieval_xfer.provenance import git_commit, now_iso
from retrieval_xfer.specs import EncoderSpec
from retrieval_xfer.version import __version__


def output_path(task: str, model: str, tag: str = "", results_dir: Path = Path("results")) -> Path:
    """``results/<task>-<model name>[-<tag>]-<UTC timestamp>.json``."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(model.rstrip("/")).name or model)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    return results_dir / f"{task}-{name}{'-' + tag if tag else ''}-{stamp}.json"


def default_result_path(task: str, result: dict[str, Any], results_dir: Path = Path("results")) -> Path:
    """``results/<task>-<model name>-L<layer>-<UTC timestamp>.json`` for a retrieval result; a layer sweep's
    tag names its range (``L0-12``); a result without a layer (a run's head) is ``<task>-<run name>-<time>``."""
    sweep = result.get("layer_sweep")
    if not sweep and "layer" not in result:
        return output_path(task, result["model"], "", results_dir)
    if sweep:
        layers = sorted(int(layer) for layer in sweep["layers"])
        return output_path(task, result["model"], f"L{layers[0]}-{layers[-1]}", results_dir)
    return output_path(task, result["model"], f"L{result['layer']}", results_dir)


def provenance_header(task: str, model: str) -> dict[str, Any]:
    """The fields every result file starts with: task, model, rx version, git commit, time."""
    return {
        "task": task,
        "model": model,
        "rx_version": __version__,
        "git_commit": git_commit(),
        "created_at": now_iso(),
    }


def result_header(task: str, spec: EncoderSpec) -> dict[str, Any]:
    """The header of a retrieval result: provenance, layer, prompt and the encoder spec."""
    return {
        **provenance_header(task, spec.model),
        "layer": spec.layer,
        "num_layers": spec.num_layers,
        "pooling": spec.pooling,
        "prompt": spec.prompt,
        "encoder": spec.to_dict(),
    }


# What a result file is recognised by: rx rewrites its own result files, never another file.
RESULT_OUTPUT = OutputKind("rx eval", "", frozenset({"task", "model", "rx_version"}))


def check_result_path(path: Path | None, overwrite: bool) -> None:
    """RxError, before an evaluation runs, when ``path`` (``--output``) is a folder, a file that is not an rx
    result, or an rx result and ``overwrite`` is not given (None: the default path, which is new)."""
    if path is not None:
        check_own_file(Path(path), RESULT_OUTPUT)
        if Path(path).exists() and not overwrite:
            raise RxError(f"{path}: already exists (pass --overwrite to replace it)")


def write_results(path: Path, payload: dict[str, Any]) -> Path:
    """Write a result file atomically and return its path; RxError when ``path`` holds a file rx did not write.

    Per-example outcomes the evaluator kept (``outcomes.OUTCOMES_KEY``: arrays by name) go to
    ``X.outcomes.npz`` beside ``X.json``, written first; the JSON records the file's name and SHA-256."""
    from retrieval_xfer.evaluation.outcomes import OUTCOMES_KEY, encode_outcomes, outcomes_path

    path = Path(path)
    check_own_file(path, RESULT_OUTPUT)
    payload = dict(payload)
    kept = payload.pop(OUTCOMES_KEY, None)
    if kept:
        side = outcomes_path(path)
        if side.exists() and not path.exists():
            raise RxError(f"{side}: exists and is not the outcomes file of an rx result; choose another --output")
        data, digest = encode_outcomes(kept["arrays"])
        atomic_write_file(side, lambda f: f.write(data))
        payload["outcomes"] = {"file": side.name, "sha256": digest, "metrics": kept["metrics"]}
    atomic_write_json(path, payload)
    return path


def format_table(headers: list[str], rows: list[list[Any]]) -> str:
    """A plain aligned text table: numeric columns right-aligned with two decimals for floats, None as '-'."""

    def cell(value: Any) -> str:
        if value is None:
            return "-"
        return f"{value:.2f}" if isinstance(value, float) else str(value)

    numeric = [all(isinstance(r[i], (int, float)) or r[i] is None for r in rows) and i > 0 for i in range(len(headers))]
    body = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(headers)]

    def line(values: list[str]) -> str:
        return "  ".join(
            v.rjust(w) if numeric[i] else v.ljust(w) for i, (v, w) in enumerate(zip(values, widths))
        ).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, body)])


def layer_sweep_table(result: dict[str, Any]) -> str:
    """Average score per layer of a result with a ``layer_sweep`` section; the best layer is marked."""
    sweep = result["layer_sweep"]
    key = sweep["key"]
    values = {int(layer): entry["averages"][key] for layer, entry in sweep["layers"].items()}
    best = (
        max((v, layer) for layer, v in values.items() if v is not None)[1]
        if any(v is not None for v in values.values())
        else None
    )
    rows = [
        [layer, values[layer], ("best" if layer == best else "") + (" main" if layer == sweep["main_layer"] else "")]
        for layer in sorted(values)
    ]
    return format_table(["layer", f"average {key}", "note"], rows)
