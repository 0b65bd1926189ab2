"""rx prepare --split-sentences on one very long line (a crawled page without newlines): linear time.

    python bench/long_line_split.py [--sizes 1,2,4,8] [--splitters moses,pysbd]

The line is Tatoeba's English sentences (../shared/data) joined by spaces until it has the size asked, written
as one line; ``rx prepare --lid none --split-sentences S`` runs on it in-process. Printed per size: seconds and
seconds per MB (flat = linear). For contrast, the splitter handed the whole line at once (what rx did before
``MAX_SPLIT_CHARS``) on small sizes only: its seconds per MB grow with the size.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED, machine  # noqa: E402

from retrieval_xfer.prepare.options import PrepareOptions  # noqa: E402
from retrieval_xfer.prepare.pipeline import prepare_file  # noqa: E402
from retrieval_xfer.prepare.sentences import MAX_SPLIT_CHARS, load_splitter  # noqa: E402


def long_line(megabytes: float) -> str:
    sentences = (SHARED / "data/tatoeba/v1/tatoeba.deu-eng.eng").read_text(encoding="utf-8").split("\n")
    text, size, i = [], 0, 0
    while size < megabytes * 1_000_000:
        sentence = sentences[i % len(sentences)].strip()
        text.append(sentence)
        size += len(sentence.encode("utf-8")) + 1
        i += 1
    return " ".join(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1,2,4,8", help="MB, comma-separated")
    parser.add_argument("--whole-sizes", default="0.05,0.1,0.2", help="MB for the unbounded splitter")
    parser.add_argument("--splitters", default="moses,pysbd")
    args = parser.parse_args()
    print(f"machine: {machine()}; one line, no newline; cap {MAX_SPLIT_CHARS:,} characters per splitter call")
    print("| splitter | MB | seconds | seconds per MB | sentences kept |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.splitters.split(","):
            for size in [float(s) for s in args.sizes.split(",")]:
                path = Path(tmp) / "line.txt"
                path.write_text(long_line(size) + "\n", encoding="utf-8")
                tic = time.perf_counter()
                report = prepare_file(
                    path,
                    Path(tmp) / f"out-{name}-{size}",
                    PrepareOptions(lang="en", lid="none", split_sentences=name),
                    quiet=True,
                )
                seconds = time.perf_counter() - tic
                print(f"| {name} (rx) | {size:g} | {seconds:.1f} | {seconds / size:.2f} | {report['kept']:,} |")
            whole = load_splitter(name, "en").splitter  # the splitter without rx's bound
            for size in [float(s) for s in args.whole_sizes.split(",")]:
                text = long_line(size)
                tic = time.perf_counter()
                count = len(whole.split(text))
                seconds = time.perf_counter() - tic
                print(f"| {name} (whole line) | {size:g} | {seconds:.1f} | {seconds / size:.2f} | {count:,} |")


if __name__ == "__main__":
    main()
