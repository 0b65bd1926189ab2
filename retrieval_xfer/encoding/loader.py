"""Build an ``Encoder`` from a hub id or a local folder, running only the layers that the pooled layer needs."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
from collections.abc import Iterator
from typing import Any

import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.base.modules import Normalize, Transformer
from sentence_transformers.sentence_transformer.modules import Pooling

from retrieval_xfer.encoding.encoder import Encoder
from retrieval_xfer.encoding.layer_sweep import LayerSweepEncoder, parse_layers
from retrieval_xfer.encoding.pooling import SpecialTokenFreeMeanPooling
from retrieval_xfer.encoding.precision import PRECISION_CHOICES, PRECISION_NAMES, choose_precision
from retrieval_xfer.encoding.source import ModelSource, resolve_model
from retrieval_xfer.errors import RxError
from retrieval_xfer.specs import EncoderSpec

logger = logging.getLogger(__name__)

PRECISIONS = {name: getattr(torch, name) for name in PRECISION_NAMES}  # the torch dtype of each precision name


def default_layer(num_layers: int) -> int:
    """The layer used when none is given: ``min(N, N // 2 + 2)`` (XTREME's 14 of 24 for XLM-R Large, 8 of 12)."""
    return min(num_layers, num_layers // 2 + 2)


def resolve_layer(layer: int | None, num_layers: int, model: str) -> int:
    """Map a user ``--layer`` (None = default, -1 = last, 0..N) to a ``hidden_states`` index; RxError if out of
    range."""
    if layer is None:
        return default_layer(num_layers)
    if layer == -1:
        return num_layers
    if not 0 <= layer <= num_layers:
        raise RxError(
            f"--layer {layer} is out of range: {model} has {num_layers} layers "
            f"(valid: 0 = embeddings .. {num_layers} = last, or -1 for the last)"
        )
    return layer


def _num_layers(source: ModelSource) -> int:
    config_file = source.transformer_folder / "config.json"
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise RxError(f"{config_file}: unreadable model config ({err})") from None
    config = config.get("text_config", config)
    for key in ("num_hidden_layers", "n_layer", "num_layers"):
        if isinstance(config.get(key), int):
            return config[key]
    raise RxError(f"{config_file}: no num_hidden_layers; cannot choose a layer")


def weights_sha256(model: torch.nn.Module) -> str:
    """SHA-256 over the names and raw bytes of every parameter, in name order: identifies the weights that run.

    The BERT-style ``pooler`` head is left out: rx never uses it, and transformers initialises it at random on
    every load when a checkpoint lacks it, which would make one model hash differently each time.
    """
    digest = hashlib.sha256()
    named = [(n, p) for n, p in model.named_parameters() if ".pooler." not in f".{n}"]
    for name, param in sorted(named, key=lambda item: item[0]):
        digest.update(name.encode())
        digest.update(param.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


# Texts in several scripts whose token ids join the tokenizer's fingerprint: normalisation and pre-tokenisation
# rules (case, accents, NFKC, spacing) show in them even when two vocabularies are the same.
_TOKENIZER_PROBE = ["Ünïcode CASE  spacing, 123 €!", "तो जपानी आहे का?", "東京は雨です。", "Ἀθῆναι ǅ ﬁ ①"]


def tokenizer_sha256(tokenizer: Any) -> str:
    """SHA-256 of what a tokenizer does: its vocabulary (token -> id, in id order) and the ids it gives a few
    texts in several scripts. Two copies of one tokenizer agree whatever their files look like; a tokenizer with
    another vocabulary or other normalisation differs, so an index's encoder check catches a swapped tokenizer."""
    digest = hashlib.sha256()
    vocabulary = sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])
    digest.update(json.dumps(vocabulary, ensure_ascii=False).encode())
    digest.update(json.dumps([tokenizer(text)["input_ids"] for text in _TOKENIZER_PROBE]).encode())
    return digest.hexdigest()


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' load report (layers above K are 'unexpected' by design when truncating)."""
    from transformers.utils import logging as hf_logging

    previous = hf_logging.get_verbosity()
    bars_were_on = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(previous)
        if bars_were_on:
            hf_logging.enable_progress_bar()


def mean_pooling_pipeline(
    source: ModelSource, layer: int | None = None, skip_special: bool = False, max_length: int | None = None
) -> list:
    """The modules of a mean-pooled sentence encoder: Transformer → mean pooling → L2 normalisation.

    With ``layer``, the Transformer is truncated to ``layer`` layers and emits ``hidden_states[layer]``; without
    it, the whole model's last layer (what ``rx train`` trains). ``skip_special`` leaves special tokens out.
    """
    if layer is None:
        transformer = Transformer(str(source.transformer_folder), max_seq_length=max_length)
    else:
        transformer = Transformer(
            str(source.transformer_folder),
            # hidden_states[K] depends on layers 1..K only; with 0 layers HF returns no hidden states, so keep one.
            config_kwargs={"num_hidden_layers": max(layer, 1)},
            modality_config={"text": {"method": "forward", "method_output_name": ["hidden_states", layer]}},
            module_output_name="token_embeddings",
            max_seq_length=max_length,
        )
        if getattr(transformer.auto_model, "pooler", None) is not None:
            transformer.auto_model.pooler = (
                None  # BERT/XLM-R pooler head: unused, and random when not in the checkpoint
            )
    dim = transformer.auto_model.config.hidden_size
    if skip_special:
        pooling = SpecialTokenFreeMeanPooling(transformer.tokenizer.all_special_ids)
    else:
        pooling = Pooling(dim, "mean")
    return [transformer, pooling, Normalize()]


def _describe_own_pipeline(model: SentenceTransformer) -> str:
    parts = []
    for module in list(model)[1:]:
        mode = getattr(module, "pooling_mode", None)
        parts.append(f"{type(module).__name__}({mode})" if mode else type(module).__name__)
    return "own:" + ">".join(parts)


def _token_embeddings_in_float32(module: Any, inputs: Any, features: dict[str, Any]) -> dict[str, Any]:
    """A forward hook on the transformer of a half-precision model: its token embeddings go on in float32, so the
    mean pooling sums and the normalisation divides in float32."""
    return {**features, "token_embeddings": features["token_embeddings"].float()}


def load_encoder(
    model: str,
    layer: int | None = None,
    *,
    pool_skip_special: bool = False,
    prompt: str = "",
    max_length: int | None = None,
    device: str | None = None,
    precision: str = "float32",
    batch_size: int | None = None,
    max_tokens: int | None = None,
    show_progress: bool = True,
) -> Encoder:
    """Load ``model`` (hub id or folder) as an ``Encoder``.

    A plain transformers model, or any model with ``layer`` given, is mean-pooled at ``hidden_states[layer]``
    (default layer: ``default_layer``) with only layers 1..layer loaded and run. A sentence-transformers folder
    with ``layer=None`` keeps its own pipeline (its pooling, its last layer). Vectors are always L2-normalised.
    ``precision`` ``auto`` is bfloat16 where the hardware has it (``encoding.precision.choose_precision``); the
    choice and its reason are logged and recorded in the spec. Pooling and normalisation run in float32 whatever
    the model computes in. Raises RxError for a missing model, a layer out of range, or an unknown precision.
    """
    if precision not in PRECISION_CHOICES:
        raise RxError(f"--precision {precision!r}: choose one of {', '.join(PRECISION_CHOICES)}")
    source = resolve_model(model)
    num_layers = _num_layers(source)
    own_pipeline = source.is_sentence_transformer and layer is None
    resolved = num_layers if own_pipeline else resolve_layer(layer, num_layers, source.name)
    with quiet_transformers():
        if own_pipeline:
            st_model = SentenceTransformer(str(source.folder), device="cpu")
            if max_length is not None:
                st_model.max_seq_length = max_length
        else:
            st_model = SentenceTransformer(
                modules=mean_pooling_pipeline(source, resolved, pool_skip_special, max_length), device="cpu"
            )
    digest = weights_sha256(st_model)
    if own_pipeline:
        pooling = _describe_own_pipeline(st_model)
    else:
        pooling = "mean-no-special" if pool_skip_special else "mean"
    spec = EncoderSpec(
        model=source.name,
        weights_sha256=digest,
        layer=resolved,
        num_layers=num_layers,
        pooling=pooling,
        prompt=prompt,
        max_length=int(st_model.max_seq_length),
        dimension=int(st_model.get_embedding_dimension()),
        tokenizer_sha256=tokenizer_sha256(st_model.tokenizer),
    )
    target = device or ("cuda" if torch.cuda.is_available() else "cpu")
    choice = choose_precision(precision, target)
    logger.info(f"precision {choice.name} ({choice.reason})")
    spec = dataclasses.replace(spec, precision=choice.name, precision_reason=choice.reason)
    st_model.to(device=target, dtype=PRECISIONS[choice.name])
    if choice.name != "float32":
        st_model[0].register_forward_hook(_token_embeddings_in_float32)
    st_model.eval()
    return Encoder(st_model, spec, batch_size=batch_size, show_progress=show_progress, max_tokens=max_tokens)


def load_layer_sweep(model: str, layers: str, main_layer: int | None = None, **kwargs: Any) -> LayerSweepEncoder:
    """A ``LayerSweepEncoder`` for ``layers`` (``"all"`` or ``"4,8,-1"``) of ``model``: the model truncated at the
    highest of them, every one pooled from the same forward pass. ``kwargs`` are ``load_encoder``'s options.

    The headline layer is ``main_layer`` if given, else the layer ``load_encoder(model)`` would pool without a
    sweep: the last layer of a sentence-transformers folder (its own pipeline), ``default_layer`` otherwise.
    """
    source = resolve_model(model)
    num_layers = _num_layers(source)
    chosen = parse_layers(layers, num_layers)
    if main_layer is None:
        main_layer = num_layers if source.is_sentence_transformer else default_layer(num_layers)
        main_layer = main_layer if main_layer in chosen else chosen[-1]
    else:
        main_layer = resolve_layer(main_layer, num_layers, source.name)
        if main_layer not in chosen:
            raise RxError(f"--layer {main_layer} (the headline layer) is not among --layers {layers}")
    return LayerSweepEncoder(load_encoder(model, max(chosen), **kwargs), chosen, main_layer)


def model_num_layers(model: str) -> int:
    """The number of transformer layers of ``model`` (hub id or folder), read from its config."""
    return _num_layers(resolve_model(model))


def load_tokenizer(model: str) -> Any:
    """``model``'s tokenizer alone (hub id or folder): what counting a corpus's tokens needs, without the weights."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(resolve_model(model).transformer_folder))


def hidden_size(model: str) -> int:
    """The width of ``model``'s hidden states (the dimension of its mean-pooled vectors), from its config."""
    config_file = resolve_model(model).transformer_folder / "config.json"
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise RxError(f"{config_file}: unreadable model config ({err})") from None
    size = config.get("text_config", config).get("hidden_size")
    if not isinstance(size, int):
        raise RxError(f"{config_file}: no hidden_size")
    return size
