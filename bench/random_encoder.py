"""Materialise a randomly initialised encoder of a real model's shape, for timing where no weights can go.

Speed does not depend on the weights, so a GPU or CPU machine without hub access can time XLM-R Large (560M
parameters, 24 layers) from its configuration alone. The tokenizer is taken from a local folder (the offline
multilingual-e5-small uses XLM-R's 250,002-piece SentencePiece vocabulary, so its sentences tokenise to XLM-R's
lengths). The folder written is a plain transformers folder (config, safetensors, tokenizer) that every rx
command and the benchmarks accept as a model.

usage: python bench/random_encoder.py --shape xlm-roberta-large --tokenizer DIR --out DIR
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import torch
from transformers import XLMRobertaConfig, XLMRobertaModel

# Hub configurations written out, so nothing is fetched (values of FacebookAI/xlm-roberta-{base,large}/config.json).
SHAPES = {
    "xlm-roberta-large": dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096),
    "xlm-roberta-base": dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072),
}
COMMON = dict(
    vocab_size=250002,
    max_position_embeddings=514,
    type_vocab_size=1,
    layer_norm_eps=1e-5,
    pad_token_id=1,
    bos_token_id=0,
    eos_token_id=2,
    hidden_act="gelu",
)
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "sentencepiece.bpe.model")


def materialise(shape: str, tokenizer: Path, out: Path, seed: int = 0) -> int:
    """Write a random ``shape`` model with ``tokenizer``'s files into ``out``; returns its parameter count."""
    torch.manual_seed(seed)
    config = XLMRobertaConfig(**COMMON, **SHAPES[shape])
    model = XLMRobertaModel(config, add_pooling_layer=False)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    copied = [name for name in TOKENIZER_FILES if (tokenizer / name).is_file()]
    if "tokenizer.json" not in copied:
        raise SystemExit(f"{tokenizer}: no tokenizer.json")
    for name in copied:
        shutil.copy(tokenizer / name, out / name)
    return sum(p.numel() for p in model.parameters())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shape", choices=sorted(SHAPES), default="xlm-roberta-large")
    parser.add_argument("--tokenizer", type=Path, required=True, help="folder holding an XLM-R tokenizer.json")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    params = materialise(args.shape, args.tokenizer, args.out)
    print(f"{args.shape} (random weights, {params / 1e6:.0f}M parameters) -> {args.out}")


if __name__ == "__main__":
    main()
