"""Which sentence splitter for rx prepare --split-sentences: accuracy and speed on real paragraphs.

    python bench/sentence_split.py [--paragraphs 1000] [--bitext DIR]

Paragraphs are made from the real bitext (../shared/tools/real-bitext; build it first): three random sentences of
one language (lines ending in . ! ? or their CJK forms, so each is a whole sentence) joined by a space (no space
for Chinese). A paragraph counts as right when the splitter gives back exactly its three sentences. The bitext's
"sentences" are translation units of documentation, so a few hold two sentences themselves: no splitter can reach
100 %, and the comparison between splitters is what counts. One thread; lines per second of paragraphs.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REAL_BITEXT, machine, real_bitext_rows, require_real_bitext  # noqa: E402

from retrieval_xfer.errors import RxError  # noqa: E402
from retrieval_xfer.prepare.options import SPLITTERS  # noqa: E402
from retrieval_xfer.prepare.sentences import load_splitter  # noqa: E402

SIDES = [("de-en", 0, "de"), ("de-en", 1, "en"), ("fr-en", 0, "fr"), ("zh-en", 0, "zh")]
ENDS = tuple(".!?。！？")


def paragraphs(bitext: Path, pair: str, column: int, lang: str, count: int) -> list[list[str]]:
    rows = real_bitext_rows(bitext, pair)
    random.Random(0).shuffle(rows)
    whole = [row[column].strip() for row in rows if row[column].strip().endswith(ENDS)]
    return [whole[i : i + 3] for i in range(0, 3 * count, 3)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--paragraphs", type=int, default=1000)
    parser.add_argument("--bitext", type=Path, default=REAL_BITEXT)
    args = parser.parse_args()
    require_real_bitext(args.bitext)
    print(f"machine: {machine()}; {args.paragraphs} paragraphs of 3 sentences per language")
    print("| splitter | " + " | ".join(lang for _, _, lang in SIDES) + " | paragraphs/s (de) |")
    print("|---|" + "---|" * (len(SIDES) + 1))
    for name in SPLITTERS:
        cells, rate = [], "-"
        for pair, column, lang in SIDES:
            try:
                splitter = load_splitter(name, lang)
            except RxError:
                cells.append("-")
                continue
            sample = paragraphs(args.bitext, pair, column, lang, args.paragraphs)
            joiner = "" if lang == "zh" else " "
            tic = time.perf_counter()
            found = [splitter.split(joiner.join(sentences)) for sentences in sample]
            seconds = time.perf_counter() - tic
            right = sum(got == sentences for got, sentences in zip(found, sample))
            cells.append(f"{100 * right / len(sample):.1f}")
            if lang == "de":
                rate = f"{len(sample) / seconds:,.0f}"
        print(f"| {name} | " + " | ".join(cells) + f" | {rate} |", flush=True)


if __name__ == "__main__":
    main()
