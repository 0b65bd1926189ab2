"""Which language identifier rx prepare uses: py3langid against lingua-language-detector on real text.

    python bench/language_id.py [--bitext ~/.cache/retrieval_xfer/real-bitext] [--lines 3000]

For de, fr and zh and their English sides (../shared/tools/real-bitext), the share of lines identified as
their true language (a Chinese variety counts as zh), overall and for lines under 40 characters (UI
fragments), and lines per second on one thread."""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("RAYON_NUM_THREADS", "1")  # lingua's thread pool: one thread, for a per-core rate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REAL_BITEXT, real_bitext_rows, require_real_bitext  # noqa: E402

from retrieval_xfer.prepare.language_id import is_language, load_identifier  # noqa: E402


def sample(bitext: Path, pair: str, n: int) -> dict[str, list[str]]:
    rows = real_bitext_rows(bitext, pair)
    rows = random.Random(0).sample(rows, min(n, len(rows)))
    lang = pair.split("-")[0]
    return {lang: [r[0] for r in rows], f"en ({pair})": [r[1] for r in rows]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bitext", type=Path, default=REAL_BITEXT)
    parser.add_argument("--lines", type=int, default=3000)
    args = parser.parse_args()
    require_real_bitext(args.bitext)
    sets: dict[str, list[str]] = {}
    for pair in ("de-en", "fr-en", "zh-en"):
        sets.update(sample(args.bitext, pair, args.lines))
    print(f"{'identifier':<10} {'language':<12} {'accuracy':>9} {'short(<40)':>11} {'lines/s':>9}")
    for name in ("py3langid", "lingua"):
        tic = time.perf_counter()
        identifier, _ = load_identifier(name, "de")
        load = time.perf_counter() - tic
        total_lines, total_seconds, correct = 0, 0.0, 0
        for label, lines in sets.items():
            truth = label.split()[0]
            tic = time.perf_counter()
            found = identifier.identify(lines)
            seconds = time.perf_counter() - tic
            total_lines, total_seconds = total_lines + len(lines), total_seconds + seconds
            right = [is_language(f, truth) for f in found]
            short = [r for r, line in zip(right, lines) if len(line) < 40]
            correct += sum(right)
            print(
                f"{name:<10} {label:<12} {sum(right) / len(right):>9.3f} "
                f"{sum(short) / max(1, len(short)):>11.3f} {len(lines) / seconds:>9,.0f}"
            )
        print(
            f"{name:<10} {'all':<12} {correct / total_lines:>9.3f} {'':>11} {total_lines / total_seconds:>9,.0f}"
            f"   (model load {load:.1f}s)"
        )


if __name__ == "__main__":
    main()
