"""Layer sweeps: pooled vectors at many layers from one forward pass (all hidden states at once).

``LayerSweepEncoder.encode_layers`` runs the encoder truncated at the highest requested layer once per batch and
pools every requested ``hidden_states[K]`` with the same pooling modules a single-layer ``Encoder`` uses, so the
vectors of layer K equal ``load_encoder(model, K).encode`` (up to float rounding).

Evaluators score one unit (a Tatoeba language, a BUCC pair) at a time: ``layer_encoders`` gives one encoder-like
view per layer over a cache that encodes each sentence list once, so a unit's vectors of every layer are held in
memory (n × layers × dimension floats), never the whole task's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from retrieval_xfer.encoding.encoder import Encoder, EncoderSpec
from retrieval_xfer.errors import RxError


def parse_layers(value: str, num_layers: int) -> list[int]:
    """``"all"`` → 0..N; ``"4,8,-1"`` → [4, 8, N] (sorted, unique). RxError for a layer out of range."""
    if value.strip() == "all":
        return list(range(num_layers + 1))
    layers = set()
    for part in value.split(","):
        try:
            layer = int(part)
        except ValueError:
            raise RxError(f"--layers {value!r}: expected 'all' or comma-separated layer numbers") from None
        layer = num_layers if layer == -1 else layer
        if not 0 <= layer <= num_layers:
            raise RxError(f"--layers: layer {layer} is out of range (0 = embeddings .. {num_layers} = last, or -1)")
        layers.add(layer)
    return sorted(layers)


class LayerSweepEncoder:
    """Wraps an ``Encoder`` loaded at the highest layer of ``layers``; ``encode_layers`` returns ``{layer: vectors}``
    (float32, L2-normalised, input order). ``spec_for(layer)`` describes the vectors of one layer.

    ``main_layer`` is the layer whose scores head a result: the layer the same command would use without a sweep
    (the loader decides it; default: the highest swept layer)."""

    def __init__(self, encoder: Encoder, layers: list[int], main_layer: int | None = None) -> None:
        if encoder.spec.pooling.startswith("own:"):
            raise RxError(
                "a layer sweep needs layer-mean pooling; a sentence-transformers model's own pipeline has one layer"
            )
        if max(layers) != encoder.spec.layer:
            raise ValueError("the encoder must be loaded at the highest layer of the sweep")
        self.encoder = encoder
        self.layers = list(layers)
        self.main_layer = main_layer if main_layer is not None else self.layers[-1]
        if self.main_layer not in self.layers:
            raise ValueError("the main layer must be one of the swept layers")
        self.spec = encoder.spec
        encoder.model[0].auto_model.config.output_hidden_states = True

    def spec_for(self, layer: int) -> EncoderSpec:
        """The spec of one layer's vectors (the weights hash is of the model that ran: layers 1..max)."""
        return dataclasses.replace(self.spec, layer=layer)

    def encode_layers(self, sentences: Sequence[str], desc: str = "encoding") -> dict[int, np.ndarray]:
        """Vectors of ``sentences`` at every layer of the sweep, one forward pass per batch."""
        model = self.encoder.model
        modules = list(model)
        out = {layer: np.zeros((len(sentences), self.spec.dimension), dtype=np.float32) for layer in self.layers}
        with (
            torch.no_grad(),
            tqdm(total=len(sentences), desc=desc, unit="sent", disable=not self.encoder.show_progress) as bar,
        ):
            for rows in self.encoder.batches(sentences):
                features = model.preprocess([sentences[i] for i in rows], prompt=self.spec.prompt or None)
                features = {k: v.to(model.device) if isinstance(v, torch.Tensor) else v for k, v in features.items()}
                hidden = modules[0](features)["all_layer_embeddings"]
                for layer in self.layers:
                    pooled: dict[str, Any] = {**features, "token_embeddings": hidden[layer].float()}  # pool in fp32
                    for module in modules[1:]:
                        pooled = module(pooled)
                    out[layer][rows] = pooled["sentence_embedding"].float().cpu().numpy()
                bar.update(len(rows))
        return out


class _SweepCache:
    """Encodes each distinct sentence list once, at every layer of the sweep."""

    def __init__(self, sweep: LayerSweepEncoder) -> None:
        self.sweep = sweep
        self.store: dict[tuple[str, ...], dict[int, np.ndarray]] = {}

    def vectors(self, sentences: Sequence[str], layer: int, desc: str) -> np.ndarray:
        key = tuple(sentences)
        if key not in self.store:
            self.store[key] = self.sweep.encode_layers(
                sentences, desc=f"{desc} (layers {self.sweep.layers[0]}-{self.sweep.layers[-1]})"
            )
        return self.store[key][layer]


class _LayerView:
    """Encoder-like (``spec``, ``show_progress``, ``encode``) view of one layer of a sweep cache."""

    def __init__(self, cache: _SweepCache, layer: int) -> None:
        self.cache = cache
        self.layer = layer
        self.spec = cache.sweep.spec_for(layer)
        self.show_progress = cache.sweep.encoder.show_progress

    def encode(self, sentences: Sequence[str], desc: str = "encoding") -> np.ndarray:
        return self.cache.vectors(sentences, self.layer, desc)


def layer_encoders(encoder: Encoder | LayerSweepEncoder) -> list[tuple[int, Any]]:
    """``[(layer, encoder-like)]`` for one evaluation unit: the encoder itself, or one view per swept layer over a
    fresh cache (so each sentence list of the unit is encoded once for all layers)."""
    if isinstance(encoder, LayerSweepEncoder):
        cache = _SweepCache(encoder)
        return [(layer, _LayerView(cache, layer)) for layer in encoder.layers]
    return [(encoder.spec.layer, encoder)]


def main_layer(encoder: Encoder | LayerSweepEncoder) -> int:
    """The layer a result's headline scores come from (see ``LayerSweepEncoder.main_layer``)."""
    return encoder.main_layer if isinstance(encoder, LayerSweepEncoder) else encoder.spec.layer


def per_layer_result(
    encoder: Encoder | LayerSweepEncoder, by_layer: dict[int, dict[str, Any]], key: str, averages: Any
) -> tuple[dict[str, Any], EncoderSpec, dict[str, Any]]:
    """From scores per layer (``{layer: {unit: scores}}``): the main layer's scores, the spec of its vectors, and
    the ``layer_sweep`` section of a result file (``{}`` for a one-layer encoder). ``averages(scores)`` gives a
    layer's averages; ``key`` names the headline score in them."""
    main = main_layer(encoder)
    if not isinstance(encoder, LayerSweepEncoder):
        return by_layer[main], encoder.spec, {}
    section = {
        "main_layer": main,
        "key": key,
        "layers": {str(layer): {"averages": averages(s), "scores": s} for layer, s in by_layer.items()},
    }
    return by_layer[main], encoder.spec_for(main), {"layer_sweep": section}
