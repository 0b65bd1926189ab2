"""``--backend onnx|openvino`` (``--quantize none|int8``): the ``Encoder`` interface over an exported model.

``load_backend_encoder`` finds the exported model in the cache (``backend_cache``) through the shortcut of the
model folder and settings, without loading torch; failing that, it loads the torch encoder once (truncated to the
layer, as ``--backend torch`` runs it) to learn its spec and weights hash, finds or builds the exported model,
and writes the shortcut. It returns a ``BackendEncoder``: it tokenises as sentence-transformers does (prompt
prepended, longest first, truncation at the spec's ``max_length``) and runs ONNX Runtime or OpenVINO on CPU.
"""

from __future__ import annotations

import gc
import logging
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from retrieval_xfer.atomic import atomic_directory, atomic_write_json
from retrieval_xfer.encoding.backend_cache import (
    MANIFEST,
    cache_root,
    entry_key,
    manifest_for,
    read_entry,
    read_shortcut,
    source_key,
    write_shortcut,
)
from retrieval_xfer.encoding.backend_export import (
    INT8_RECIPE,
    ONNX_FILE,
    OPENVINO_FILE,
    convert_openvino,
    export_onnx,
    ffn_output_matmuls,
    pooled_graph,
    quantize_int8,
    require_extra,
)
from retrieval_xfer.encoding.batching import batching, encode_in_batches, sentence_batches
from retrieval_xfer.encoding.calibration import Calibration, read_calibration_file, sample_corpus
from retrieval_xfer.encoding.loader import load_encoder
from retrieval_xfer.encoding.source import resolve_model
from retrieval_xfer.errors import RxError
from retrieval_xfer.specs import EncoderSpec

logger = logging.getLogger(__name__)

Found = tuple[Path, dict[str, Any], EncoderSpec, Any]  # entry folder, its manifest, the torch spec, the tokenizer
COMPILED = "openvino-compiled"


class BackendEncoder:
    """Encodes sentences into L2-normalised float32 vectors with an exported model (ONNX Runtime or OpenVINO).

    ``run(input_ids, attention_mask)`` (int64 arrays) returns the batch's embeddings; ``encode`` has the
    contract of ``Encoder.encode``: shape (len(sentences), spec.dimension), input order, one progress bar.
    """

    def __init__(
        self,
        run: Callable[[np.ndarray, np.ndarray], np.ndarray],
        tokenizer,
        spec: EncoderSpec,
        batch_size: int | None = None,
        show_progress: bool = True,
        max_tokens: int | None = None,
    ) -> None:
        self.run = run
        self.tokenizer = tokenizer
        self.spec = spec
        self.batch_size, self.max_tokens = batching(batch_size, max_tokens)
        self.show_progress = show_progress

    def encode(self, sentences: Sequence[str], desc: str = "encoding") -> np.ndarray:
        """Encode ``sentences`` (the spec's prompt prepended), longest first in batches under the ``max_tokens``
        budget (or of ``batch_size``)."""

        def encode_batch(texts: list[str]) -> np.ndarray:
            batch = self.tokenizer(
                [self.spec.prompt + text for text in texts],
                padding=True,
                truncation=True,
                max_length=self.spec.max_length,
                return_tensors="np",
            )
            return self.run(batch["input_ids"].astype(np.int64), batch["attention_mask"].astype(np.int64))

        batches = sentence_batches(
            sentences, self.tokenizer, self.spec.prompt, self.spec.max_length, self.batch_size, self.max_tokens
        )
        return encode_in_batches(sentences, self.spec.dimension, batches, encode_batch, desc, self.show_progress)


def _runner(backend: str, path: Path, int8: bool, root: Path) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """A function running the model file at ``path`` on CPU with ``backend`` (OpenVINO keeps its compiled
    blobs under ``root/openvino-compiled``, so a second run skips compilation)."""
    if backend == "onnx":
        import onnxruntime as ort

        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return lambda ids, mask: session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
    import openvino as ov

    config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY", "CACHE_DIR": str(root / COMPILED)}
    if not int8:
        config["INFERENCE_PRECISION_HINT"] = "f32"  # no silent bf16 on CPUs with AMX: float32 means float32
    compiled = ov.Core().compile_model(str(path), "CPU", config)
    return lambda ids, mask: compiled({"input_ids": ids, "attention_mask": mask})[0]


