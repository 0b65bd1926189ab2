"""Encoding throughput at layer K with the truncated encoder vs. the same model's full forward, in one run.

Three encoders over the same sentences, same batch size, same max length, each timed on the same inputs:
  full-st     SentenceTransformer(model).encode: the model's own full forward (all N layers)
  full-layerK all N layers run, hidden_states[K] mean-pooled (the embedding rx wants, computed without truncation)
  rx-layerK   rx's encoder: only layers 1..K loaded and run, --batch-size sentences per pass
  rx-budget   the same, with as many sentences per pass as fit in --max-tokens tokens (rx --max-tokens)
Prints sentences/s for each, the speed-up ratios, and the minimum cosine between rx-layerK and full-layerK.

usage: python bench/encode_throughput.py [--layer 8] [--sentences 2000] [--batch-size 64] [--max-tokens 16384]
       [--device cpu] [--precision float32]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from common import SHARED, machine, real_encoder
from sentence_transformers import SentenceTransformer
from sentence_transformers.base.modules import Normalize, Transformer
from sentence_transformers.sentence_transformer.modules import Pooling

from retrieval_xfer.data.text_files import read_corpus
from retrieval_xfer.encoding.loader import load_encoder
from retrieval_xfer.encoding.source import resolve_model


def sentences(n: int) -> list[str]:
    """n Tatoeba sentences drawn round-robin from several languages (real lengths and scripts), each language's
    file starting over when it runs out (swh has 390 sentences)."""
    langs = ["deu", "fra", "cmn", "ara", "rus", "hin", "swh", "eng"]
    pools = [
        read_corpus(SHARED / f"data/tatoeba/v1/tatoeba.{lang if lang != 'eng' else 'deu'}-eng.{lang}")[1]
        for lang in langs
    ]
    return [pools[i % len(pools)][(i // len(pools)) % len(pools[i % len(pools)])] for i in range(n)]


def timed(encode, texts: list[str], repeats: int) -> tuple[float, np.ndarray]:
    """Best-of-``repeats`` wall time of encode(texts) and its output."""
    best, out = float("inf"), None
    for _ in range(repeats):
        tic = time.perf_counter()
        out = encode(texts)
        best = min(best, time.perf_counter() - tic)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layer", type=int, default=8)
    parser.add_argument("--sentences", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-tokens", type=int, default=16384, help="token budget of rx-budget's passes")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--precision", default="float32", choices=["float32", "bfloat16", "float16"])
    args = parser.parse_args()

    model = real_encoder()
    texts = sentences(args.sentences)
    source = resolve_model(model)
    dtype = getattr(torch, args.precision)
    kwargs = dict(batch_size=args.batch_size, prompt="query: ", show_progress_bar=False, normalize_embeddings=True)

    full_st = SentenceTransformer(str(source.folder), device=args.device).to(dtype)
    full_layer = SentenceTransformer(
        modules=[
            Transformer(
                str(source.transformer_folder),
                modality_config={"text": {"method": "forward", "method_output_name": ["hidden_states", args.layer]}},
                module_output_name="token_embeddings",
            ),
            Pooling(full_st.get_embedding_dimension(), "mean"),
            Normalize(),
        ],
        device=args.device,
    ).to(dtype)
    ours, budget = (  # rx with a fixed batch, and with a token budget
        load_encoder(
            model,
            args.layer,
            prompt="query: ",
            device=args.device,
            precision=args.precision,
            show_progress=False,
            **batching,
        )
        for batching in ({"batch_size": args.batch_size}, {"max_tokens": args.max_tokens})
    )
    n_layers = ours.spec.num_layers
    passes = budget.batches(texts)

    warm = texts[: args.batch_size]
    full_st.encode(warm, **kwargs), full_layer.encode(warm, **kwargs), ours.encode(warm), budget.encode(texts[:2000])
    t_st, _ = timed(lambda t: full_st.encode(t, **kwargs), texts, args.repeats)
    t_full, v_full = timed(lambda t: full_layer.encode(t, **kwargs), texts, args.repeats)
    t_ours, v_ours = timed(ours.encode, texts, args.repeats)
    t_budget, v_budget = timed(budget.encode, texts, args.repeats)
    cos = (np.asarray(v_full, np.float32) * v_ours).sum(axis=1)

    print(f"machine: {machine()}")
    print(
        f"model: {model} ({n_layers} layers), layer {args.layer}, {len(texts)} Tatoeba sentences, "
        f"batch {args.batch_size}, {args.device} {args.precision}, best of {args.repeats}"
    )
    for name, seconds in [
        ("full-st (all layers, own pipeline)", t_st),
        (f"full-layer{args.layer} (all layers run)", t_full),
        (f"rx-layer{args.layer} (layers 1..{args.layer} run)", t_ours),
        (f"rx-budget ({args.max_tokens} tokens a pass)", t_budget),
    ]:
        print(f"  {name:<40} {len(texts) / seconds:8.1f} sentences/s  ({seconds:.2f} s)")
    print(f"speed-up rx-layer{args.layer} vs full-st:        {t_st / t_ours:.2f}x")
    print(
        f"speed-up rx-layer{args.layer} vs full-layer{args.layer}:     {t_full / t_ours:.2f}x "
        f"(ideal {n_layers}/{args.layer} = {n_layers / args.layer:.2f}x)"
    )
    print(
        f"speed-up rx-budget vs rx-layer{args.layer}:      {t_ours / t_budget:.2f}x "
        f"({len(passes)} passes of {min(map(len, passes))}-{max(map(len, passes))} sentences, "
        f"against {-(-len(texts) // args.batch_size)} of {args.batch_size})"
    )
    print(f"speed-up rx-budget vs full-st:          {t_st / t_budget:.2f}x")
    print(f"embedding agreement rx vs full hidden_states[{args.layer}]: min cosine {cos.min():.7f}")
    print(f"embedding agreement rx-budget vs rx: min cosine {(v_budget * v_ours).sum(axis=1).min():.7f}")


if __name__ == "__main__":
    main()
