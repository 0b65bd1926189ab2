"""rx prepare on every script: the non-English side of all 112 Tatoeba languages (../shared/data/tatoeba/v1).

    python bench/prepare_scripts.py [--lid none|py3langid|both]

Per language: lines, lines of >= 5 characters, the share of those kept by the line filters (``--lid none``: what
"few letters" drops), near duplicates dropped, and with ``--lid py3langid`` the lines language identification
drops, or "refused" where py3langid does not know the language (rx refuses it in one line and advises
``--lid none``). Tatoeba codes are ISO 639-3, given to rx as they are (rx maps them to the code the identifier
knows: ``kor`` to ``ko``, Mandarin ``cmn`` to its macrolanguage ``zh``).
Run it against another checkout with ``PYTHONPATH=OTHER/ python bench/prepare_scripts.py`` to compare.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED, machine  # noqa: E402

from retrieval_xfer.errors import RxError  # noqa: E402
from retrieval_xfer.prepare.normalise import normalise_text  # noqa: E402
from retrieval_xfer.prepare.options import PrepareOptions  # noqa: E402
from retrieval_xfer.prepare.pipeline import prepare_file  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lid", choices=["none", "py3langid", "both"], default="both")
    args = parser.parse_args()
    files = sorted(p for p in (SHARED / "data/tatoeba/v1").glob("tatoeba.*-eng.*") if p.suffix != ".eng")
    print(f"machine: {machine()}; {len(files)} Tatoeba languages")
    print("| lang | lines | >= 5 chars | kept, --lid none | few letters | near dup | py3langid drops |")
    print("|---|---|---|---|---|---|---|")
    shares, refused = {}, []
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            code = path.suffix[1:]
            lines = path.read_text(encoding="utf-8").splitlines()
            long_enough = sum(len(normalise_text(line)) >= 5 for line in lines)
            cells = ["-", "-", "-"]
            if args.lid in ("none", "both"):
                report = prepare_file(
                    path, Path(tmp) / f"{code}-none", PrepareOptions(lang=code, lid="none"), quiet=True
                )
                few = report["dropped"].get("few letters", 0)
                shares[code] = 1 - few / max(long_enough, 1)
                cells[:2] = [f"{shares[code]:.1%}", str(few)]
                cells[2] = str(report["dropped"].get("near duplicate", 0))
            lid_cell = "-"
            if args.lid in ("py3langid", "both"):
                try:
                    options = PrepareOptions(lang=code, lid="py3langid")
                    report = prepare_file(path, Path(tmp) / f"{code}-lid", options, quiet=True)
                    dropped = sum(report["dropped"].get(r, 0) for r in ("wrong language", "language not identified"))
                    lid_cell = f"{dropped / len(lines):.0%} ({dropped}) as {report['identified_as']}"
                except RxError as err:
                    refused.append(code)
                    lid_cell = "refused" if "does not know" in str(err) else f"error: {err}"
            print(f"| {code} | {len(lines)} | {long_enough} | {cells[0]} | {cells[1]} | {cells[2]} | {lid_cell} |")
    if shares:
        worst = min(shares, key=shares.get)
        print(
            f"minimum kept share with --lid none: {worst} {shares[worst]:.2%}; "
            f"{sum(s >= 0.99 for s in shares.values())} of {len(shares)} languages keep >= 99 %"
        )
    if refused:
        print(f"py3langid does not know {len(refused)} languages: {' '.join(refused)}")


if __name__ == "__main__":
    main()
