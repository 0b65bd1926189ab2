"""The options of every command that encodes text, as one dataclass.

The CLI builds its click options from these fields (their ``metadata``) and experiment files accept the same
names, so ``rx eval`` and ``rx experiment`` cannot drift apart. ``load`` and ``load_sweep`` import the model
stack only when called, so reading options stays light.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from retrieval_xfer.errors import RxError

if TYPE_CHECKING:
    from retrieval_xfer.encoding.encoder import Encoder
    from retrieval_xfer.encoding.layer_sweep import LayerSweepEncoder

PRECISION_NAMES = ("float32", "bfloat16", "float16")


@dataclass(frozen=True)
class EncoderOptions:
    """Which model to run, which layer to pool and how: everything ``encoding.loader.load_encoder`` takes."""

    model: str = field(metadata={"help": "Hub id or local folder (sentence-transformers or transformers).",
                                 "required": True})
    layer: int | None = field(default=None, metadata={
        "help": "hidden_states index to mean-pool: 0 = embeddings, N = last, -1 = last. Default: min(N, N//2+2) "
                "for a transformers model; a sentence-transformers model keeps its own pipeline. With --layers, "
                "the layer whose scores head the result.",
        "show_default": False})
    pool_skip_special: bool = field(default=False, metadata={
        "help": "Leave special tokens (<s>, </s>) out of the mean.", "flag": True})
    prompt: str = field(default="", metadata={"help": 'Text prepended to every sentence, e.g. "query: ".'})
    prompt_name: str | None = field(default=None, metadata={
        "help": "A prompt the sentence-transformers model names in its config (e.g. query), instead of --prompt."})
    batch_size: int = field(default=32, metadata={"help": "Sentences per forward pass.", "min": 1})
    max_length: int | None = field(default=None, metadata={
        "help": "Tokens per sentence (longer ones are truncated). Default: the model's.", "min": 1})
    device: str | None = field(default=None, metadata={
        "help": "cpu, cuda, cuda:1, mps... Default: cuda if available, else cpu."})
    precision: str = field(default="float32", metadata={
        "help": "Compute precision. bfloat16 is fast on GPUs; on a CPU keep float32.", "choices": PRECISION_NAMES})
    quiet: bool = field(default=False, metadata={"help": "No progress bars.", "flag": True})

    def describe(self, encoder: Encoder | LayerSweepEncoder) -> str:
        """One line saying what runs: model, layer(s), pooling, prompt, dimension."""
        spec = encoder.spec
        layers = getattr(encoder, "layers", None)
        where = (f"layers {', '.join(map(str, layers))} of {spec.num_layers} (one forward)" if layers
                 else f"layer {spec.layer} of {spec.num_layers}")
        return f"encoder: {spec.model} | {where} | pooling {spec.pooling} | prompt {spec.prompt!r} | dim {spec.dimension}"

    def resolved_prompt(self) -> str:
        """``prompt``, or the text of the model's prompt named ``prompt_name``; RxError when both are given."""
        if self.prompt_name is None:
            return self.prompt
        if self.prompt:
            raise RxError("give --prompt or --prompt-name, not both")
        from retrieval_xfer.encoding.source import named_prompt, resolve_model

        return named_prompt(resolve_model(self.model), self.prompt_name)

    def load(self, echo: Callable[[str], None] | None = None) -> Encoder:
        """The ``Encoder`` these options describe; ``echo`` (if given) receives ``describe``'s line."""
        from retrieval_xfer.encoding.loader import load_encoder

        encoder = load_encoder(self.model, self.layer, pool_skip_special=self.pool_skip_special,
                               prompt=self.resolved_prompt(),
                               max_length=self.max_length, device=self.device, precision=self.precision,
                               batch_size=self.batch_size, show_progress=not self.quiet)
        if echo is not None:
            echo(self.describe(encoder))
        return encoder

    def load_sweep(self, layers: str, echo: Callable[[str], None] | None = None) -> LayerSweepEncoder:
        """A ``LayerSweepEncoder`` over ``layers`` (``"all"`` or ``"4,8,-1"``); ``layer``, if set, is its headline."""
        from retrieval_xfer.encoding.loader import load_layer_sweep

        sweep = load_layer_sweep(self.model, layers, main_layer=self.layer, pool_skip_special=self.pool_skip_special,
                                 prompt=self.resolved_prompt(), max_length=self.max_length, device=self.device,
                                 precision=self.precision, batch_size=self.batch_size, show_progress=not self.quiet)
        if echo is not None:
            echo(self.describe(sweep))
        return sweep

    def load_for(self, layers: str | None, echo: Callable[[str], None] | None = None) -> Encoder | LayerSweepEncoder:
        """``load_sweep(layers)`` when ``layers`` is given, else ``load()``."""
        return self.load_sweep(layers, echo) if layers else self.load(echo)
