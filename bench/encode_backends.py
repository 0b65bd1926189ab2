"""Encoding backends on this CPU, in one run: speed against torch at the same layer, and retrieval quality kept.

For torch float32 and bfloat16 at --layer, the full-model ``SentenceTransformer.encode``, and each of onnx/openvino ×
float32/int8:
sentences/s on 2,000 Tatoeba sentences (de + en), the ratio to torch at the same layer and to the full model, the
cosine to torch's vectors, export/calibration seconds and model size (a fresh cache under bench/out), then the
Tatoeba mean accuracy (en→xx and xx→en) on the 36 XTREME languages (--limit pairs each) and BUCC zh-en F1 (sample
split), each as a delta to torch. int8 calibrates on --calibration sentences of Tatoeba languages outside XTREME's
36 (never the test sentences).

usage: python bench/encode_backends.py [--layer 8] [--limit 300] [--skip-quality]
"""

from __future__ import annotations

import argparse
import random
import shutil
import time
from pathlib import Path

import numpy as np
from common import REPO, SHARED, machine, real_encoder

from retrieval_xfer.data.cards import load_card
from retrieval_xfer.encoding.options import EncoderOptions
from retrieval_xfer.evaluation.bucc import evaluate_bucc
from retrieval_xfer.evaluation.tatoeba import evaluate_tatoeba, resolve_languages

TATOEBA = SHARED / "data/tatoeba/v1"
CONFIGS = [  # (backend, quantize, precision); the first is the reference of the ratios and deltas
    ("torch", "none", "float32"),
    ("torch", "none", "bfloat16"),
    ("onnx", "none", "float32"),
    ("openvino", "none", "float32"),
    ("onnx", "int8", "float32"),
    ("openvino", "int8", "float32"),
]


def calibration_file(out: Path, size: int) -> Path:
    """``size`` sentences of the Tatoeba languages XTREME does not use (and English sides of those pairs)."""
    xtreme = {lang.iso3 for lang in resolve_languages("xtreme", load_card("tatoeba"))}
    pool = []
    for path in sorted(TATOEBA.glob("tatoeba.*-eng.*")):
        iso3 = path.name.split(".")[1].split("-")[0]
        if iso3 not in xtreme and path.suffix != ".eng":
            pool += [line.strip() for line in path.read_text(encoding="utf-8").splitlines()[:20] if line.strip()]
    path = out / "calibration.txt"
    path.write_text("\n".join(random.Random(0).sample(pool, size)) + "\n", encoding="utf-8")
    return path


def timed_encode(encoder, sentences: list[str]) -> tuple[np.ndarray, float]:
    encoder.encode(sentences[:64])  # warm up (first-call allocations, OpenVINO shape compilation)
    tic = time.perf_counter()
    vectors = encoder.encode(sentences)
    return vectors, time.perf_counter() - tic


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layer", type=int, default=8)
    parser.add_argument("--limit", type=int, default=300, help="Tatoeba pairs per language")
    parser.add_argument("--calibration", type=int, default=300)
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args()
    model = real_encoder()
    out = REPO / "bench/out/encode_backends"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    calib = calibration_file(out, args.calibration)
    print(f"machine: {machine()}\nmodel: {model}, layer {args.layer}, prompt 'query: ', max_length 128, batch 32")
    sentences = [line.strip() for line in (TATOEBA / "tatoeba.deu-eng.deu").read_text("utf-8").splitlines()[:1000]]
    sentences += [line.strip() for line in (TATOEBA / "tatoeba.deu-eng.eng").read_text("utf-8").splitlines()[:1000]]

    from sentence_transformers import SentenceTransformer

    full = SentenceTransformer(model, device="cpu")
    full.max_seq_length = 128
    full.encode(sentences[:64], prompt="query: ")
    tic = time.perf_counter()
    full.encode(sentences, prompt="query: ", batch_size=32, normalize_embeddings=True)
    full_seconds = time.perf_counter() - tic
    del full
    print(f"full model SentenceTransformer.encode: {len(sentences) / full_seconds:7.1f} sent/s")

    encoders, rows, reference = {}, [], None
    for backend, quantize, precision in CONFIGS:
        options = EncoderOptions(
            model=model,
            layer=args.layer,
            prompt="query: ",
            max_length=128,
            batch_size=32,
            quiet=True,
            backend=backend,
            quantize=quantize,
            precision=precision,
            backend_cache=str(out / "cache"),
            calibration_file=str(calib) if quantize == "int8" else None,
        )
        tic = time.perf_counter()
        encoder = options.load()
        load_seconds = time.perf_counter() - tic
        vectors, seconds = timed_encode(encoder, sentences)
        reference = vectors if reference is None else reference
        cos = (vectors * reference).sum(1)
        size = sum(p.stat().st_size for p in (out / "cache").rglob("*") if p.is_file()) if backend != "torch" else 0
        name = f"{backend} {'int8' if quantize == 'int8' else {'float32': 'fp32', 'bfloat16': 'bf16'}[precision]}"
        rows.append(
            {
                "name": name,
                "rate": len(sentences) / seconds,
                "seconds": seconds,
                "load": load_seconds,
                "cos_mean": float(cos.mean()),
                "cos_min": float(cos.min()),
            }
        )
        again = time.perf_counter()
        options.load()
        rows[-1]["reload"] = time.perf_counter() - again
        if backend != "torch":
            entry = max((out / "cache").glob("*/manifest.json"), key=lambda p: p.stat().st_mtime)
            rows[-1]["entry_mb"] = sum(p.stat().st_size for p in entry.parent.iterdir()) / 2**20
        encoders[name] = encoder
        print(
            f"{name:14} {rows[-1]['rate']:7.1f} sent/s  "
            f"x{rows[-1]['rate'] / rows[0]['rate']:.2f} vs torch L{args.layer}"
            f"  x{rows[-1]['rate'] * full_seconds / len(sentences):.2f} vs full ST  cos mean {cos.mean():.5f} "
            f"min {cos.min():.5f}  first load {load_seconds:5.1f}s  cached load {rows[-1]['reload']:4.1f}s"
            + (f"  model {rows[-1]['entry_mb']:.0f} MiB" if backend != "torch" else "")
            + f" (cache {size / 2**20:.0f} MiB)"
        )
    if args.skip_quality:
        return
    card = load_card("tatoeba")
    languages = resolve_languages("xtreme", card)
    base = None
    for name, encoder in encoders.items():
        tic = time.perf_counter()
        tatoeba = evaluate_tatoeba(encoder, languages, card, TATOEBA, limit=args.limit)["averages"]
        f1 = evaluate_bucc(encoder, ["zh-en"], SHARED / "data/bucc2018")["scores"]["zh-en"]["f1"]
        scores = (tatoeba["en2xx"], tatoeba["xx2en"], tatoeba["mean"], f1)
        base = base or scores
        print(
            f"{name:14} Tatoeba-36 en→xx {scores[0]:6.2f} ({scores[0] - base[0]:+.2f})  xx→en {scores[1]:6.2f} "
            f"({scores[1] - base[1]:+.2f})  mean {scores[2]:6.2f} ({scores[2] - base[2]:+.2f})  "
            f"BUCC zh-en F1 {f1:6.2f} ({f1 - base[3]:+.2f})  [{time.perf_counter() - tic:.0f}s]",
            flush=True,
        )


if __name__ == "__main__":
    main()
