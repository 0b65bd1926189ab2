"""How well `rx score` finds noise in a parallel corpus (issue 29), on real text with known noise.

    python bench/score_noise.py [--pairs de-en,fr-en,zh-en] [--size 20000] [--noise 0.3]

From the real bitext that ../shared/tools/real-bitext builds, take --size true pairs per language pair and
corrupt --noise of them, in equal shares, by type: misaligned (the next line's translation), wrong language
(the target replaced by a sentence of a third language), untranslated copy (target = source), truncated target
(its first third of words), numbers changed (a pair whose two sides share a number gets another one in the
target), boilerplate (the target replaced by a web page's furniture). Both sides are exported once
(`rx export`), then scored by `rx score` from the exports:

- margin alone at its auto threshold (`--threshold auto`), the rule-based checks alone (language ID of both
  sides, copies, numbers, length ratio), and both together (rx's filter); plain cosine under the same
  auto rule for comparison;
- per noise type: the share of that type removed, and the ROC AUC of cosine and margin (clean against that type);
  the share of clean pairs kept and the precision of what is kept;
- the cost: `rx score` against `rx mine` of the same exports (one k-NN pass each way, both), seconds.

Prints Markdown tables for bench/RESULTS.md and README.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import tempfile
from pathlib import Path

import numpy as np
from common import REAL_BITEXT, machine, real_bitext_rows, real_encoder, require_real_bitext, timed_rx

from retrieval_xfer.mining.score_threshold import estimate_given_threshold, null_pairs

TYPES = ("misaligned", "wrong language", "copy", "truncated", "numbers changed", "boilerplate")
CHECKED = ("wrong language", "copy", "numbers changed")  # the types rx's checks target (the goal)
THIRD = {"de-en": "fr-en", "fr-en": "de-en", "zh-en": "de-en"}  # whose source sentences are the wrong language
BOILERPLATE = (
    "Click here to continue.",
    "All rights reserved.",
    "Back to top",
    "Print this page",
    "Skip to main content",
    "Share this page on Facebook",
    "Accept cookies",
    "Previous | Next",
)
DIGITS = re.compile(r"\d+")
# --length-ratio of the checks: bench/real_mining.py's for two alphabets; for Chinese (a character is a token)
# against English words, wider (a Chinese sentence has 1.5-2.5 characters per English word)
LENGTHS = {"de-en": "0.4,2.5", "fr-en": "0.4,2.5", "zh-en": "0.5,4"}


def changed_number(text: str, rng: random.Random) -> str:
    """``text`` with one of its numbers replaced by another of as many digits."""
    runs = list(DIGITS.finditer(text))
    run = rng.choice(runs)
    old = run.group()
    new = old
    while new == old:
        new = (
            "".join(rng.choice("0123456789") for _ in old) if len(old) > 1 else str((int(old) + rng.randint(1, 8)) % 10)
        )
    return text[: run.start()] + new + text[run.end() :]


def corrupt(
    rows: list[list[str]], third: list[str], share: float, rng: random.Random
) -> tuple[list[str], list[str], list[str]]:
    """Source lines, target lines and each line's label ("clean" or a noise type)."""
    src, trg = [r[0] for r in rows], [r[1] for r in rows]
    labels = ["clean"] * len(rows)
    per_type = int(share * len(rows) / len(TYPES))
    numbered = [i for i, (s, t) in enumerate(zip(src, trg)) if set(DIGITS.findall(s)) & set(DIGITS.findall(t))]
    rng.shuffle(numbered)
    taken = set(numbered[:per_type])
    for i in taken:
        trg[i], labels[i] = changed_number(trg[i], rng), "numbers changed"
    others = [i for i in range(len(rows)) if i not in taken and i + 1 < len(rows)]
    rng.shuffle(others)
    chosen = iter(others)
    for kind in TYPES:
        if kind == "numbers changed":
            continue
        for _ in range(per_type):
            i = next(chosen)
            if kind == "misaligned":
                trg[i] = rows[i + 1][1]
            elif kind == "wrong language":
                trg[i] = rng.choice(third)
            elif kind == "copy":
                trg[i] = src[i]
            elif kind == "truncated":
                words = trg[i].split()
                trg[i] = " ".join(words[: max(1, len(words) // 3)])
            else:
                trg[i] = rng.choice(BOILERPLATE)
            labels[i] = kind
    return src, trg, labels


def auc(clean: np.ndarray, noise: np.ndarray) -> float:
    """P(a clean pair scores above a noisy one), ties counting half (Mann-Whitney)."""
    both = np.concatenate([clean, noise])
    ranks = np.argsort(np.argsort(both, kind="stable"), kind="stable").astype(np.float64) + 1
    values, inverse, counts = np.unique(both, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    ranks = (sums / counts)[inverse]  # average ranks for ties
    return float((ranks[: len(clean)].sum() - len(clean) * (len(clean) + 1) / 2) / (len(clean) * len(noise)))


def scored(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n")[:-1]]


def cosine_filter(work: Path, rows: list[dict]) -> np.ndarray:
    """Which pairs plain cosine keeps under rx's auto rule (its null: random pairings' cosines)."""
    x, y = (np.concatenate([np.load(p) for p in sorted((work / side).glob("*.npy"))]) for side in ("src", "trg"))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    cos = np.array([r["cosine"] for r in rows])
    first, second = null_pairs(len(rows))
    null = np.einsum("ij,ij->i", x[first], y[second])
    return cos >= estimate_given_threshold(cos, null, "f1").threshold


def run_pair(pair: str, args: argparse.Namespace, model: str, work: Path) -> dict:
    rng = random.Random(2029)
    rows = [r for r in real_bitext_rows(args.bitext, pair) if len(r) == 2][: args.size]
    third = [r[0] for r in real_bitext_rows(args.bitext, THIRD[pair])[-5000:]]
    src, trg, labels = corrupt(rows, third, args.noise, rng)
    lang = pair.split("-")[0]
    (work / "src.txt").write_text("".join(s + "\n" for s in src), encoding="utf-8")
    (work / "trg.txt").write_text("".join(t + "\n" for t in trg), encoding="utf-8")
    encoder = ["--model", model, "--prompt", "query: ", "--quiet"]
    for side in ("src", "trg"):
        timed_rx("export", *encoder, "--input", str(work / f"{side}.txt"), "--out", str(work / side))
    sides = ["--src", str(work / "src"), "--trg", str(work / "trg"), "--quiet"]
    mine_seconds = timed_rx("mine", *sides, "--out", str(work / "mined.tsv"))
    score_seconds = timed_rx("score", *sides, "--out", str(work / "plain.tsv"))
    checks = [
        "--src-lang",
        lang,
        "--trg-lang",
        "en",
        "--drop-copies",
        "--numbers-agree",
        "--length-ratio",
        LENGTHS[pair],
    ]
    outputs = {}
    for name, extra in (
        ("margin", ["--threshold", "auto"]),
        ("checks", checks),
        ("rx", ["--threshold", "auto", *checks]),
    ):
        out = work / f"{name}.jsonl"
        timed_rx("score", *sides, *extra, "--format", "jsonl", "--with-dropped", "--out", str(out))
        outputs[name] = scored(out)
    kept = {name: np.array([r["drop"] == "" for r in rows]) for name, rows in outputs.items()}
    kept["cosine"] = cosine_filter(work, outputs["margin"])
    label = np.array(labels)
    margin = np.array([r["score"] for r in outputs["margin"]])
    cosine = np.array([r["cosine"] for r in outputs["margin"]])
    clean = label == "clean"
    result = {"pair": pair, "mine_s": mine_seconds, "score_s": score_seconds, "types": {}, "filters": {}}
    for kind in TYPES:
        noisy = label == kind
        result["types"][kind] = {
            "count": int(noisy.sum()),
            "auc_cosine": auc(cosine[clean], cosine[noisy]),
            "auc_margin": auc(margin[clean], margin[noisy]),
            **{f"removed_{name}": float(1 - k[noisy].mean()) for name, k in kept.items()},
        }
    for name, k in kept.items():
        result["filters"][name] = {"clean_kept": float(k[clean].mean()), "precision": float(clean[k].mean())}
    reasons = [r["drop"] for r, is_clean in zip(outputs["rx"], clean) if is_clean and r["drop"]]
    result["clean_dropped_by"] = {reason: reasons.count(reason) for reason in sorted(set(reasons))}
    threshold = json.loads((work / "rx.jsonl.json").read_text())["threshold_auto"]
    result["threshold"] = threshold
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", default="de-en,fr-en,zh-en")
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--noise", type=float, default=0.3)
    parser.add_argument("--bitext", type=Path, default=REAL_BITEXT)
    parser.add_argument("--keep", type=Path, default=None, help="Keep each pair's files in KEEP/PAIR (else a temp dir)")
    args = parser.parse_args()
    require_real_bitext(args.bitext)
    model = real_encoder()
    print(f"machine: {machine()}; model {model}, prompt 'query: '; {args.size} pairs, {args.noise:.0%} noise")
    results = []
    for pair in args.pairs.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            work = args.keep / pair if args.keep else Path(tmp)
            work.mkdir(parents=True, exist_ok=True)
            results.append(run_pair(pair, args, model, work))
        print(json.dumps(results[-1]), flush=True)
    print("\n| pair | noise type | n | AUC cosine | AUC margin | removed: cosine | margin | checks | rx: both |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        for kind, t in r["types"].items():
            print(
                f"| {r['pair']} | {kind} | {t['count']} | {t['auc_cosine']:.3f} | {t['auc_margin']:.3f} | "
                f"{t['removed_cosine']:.1%} | {t['removed_margin']:.1%} | {t['removed_checks']:.1%} | "
                f"{t['removed_rx']:.1%} |"
            )
    print("\n| pair | filter | clean kept | precision of kept |")
    print("|---|---|---|---|")
    for r in results:
        for name, f in r["filters"].items():
            print(f"| {r['pair']} | {name} | {f['clean_kept']:.1%} | {f['precision']:.1%} |")
    print(
        "\nClean pairs rx's filter dropped, by reason: "
        + "; ".join(f"{r['pair']}: {r['clean_dropped_by']}" for r in results)
    )
    print("\n| pair | rx mine (s) | rx score (s) | score / mine | auto threshold | noise share (estimated) |")
    print("|---|---|---|---|---|---|")
    for r in results:
        t = r["threshold"]
        print(
            f"| {r['pair']} | {r['mine_s']:.1f} | {r['score_s']:.1f} | {r['score_s'] / r['mine_s']:.2f} | "
            f"{t['threshold']:.3f} | {t['noise_share']:.3f} |"
        )


if __name__ == "__main__":
    main()
