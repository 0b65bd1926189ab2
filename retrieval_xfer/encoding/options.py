"""The options of every command that encodes text, as one dataclass.

The CLI builds its click options from these fields (their ``metadata``) and experiment files accept the same
names, so ``rx eval`` and ``rx experiment`` cannot drift apart. ``load`` and ``load_sweep`` import the model
stack only when called, so reading options stays light.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from retrieval_xfer.encoding.batching import batching
from retrieval_xfer.encoding.precision import PRECISION_CHOICES
from retrieval_xfer.errors import RxError
from retrieval_xfer.specs import EncoderSpec

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from retrieval_xfer.encoding.backend_encoder import BackendEncoder
    from retrieval_xfer.encoding.encoder import Encoder
    from retrieval_xfer.encoding.layer_sweep import LayerSweepEncoder

BACKEND_NAMES = ("torch", "onnx", "openvino")
QUANTIZE_NAMES = ("none", "int8")


@dataclass(frozen=True)
class EncoderOptions:
    """Which model to run, which layer to pool and how: everything ``encoding.loader.load_encoder`` takes."""

    model: str = field(
        metadata={"help": "Hub id or local folder (sentence-transformers or transformers).", "required": True}
    )
    layer: int | None = field(
        default=None,
        metadata={
            "help": "hidden_states index to mean-pool: 0 = embeddings, N = last, -1 = last. Default: min(N, N//2+2) "
            "for a transformers model; a sentence-transformers model keeps its own pipeline. With --layers, "
            "the layer whose scores head the result.",
            "show_default": False,
        },
    )
    pool_skip_special: bool = field(
        default=False, metadata={"help": "Leave special tokens (<s>, </s>) out of the mean.", "flag": True}
    )
    prompt: str = field(default="", metadata={"help": 'Text prepended to every sentence, e.g. "query: ".'})
    prompt_name: str | None = field(
        default=None,
        metadata={
            "help": "A prompt the sentence-transformers model names in its config (e.g. query), instead of --prompt."
        },
    )
    batch_size: int | None = field(
        default=None,
        metadata={"help": "A fixed number of sentences per forward pass, instead of --max-tokens.", "min": 1},
    )
    max_tokens: int | None = field(
        default=None,
        metadata={
            "help": "Tokens per forward pass: as many sentences as fit (sentences x the longest's tokens), so "
            "short ones share a pass by the hundreds. Default: 2048, unless --batch-size is given (a GPU wants "
            "more: 16384, say).",
            "min": 1,
            "show_default": False,
        },
    )
    max_length: int | None = field(
        default=None,
        metadata={"help": "Tokens per sentence (longer ones are truncated). Default: the model's.", "min": 1},
    )
    device: str | None = field(
        default=None, metadata={"help": "cpu, cuda, cuda:1, mps... Default: cuda if available, else cpu."}
    )
    precision: str = field(
        default="auto",
        metadata={
            "help": "Compute precision of the model (pooling and similarities stay float32). auto: bfloat16 on a GPU "
            "or a CPU with native bfloat16 (avx512_bf16, amx_bf16: Tatoeba-36 within 0.05 points of float32, "
            "README), float32 elsewhere; the choice is recorded.",
            "choices": PRECISION_CHOICES,
        },
    )
    backend: str = field(
        default="torch",
        metadata={
            "help": "What runs the encoder: torch, or an exported model run by onnx (ONNX Runtime) or openvino "
            "(CPU; extras .[onnx]/.[openvino]). Exports are cached (see --backend-cache).",
            "choices": BACKEND_NAMES,
        },
    )
    quantize: str = field(
        default="none",
        metadata={
            "help": "int8: static int8 quantisation (NNCF) of the onnx/openvino model, calibrated on "
            "--calibration-file or a sample of the input.",
            "choices": QUANTIZE_NAMES,
        },
    )
    calibration_file: str | None = field(
        default=None,
        metadata={"help": "Sentences (one per line, >= 50) to calibrate int8 on. Default: a sample of the input."},
    )
    backend_cache: str | None = field(
        default=None,
        metadata={"help": "Folder of exported models. Default: $RX_BACKEND_CACHE or ~/.cache/retrieval_xfer/backends."},
    )
    quiet: bool = field(default=False, metadata={"help": "No progress bars.", "flag": True})

    def describe(self, encoder: Encoder | LayerSweepEncoder) -> str:
        """One line saying what runs: model, layer(s), pooling, prompt, dimension."""
        spec = encoder.spec
        layers = getattr(encoder, "layers", None)
        where = (
            f"layers {', '.join(map(str, layers))} of {spec.num_layers} (one forward)"
            if layers
            else f"layer {spec.layer} of {spec.num_layers}"
        )
        runs = (
            f" | {spec.backend} {'int8' if spec.quantization == 'int8' else 'float32'}"
            if spec.backend != "torch"
            else ""
        )
        return (
            f"encoder: {spec.model} | {where} | pooling {spec.pooling} | prompt {spec.prompt!r} | "
            f"dim {spec.dimension}{runs}"
        )

    def check_backend(self) -> None:
        """RxError for backend settings that do not go together (int8 or a calibration file with torch, a half
        precision with an exported model)."""
        if self.backend == "torch" and (self.quantize != "none" or self.calibration_file):
            raise RxError("--quantize int8 and --calibration-file need --backend onnx or openvino")
        if self.backend != "torch" and self.precision not in ("float32", "auto"):
            raise RxError(
                f"--backend {self.backend} runs float32 (or --quantize int8); --precision "
                f"{self.precision} is for --backend torch"
            )

    def needs_corpus(self) -> bool:
        """Whether ``load`` wants the sentences to be encoded: int8 without a ``--calibration-file`` samples its
        calibration set from them (unless a cached int8 model is reused)."""
        return self.quantize == "int8" and not self.calibration_file

    def quantized_like(self, built: EncoderSpec) -> EncoderOptions:
        """These options, running ``built``'s quantised model when ``built`` (an index's or an export's encoder)
        is int8 and no quantisation was asked for: int8 vectors only match the same int8 model."""
        if built.quantization == "none" or self.quantize != "none":
            return self
        return dataclasses.replace(self, backend=built.backend, quantize=built.quantization)

    def resolved_prompt(self) -> str:
        """``prompt``, or the text of the model's prompt named ``prompt_name``; RxError when both are given."""
        if self.prompt_name is None:
            return self.prompt
        if self.prompt:
            raise RxError("give --prompt or --prompt-name, not both")
        from retrieval_xfer.encoding.source import named_prompt, resolve_model

        return named_prompt(resolve_model(self.model), self.prompt_name)

    def load(self, corpus: Sequence[str] | None = None) -> Encoder | BackendEncoder:
        """The ``Encoder`` these options describe (``describe``'s line is logged). ``corpus``: sentences the
        command will encode, from which ``--quantize int8`` samples its calibration set."""
        self.check_backend()
        batching(self.batch_size, self.max_tokens)  # both given: one line before any model is loaded
        if self.backend != "torch":
            from retrieval_xfer.encoding.backend_encoder import load_backend_encoder

            encoder = load_backend_encoder(
                self.model,
                self.layer,
                backend=self.backend,
                quantize=self.quantize,
                calibration_file=self.calibration_file,
                corpus=corpus,
                cache=self.backend_cache,
                pool_skip_special=self.pool_skip_special,
                prompt=self.resolved_prompt(),
                max_length=self.max_length,
                batch_size=self.batch_size,
                max_tokens=self.max_tokens,
                show_progress=not self.quiet,
            )
            logger.info(self.describe(encoder))
            return encoder
        from retrieval_xfer.encoding.loader import load_encoder

        encoder = load_encoder(
            self.model,
            self.layer,
            pool_skip_special=self.pool_skip_special,
            prompt=self.resolved_prompt(),
            max_length=self.max_length,
            device=self.device,
            precision=self.precision,
            batch_size=self.batch_size,
            max_tokens=self.max_tokens,
            show_progress=not self.quiet,
        )
        logger.info(self.describe(encoder))
        return encoder

    def load_sweep(self, layers: str) -> LayerSweepEncoder:
        """A ``LayerSweepEncoder`` over ``layers`` (``"all"`` or ``"4,8,-1"``); ``layer``, if set, is its headline."""
        from retrieval_xfer.encoding.loader import load_layer_sweep

        batching(self.batch_size, self.max_tokens)
        if self.backend != "torch":
            raise RxError(
                f"--layers pools every layer from one torch forward pass; --backend {self.backend} runs one "
                "exported layer: drop --layers, or use --backend torch"
            )
        sweep = load_layer_sweep(
            self.model,
            layers,
            main_layer=self.layer,
            pool_skip_special=self.pool_skip_special,
            prompt=self.resolved_prompt(),
            max_length=self.max_length,
            device=self.device,
            precision=self.precision,
            batch_size=self.batch_size,
            max_tokens=self.max_tokens,
            show_progress=not self.quiet,
        )
        logger.info(self.describe(sweep))
        return sweep

    def load_for(
        self, layers: str | None, corpus: Sequence[str] | None = None
    ) -> Encoder | BackendEncoder | LayerSweepEncoder:
        """``load_sweep(layers)`` when ``layers`` is given, else ``load(corpus)``."""
        return self.load_sweep(layers) if layers else self.load(corpus)
