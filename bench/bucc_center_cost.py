"""What `rx eval bucc --center language` costs over the raw run: encoding time and sentences encoded.

    python bench/bucc_center_cost.py [--layer 8] [--layers all] [--center none,language]

BUCC zh-en sample (../shared/data/bucc2018) with the offline multilingual-e5-small (or RX_MODEL), in-process:
``run_bucc`` with ``Encoder.encode`` wrapped to count sentences and time them. One line per setting: sentences
encoded, encoding seconds, total seconds, F1 (and centered F1). Run it against an older checkout with
``PYTHONPATH=<checkout> python bench/bucc_center_cost.py`` to compare.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED, machine, real_encoder  # noqa: E402

from retrieval_xfer.data.cards import load_card  # noqa: E402
from retrieval_xfer.encoding.encoder import Encoder  # noqa: E402
from retrieval_xfer.encoding.layer_sweep import LayerSweepEncoder  # noqa: E402
from retrieval_xfer.encoding.options import EncoderOptions  # noqa: E402
from retrieval_xfer.evaluation.bucc import run_bucc  # noqa: E402
from retrieval_xfer.evaluation.retrieval_options import BuccOptions  # noqa: E402
from retrieval_xfer.mining.options import MiningOptions  # noqa: E402

COUNTS = {"sentences": 0, "seconds": 0.0}


def counted(encode):
    def wrapper(self, sentences, *args, **kwargs):
        tic = time.perf_counter()
        vectors = encode(self, sentences, *args, **kwargs)
        COUNTS["seconds"] += time.perf_counter() - tic
        COUNTS["sentences"] += len(sentences)
        return vectors

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layer", type=int, default=8)
    parser.add_argument("--layers", default=None, help="a layer sweep instead of one layer, e.g. all")
    parser.add_argument("--center", default="none,language")
    args = parser.parse_args()
    Encoder.encode = counted(Encoder.encode)
    LayerSweepEncoder.encode_layers = counted(LayerSweepEncoder.encode_layers)  # a sweep's one pass per corpus
    model = real_encoder()
    print(f"machine: {machine()}; model {model}; BUCC zh-en sample; layer {args.layers or args.layer}")
    print("| center | sentences encoded | encoding s | total s | F1 | F1 centered |")
    print("|---|---|---|---|---|---|")
    for center in args.center.split(","):
        COUNTS.update(sentences=0, seconds=0.0)
        tic = time.perf_counter()
        result = run_bucc(
            load_card("bucc2018"),
            EncoderOptions(model=model, layer=args.layer, prompt="query: ", quiet=True),
            BuccOptions(
                pairs="zh-en",
                data_dir=SHARED / "data" / "bucc2018",
                layers=args.layers,
                mining=MiningOptions(center=center),
                predictions_dir=Path(tempfile.mkdtemp()),
            ),
        )
        total = time.perf_counter() - tic
        score = result["scores"]["zh-en"]
        centered = score.get("centered", {}).get("f1")
        print(
            f"| {center} | {COUNTS['sentences']:,} | {COUNTS['seconds']:.1f} | {total:.1f} | {score['f1']:.2f} | "
            f"{'-' if centered is None else f'{centered:.2f}'} |"
        )


if __name__ == "__main__":
    main()
