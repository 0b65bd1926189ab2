"""Layer sweep cost: every layer from one forward pass vs. one truncated run per layer, in one run.

Same sentences, same batch size. Three ways to get mean-pooled vectors of layers 0..N:
  sweep          rx's LayerSweepEncoder: one forward to layer N, every hidden state pooled
  per-layer      rx's Encoder once per layer K (truncated at K): what a loop over --layer K would cost
  last-layer     rx's Encoder at layer N alone: the floor a sweep cannot beat
Prints seconds for each, the ratios, and the largest difference between swept and per-layer vectors.

usage: python bench/layer_sweep.py [--sentences 1000] [--batch-size 32]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import machine, real_encoder
from encode_throughput import sentences

from retrieval_xfer.encoding.loader import load_encoder, load_layer_sweep, model_num_layers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    model = real_encoder()
    texts = sentences(args.sentences)
    n = model_num_layers(model)
    print(f"machine: {machine()}\nmodel: {model} ({n} layers), {len(texts)} sentences, batch {args.batch_size}")

    sweep = load_layer_sweep(model, "all", batch_size=args.batch_size, show_progress=False)
    tic = time.perf_counter()
    swept = sweep.encode_layers(texts)
    sweep_s = time.perf_counter() - tic

    per_layer_s, worst = 0.0, 0.0
    last_s = 0.0
    for layer in range(n + 1):
        encoder = load_encoder(model, layer, batch_size=args.batch_size, show_progress=False)
        tic = time.perf_counter()
        vectors = encoder.encode(texts)
        seconds = time.perf_counter() - tic
        per_layer_s += seconds
        last_s = seconds if layer == n else last_s
        worst = max(worst, float(np.abs(vectors - swept[layer]).max()))
    print(f"sweep (one forward, {n + 1} layers): {sweep_s:7.1f} s")
    print(f"one run per layer (sum of {n + 1}):  {per_layer_s:7.1f} s   ratio {per_layer_s / sweep_s:.2f}x")
    print(f"last layer alone:                 {last_s:7.1f} s   sweep costs {sweep_s / last_s:.2f}x of it")
    print(f"largest |swept - per-layer| element: {worst:.2e}")


if __name__ == "__main__":
    main()
