"""BUCC zh-en (sample split) with the real encoder: exact k-NN against approximate indexes, in one run.

The sentences are encoded once (a cache in front of the encoder) and mined with each --index-type, so the F1
differences come from the k-NN alone. Prints F1, precision, recall and the k-NN time of each.

usage: python bench/bucc_index_types.py [--layer 8] [--types flat,ivf,hnsw]
"""

from __future__ import annotations

import argparse
import time

from common import SHARED, machine, real_encoder

from retrieval_xfer.encoding.options import EncoderOptions
from retrieval_xfer.evaluation.bucc import evaluate_bucc
from retrieval_xfer.indexing.options import IndexOptions
from retrieval_xfer.mining.options import MiningOptions


class CachedEncoder:
    """The encoder, remembering each sentence list's vectors (BUCC encodes the same corpora for every index)."""

    def __init__(self, encoder) -> None:
        self.encoder, self.spec, self.show_progress = encoder, encoder.spec, False
        self.cache: dict[tuple[str, ...], object] = {}
        self.seconds = 0.0

    def encode(self, sentences, desc: str = "encoding"):
        key = tuple(sentences)
        if key not in self.cache:
            tic = time.perf_counter()
            self.cache[key] = self.encoder.encode(sentences, desc=desc)
            self.seconds += time.perf_counter() - tic
        return self.cache[key]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layer", type=int, default=8)
    parser.add_argument("--types", default="flat,ivf,hnsw")
    args = parser.parse_args()
    model = real_encoder()
    print(f"machine: {machine()}\nmodel: {model}, layer {args.layer}, prompt 'query: ', BUCC zh-en sample split")
    encoder = CachedEncoder(
        EncoderOptions(
            model=model, layer=args.layer, prompt="query: ", batch_size=64, max_length=128, quiet=True
        ).load()
    )
    rows = []
    for kind in args.types.split(","):
        tic = time.perf_counter()
        encoded_before = encoder.seconds
        result = evaluate_bucc(
            encoder, ["zh-en"], SHARED / "data/bucc2018", MiningOptions(index=IndexOptions(index_type=kind))
        )
        mining = time.perf_counter() - tic - (encoder.seconds - encoded_before)
        score = result["scores"]["zh-en"]
        rows.append((kind, score["f1"], score["precision"], score["recall"], mining))
        print(
            f"{kind:5}  F1 {score['f1']:6.2f}  P {score['precision']:6.2f}  R {score['recall']:6.2f}  "
            f"mining {mining:6.1f}s  ({result['mining']['knn'] if kind != 'flat' else 'exact'})"
        )
    flat = next((r for r in rows if r[0] == "flat"), None)
    if flat:
        for kind, f1, *_ in rows:
            if kind != "flat":
                print(f"{kind} F1 - flat F1: {f1 - flat[1]:+.2f}")
    print(f"encoding (once): {encoder.seconds:.1f}s")


if __name__ == "__main__":
    main()