def _entry(
    root: Path,
    spec: EncoderSpec,
    backend: str,
    quantization: str,
    build: Callable[[Path], dict[str, Any]],
    stale: Callable[[dict[str, Any]], str] | None = None,
) -> tuple[Path, dict[str, Any]]:
    """The cache entry of ``spec``'s encoder run by ``backend`` at ``quantization``: reused when sound (and not
    ``stale``, which returns why it is), else built by ``build(tmp_folder)`` (returning extra manifest fields)
    into a temporary folder and renamed."""
    recipe = f"{quantization} {INT8_RECIPE}" if quantization == "int8" else quantization
    folder = root / entry_key(spec.weights_sha256, spec.layer, spec.pooling, backend, recipe)
    manifest, why = read_entry(folder)
    if manifest is not None and stale is not None:
        why = stale(manifest)
        manifest = None if why else manifest
    if manifest is not None:
        return folder, manifest
    if why != "not cached":
        logger.info(f"{why}; rebuilding")
    root.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with atomic_directory(folder, overwrite=True) as tmp:
        fields = {
            "model": spec.model,
            "layer": spec.layer,
            "pooling": spec.pooling,
            "backend": backend,
            "quantization": quantization,
            **build(tmp),
        }
        manifest = manifest_for(tmp, seconds=round(time.perf_counter() - started, 1), **fields)
        atomic_write_json(tmp / MANIFEST, manifest)
    return folder, manifest


def load_backend_encoder(
    model: str,
    layer: int | None = None,
    *,
    backend: str,
    quantize: str = "none",
    calibration_file: str | None = None,
    corpus: Sequence[str] | None = None,
    cache: str | None = None,
    pool_skip_special: bool = False,
    prompt: str = "",
    max_length: int | None = None,
    batch_size: int | None = None,
    max_tokens: int | None = None,
    show_progress: bool = True,
) -> BackendEncoder:
    """An encoder of ``model`` at ``layer`` run by ``backend`` (``onnx``/``openvino``), float32 or static int8.

    int8 calibrates on ``calibration_file``, else on a sample of ``corpus`` (the sentences the command is about
    to encode), else reuses the cached int8 model; RxError when none of them is available. A cached int8 model
    calibrated on another file than the given one is rebuilt.
    """
    if backend not in ("onnx", "openvino"):
        raise RxError(f"--backend {backend!r}: choose torch, onnx or openvino")
    if quantize not in ("none", "int8"):
        raise RxError(f"--quantize {quantize!r}: choose none or int8")
    require_extra(backend, quantize)
    calibration = read_calibration_file(Path(calibration_file)) if calibration_file else None
    root = cache_root(cache)
    logger.info(f"{backend} cache: {root}")
    shortcut = source_key(
        resolve_model(model).folder, [layer, pool_skip_special, prompt, max_length, backend, quantize]
    )
    found = _from_shortcut(root, shortcut, calibration)
    if found is None:
        folder, manifest, spec, tokenizer = _export(
            model, layer, backend, quantize, calibration, corpus, root, pool_skip_special, prompt, max_length
        )
        write_shortcut(root, shortcut, folder.name, spec.to_dict(), tokenizer.save_pretrained)
    else:
        folder, manifest, spec, tokenizer = found
    path = folder / (OPENVINO_FILE if backend == "openvino" else ONNX_FILE)
    full = EncoderSpec(
        **{
            **spec.to_dict(),
            "backend": backend,
            "quantization": quantize,
            "runtime_sha256": manifest["runtime_sha256"],
            "calibration": manifest.get("calibration", ""),
        }
    )
    logger.info(f"{backend} {'int8' if quantize == 'int8' else 'float32'} model: {folder}")
    return BackendEncoder(
        _runner(backend, path, quantize == "int8", root),
        tokenizer,
        full,
        batch_size=batch_size,
        show_progress=show_progress,
        max_tokens=max_tokens,
    )


