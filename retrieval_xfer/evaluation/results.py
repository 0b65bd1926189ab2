"""Result files (one JSON per evaluation run) and the plain-text tables printed beside them."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path
from typing import Any

from retrieval_xfer.atomic import atomic_write_json
from retrieval_xfer.encoding.encoder import EncoderSpec
from retrieval_xfer.version import __version__


def git_commit() -> str | None:
    """The commit of the rx checkout that is running (with ``-dirty`` if modified), or None outside a checkout."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("-dirty" if dirty else "")


def now_iso() -> str:
    """The current UTC time, ISO 8601, to the second."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def default_output_path(task: str, spec: EncoderSpec, results_dir: Path = Path("results")) -> Path:
    """``results/<task>-<model name>-L<layer>-<UTC timestamp>.json``."""
    model = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(spec.model.rstrip("/")).name or spec.model)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    return results_dir / f"{task}-{model}-L{spec.layer}-{stamp}.json"


def result_header(task: str, spec: EncoderSpec) -> dict[str, Any]:
    """The fields every result file starts with: task, model, layer, prompt, encoder spec, versions, time."""
    return {
        "task": task,
        "model": spec.model,
        "layer": spec.layer,
        "num_layers": spec.num_layers,
        "pooling": spec.pooling,
        "prompt": spec.prompt,
        "encoder": spec.to_dict(),
        "rx_version": __version__,
        "git_commit": git_commit(),
        "created_at": now_iso(),
    }


def write_results(path: Path, payload: dict[str, Any]) -> Path:
    """Write a result file atomically and return its path."""
    atomic_write_json(Path(path), payload)
    return Path(path)


def format_table(headers: list[str], rows: list[list[Any]]) -> str:
    """A plain aligned text table; floats are shown with two decimals, None as '-'."""
    def cell(value: Any) -> str:
        if value is None:
            return "-"
        return f"{value:.2f}" if isinstance(value, float) else str(value)

    body = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(headers)]
    line = lambda values: "  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(values, widths)))
    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, body)])
