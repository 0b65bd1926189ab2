"""Writing a report to a folder: Markdown, CSV files and (with matplotlib) the pictures."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from retrieval_xfer.atomic import atomic_write_json, atomic_write_text
from retrieval_xfer.evaluation import report_plots
from retrieval_xfer.evaluation.language_resources import language_resources, resource_group
from retrieval_xfer.evaluation.report import Report, markdown, xtreme_rows
from retrieval_xfer.outputs import OutputKind, check_replaceable_folder
from retrieval_xfer.provenance import now_iso


def _csv(rows: list[list[Any]]) -> str:
    """CSV text; floats rounded to two decimals as in the tables (no float noise such as 66.66666666666667)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(
        [[round(v, 2) if isinstance(v, float) else v for v in row] for row in rows]
    )
    return buffer.getvalue()


REPORT_MARKER = ".rx-report.json"
# What rx report writes into its folder; redrawing it replaces these files and refuses a folder holding others.
REPORT_OUTPUT = OutputKind(
    "rx report",
    REPORT_MARKER,
    frozenset({"written_by"}),
    frozenset(
        {
            REPORT_MARKER,
            "report.md",
            "xtreme.csv",
            "languages.csv",
            "groups.csv",
            "gain_vs_size.png",
            "groups.png",
            "layers.png",
            "alignment.png",
        }
    ),
)


def check_report_folder(out: Path, overwrite: bool) -> None:
    """RxError unless ``out`` may receive a report: new or empty, or, with ``overwrite``, a folder of rx report's
    own files (its ``.rx-report.json`` marker; or a report of an rx from before the marker: report.md and only
    report files)."""
    out = Path(out)
    older = out.is_dir() and (out / "report.md").is_file() and not (out / REPORT_MARKER).exists()
    if older and overwrite and all(p.name in REPORT_OUTPUT.files for p in out.iterdir()):
        return
    check_replaceable_folder(out, REPORT_OUTPUT, overwrite)


def write_report(report: Report, out: Path, overwrite: bool = True) -> list[Path]:
    """Write ``report.md``, ``xtreme.csv``, ``languages.csv`` (long format), ``groups.csv`` and the pictures
    (``gain_vs_size.png``, ``groups.png``, ``layers.png``; they need matplotlib) into ``out``; returns the paths.
    RxError, before writing, when ``out`` may not receive them (``check_report_folder``)."""
    out = Path(out)
    check_report_folder(out, overwrite)  # rx experiment redraws its report each run: overwrite defaults to True
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / REPORT_MARKER, {"written_by": "rx report", "created_at": now_iso()})
    written = []
    pictures = report_plots.draw_all(report, out)
    written += pictures
    header = ["run", *report.tasks, "avg"]
    files = {
        "xtreme.csv": _csv([header, *xtreme_rows(report)]),
        "languages.csv": _csv(
            [["task", "lang", "group", "cc100_gib", "run", "score", "baseline", "delta"]]
            + [
                [
                    task,
                    lang,
                    resource_group(lang),
                    language_resources()["sizes"].get(lang),
                    run,
                    value,
                    by_run.get(report.baseline),
                    None
                    if report.baseline not in by_run or run == report.baseline
                    else value - by_run[report.baseline],
                ]
                for task in report.tasks
                for lang, by_run in sorted(report.languages[task].items())
                for run, value in by_run.items()
            ]
        ),
        "report.md": markdown(report, [p.name for p in pictures]),
    }
    if report.baseline:
        files["groups.csv"] = _csv(
            [["run", "group", "mean_gain", "points"]]
            + [
                [run, group, mean, n]
                for run in report.runs
                if run != report.baseline
                for group, (mean, n) in report.group_gains(run).items()
            ]
        )
    for name, text in files.items():
        atomic_write_text(out / name, text)
        written.append(out / name)
    return written