def _calibrated_elsewhere(manifest: dict[str, Any], calibration: Calibration | None) -> str:
    """Why a cached int8 model must be recalibrated (it was calibrated on another set than the given file), or
    "" when it may be reused."""
    if calibration is None or manifest.get("calibration_sha256") == calibration.sha256:
        return ""
    return f"cached int8 model was calibrated on {manifest.get('calibration')}; recalibrating on {calibration.origin}"


def _from_shortcut(root: Path, key: str, calibration: Calibration | None) -> Found | None:
    """The cached model a shortcut points to, without loading torch; None when it cannot be trusted (missing or
    damaged shortcut or entry, or an int8 model calibrated on another file than the one given)."""
    found = read_shortcut(root, key)
    if found is None:
        return None
    shortcut, tokenizer_folder = found
    folder = root / shortcut["entry"]
    manifest, _ = read_entry(folder)
    if manifest is None or _calibrated_elsewhere(manifest, calibration):
        return None
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    # The generic fast class runs the same tokenizer.json and builds in about half the time of XLM-R's own class.
    tokenizer_class = PreTrainedTokenizerFast if (tokenizer_folder / "tokenizer.json").is_file() else AutoTokenizer
    return folder, manifest, EncoderSpec(**shortcut["spec"]), tokenizer_class.from_pretrained(str(tokenizer_folder))


def _export(
    model: str,
    layer: int | None,
    backend: str,
    quantize: str,
    calibration: Calibration | None,
    corpus: Sequence[str] | None,
    root: Path,
    pool_skip_special: bool,
    prompt: str,
    max_length: int | None,
) -> Found:
    """Load the torch encoder, then find its exported model in the cache or build it there."""
    torch_encoder = load_encoder(
        model,
        layer,
        pool_skip_special=pool_skip_special,
        prompt=prompt,
        max_length=max_length,
        device="cpu",
        precision="float32",
        show_progress=False,
    )
    spec, tokenizer = torch_encoder.spec, torch_encoder.model.tokenizer
    graph = pooled_graph(torch_encoder.model, spec.pooling, spec.layer)

    def build_onnx(tmp: Path) -> dict[str, Any]:
        logger.info(f"exporting {spec.model} (layers 1..{spec.layer}) to ONNX...")
        export_onnx(graph, tokenizer, tmp)
        return {}

    def onnx_file() -> Path:  # the float32 ONNX export every other model is made from (checked only when needed)
        return _entry(root, spec, "onnx", "none", build_onnx)[0] / ONNX_FILE

    if quantize == "none" and backend == "onnx":
        folder, manifest = _entry(root, spec, "onnx", "none", build_onnx)
    elif quantize == "none":

        def build_openvino(tmp: Path) -> dict[str, Any]:
            source = onnx_file()
            logger.info("converting the ONNX model to OpenVINO IR...")
            convert_openvino(source, tmp)
            return {}

        folder, manifest = _entry(root, spec, "openvino", "none", build_openvino)
    else:

        def stale(found: dict[str, Any]) -> str:
            return _calibrated_elsewhere(found, calibration)

        def build_int8(tmp: Path) -> dict[str, Any]:
            sample = calibration
            if sample is None:
                if corpus is None:
                    raise RxError(
                        "--quantize int8: no cached int8 model for this encoder; pass --calibration-file "
                        "(sentences like those you encode)"
                    )
                sample = sample_corpus(corpus)
            logger.info(f"calibrating static int8 ({backend}) on {sample.describe()}...")
            source = onnx_file()
            keep_float = ffn_output_matmuls(source, getattr(graph.model.config, "intermediate_size", None))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                quantize_int8(backend, source, tmp, tokenizer, sample, spec.prompt, spec.max_length, keep_float)
            return {
                "calibration": sample.describe(),
                "calibration_sha256": sample.sha256,
                "calibration_size": len(sample.sentences),
                "int8_recipe": INT8_RECIPE,
                "float_matmuls": keep_float,
            }

        folder, manifest = _entry(root, spec, backend, "int8", build_int8, stale)
    graph = torch_encoder = None  # free the torch model: the exported one runs from here
    gc.collect()
    return folder, manifest, spec, tokenizer
