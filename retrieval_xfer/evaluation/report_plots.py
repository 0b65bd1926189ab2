"""The report's pictures (matplotlib, the ``plot`` extra): gain vs. pre-training data size, gain per resource
group, and score vs. layer. Without matplotlib no picture is drawn and the caller is told why."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING

from retrieval_xfer.evaluation.language_resources import group_names, language_resources

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from retrieval_xfer.evaluation.report import Report

MISSING = "matplotlib is not installed: no PNG pictures (pip install 'retrieval_xfer[plot]')"


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def gain_vs_size(report: Report, path: Path, plt) -> Path:
    """One panel per run: each (task, language) gain against the language's CC-100 size (log scale), with a
    least-squares line over the seen languages; languages not in CC-100 sit at the left edge as crosses."""
    table = language_resources()
    runs = [r for r in report.runs if r != report.baseline]
    fig, axes = plt.subplots(1, len(runs), figsize=(6.5 * len(runs), 4.8), squeeze=False, sharey=True)
    floor = min(table["sizes"].values()) / 2
    colors = {task: plt.cm.tab10(i % 10) for i, task in enumerate(report.tasks)}
    for ax, run in zip(axes[0], runs):
        xs = []
        points = report.gains(run)
        for task, lang, gain in points:
            size = table["sizes"].get(lang)
            seen = size is not None
            ax.scatter(
                size if seen else floor,
                gain,
                color=colors[task],
                marker="o" if seen else "x",
                s=28,
                label=task if seen else None,
            )
            if len(points) <= 80:
                ax.annotate(
                    lang, (size if seen else floor, gain), fontsize=7, xytext=(3, 2), textcoords="offset points"
                )
            if seen:
                xs.append(math.log10(size))
        slope, said = report.gain_trend(run)
        if slope is not None:
            known = [
                (math.log10(table["sizes"][lang]), gain)
                for _, lang, gain in points
                if table["sizes"].get(lang) is not None
            ]
            mx, my = sum(x for x, _ in known) / len(known), sum(y for _, y in known) / len(known)
            line_x = [min(xs), max(xs)]
            ax.plot(
                [10**x for x in line_x],
                [my + slope * (x - mx) for x in line_x],
                color="black",
                lw=1.5,
                label=f"fit: {slope:+.2f} points per 10x data",
            )
        else:
            ax.text(0.02, 0.02, said.split(": ", 1)[1], transform=ax.transAxes, fontsize=7, color="grey")
        for lowest in table["groups"].values():
            if lowest > 0:
                ax.axvline(lowest, color="grey", ls=":", lw=1)
                ax.text(lowest, ax.get_ylim()[1], f" ≥{lowest:g} {table['unit']}", color="grey", va="top", fontsize=8)
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xscale("log")
        ticks = [t for t in (0.1, 1, 10, 100, 1000) if floor / 2 <= t <= max(table["sizes"].values()) * 2]
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.minorticks_off()
        ax.set_xlabel(f"CC-100 data for the language ({table['unit']}, log; x = not in CC-100)")
        ax.set_title(f"{run} − {report.baseline}")
        handles, labels = ax.get_legend_handles_labels()
        unique = dict(zip(labels, handles))
        for task in report.tasks:  # a task whose points are all unseen languages still gets its colour
            if task not in unique and any(t == task for t, _, _ in points):
                unique[task] = plt.Line2D([], [], color=colors[task], marker="o", ls="")
        unique["not in CC-100"] = plt.Line2D([], [], color="grey", marker="x", ls="")
        ax.legend(unique.values(), unique.keys(), fontsize=8, loc="best")
    axes[0][0].set_ylabel("gain over the baseline (points)")
    fig.suptitle(
        "Gain vs. the language's pre-training data\n"
        "(points on the left gaining more = low-resource languages gain most)",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def group_bars(report: Report, path: Path, plt) -> Path:
    """Mean gain per resource group, one bar per run, with the number of (task, language) points."""
    groups = group_names()
    runs = [r for r in report.runs if r != report.baseline]
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(groups) * max(1, len(runs)) / 2), 4.2))
    width = 0.8 / len(runs)
    for i, run in enumerate(runs):
        gains = report.group_gains(run)
        for g, group in enumerate(groups):
            mean, n = gains[group]
            if mean is None:
                continue
            x = g + (i - (len(runs) - 1) / 2) * width
            ax.bar(x, mean, width, color=plt.cm.tab10(i % 10), label=run)
            ax.text(x, mean, f"n={n}", ha="center", va="bottom" if mean >= 0 else "top", fontsize=8)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xticks(range(len(groups)), [f"{g}" for g in groups])
    ax.set_ylabel("mean gain over the baseline (points)")
    ax.set_title(f"Gain by resource level (baseline {report.baseline})")
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    ax.legend(unique.values(), unique.keys(), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def layer_curves(report: Report, path: Path, plt) -> Path:
    """One panel per swept task: the average score at each layer, a line per run, the best layer marked."""
    tasks = sorted({task for by_task in report.sweeps.values() for task in by_task})
    fig, axes = plt.subplots(1, len(tasks), figsize=(6 * len(tasks), 4.2), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        for i, (run, by_task) in enumerate(sorted(report.sweeps.items())):
            if task not in by_task:
                continue
            points = sorted((layer, v) for layer, v in by_task[task].items() if v is not None)
            color = plt.cm.tab10(i % 10)
            ax.plot([p[0] for p in points], [p[1] for p in points], marker=".", color=color, label=run)
            best = max(points, key=lambda p: p[1])
            ax.scatter([best[0]], [best[1]], s=90, facecolors="none", edgecolors=color)
        ax.set_xlabel("layer (hidden_states index; 0 = embeddings)")
        ax.set_ylabel("average score")
        ax.set_title(f"{task}: score by layer (circle = best layer)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def draw_all(report: Report, out: Path) -> list[Path]:
    """Every picture that applies to ``report``, written into ``out``; [] (with a warning) without matplotlib."""
    plt = _pyplot()
    if plt is None:
        logger.warning(MISSING)
        return []
    pictures = []
    if report.baseline and any(report.gains(run) for run in report.runs if run != report.baseline):
        pictures.append(gain_vs_size(report, Path(out) / "gain_vs_size.png", plt))
        pictures.append(group_bars(report, Path(out) / "groups.png", plt))
    if report.sweeps:
        pictures.append(layer_curves(report, Path(out) / "layers.png", plt))
    if report.alignment:
        pictures.append(alignment_curves(report, Path(out) / "alignment.png", plt))
    return pictures


def alignment_curves(report: Report, path: Path, plt) -> Path:
    """Four panels against the layer, a line per run with ``rx diagnose`` results: the centering gain, the
    language-ID probe's accuracy, alignment and hubness (before vs. after intermediate training side by side)."""
    metrics = [
        ("centering_gain", "centering gain (points)"),
        ("lid_accuracy", "language-ID probe accuracy"),
        ("alignment", "alignment (translation cosine)"),
        ("hubness", "hubness (skew of N10)"),
    ]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.6), squeeze=False)
    for ax, (key, label) in zip(axes[0], metrics):
        for run, payload in sorted(report.alignment.items()):
            layers = sorted(payload["layers"], key=int)
            ax.plot(
                [int(layer) for layer in layers],
                [payload["layers"][layer]["averages"][key] for layer in layers],
                marker="o",
                ms=3,
                label=run,
            )
        ax.set_xlabel("layer")
        ax.set_title(label, fontsize=9)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
