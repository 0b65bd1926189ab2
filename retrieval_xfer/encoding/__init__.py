"""Encoders: a model folder or hub id in, L2-normalised sentence vectors out (mean-pooled at a chosen layer)."""

from retrieval_xfer.encoding.encoder import Encoder, EncoderSpec
from retrieval_xfer.encoding.layer_sweep import LayerSweepEncoder
from retrieval_xfer.encoding.loader import default_layer, load_encoder, load_layer_sweep, resolve_layer

__all__ = ["Encoder", "EncoderSpec", "LayerSweepEncoder", "default_layer", "load_encoder", "load_layer_sweep",
           "resolve_layer"]
