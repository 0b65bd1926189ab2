"""Exporting a truncated, mean-pooled encoder to ONNX and OpenVINO, and quantising it to static int8 with NNCF.

The exported graph is the whole embedding function: ``input_ids``, ``attention_mask`` (int64, batch × tokens)
→ ``sentence_embedding`` (float32, batch × dim, unit length), with only layers 1..K in it (the torch model was
loaded truncated). ONNX goes through ``torch.onnx.export(..., dynamo=True)``; OpenVINO IR is converted from that
ONNX file; int8 is NNCF's post-training quantisation (``nncf.quantize``, transformer preset with SmoothQuant) on
calibration sentences, with the feed-forward output projections kept in float (``INT8_RECIPE``). Neither
optimum-onnx nor optimum-intel is needed (both cap transformers below what rx runs).
"""

from __future__ import annotations

import importlib
import warnings
from pathlib import Path

import numpy as np
import torch

from retrieval_xfer.encoding.calibration import Calibration
from retrieval_xfer.errors import RxError

EXTRAS = {
    "onnx": ("onnx", "onnxruntime", "onnxscript"),
    "openvino": ("openvino", "onnx", "onnxscript"),
    "int8": ("nncf",),
}
# What an int8 model is made with; part of its cache key, so a changed recipe never reuses an older model.
# The feed-forward output projections (input = the GELU activations, whose outliers int8 clips) stay float:
# quantising them cost 1.5-2.0 BUCC zh-en F1 on e5-small, keeping them float32 gave +0.3 (bench/RESULTS.md).
INT8_RECIPE = "nncf-transformer-sq/ffn-output-float"
ONNX_FILE = "model.onnx"
OPENVINO_FILE = "model.xml"


def require_extra(backend: str, quantize: str = "none") -> None:
    """RxError naming the extra to install when a module ``backend`` (or int8) needs is missing."""
    needed = [*EXTRAS.get(backend, ()), *(EXTRAS["int8"] if quantize == "int8" else ())]
    for module in needed:
        try:
            importlib.import_module(module)
        except ImportError:
            raise RxError(
                f"--backend {backend}{' --quantize int8' if quantize == 'int8' else ''} needs the "
                f"'{backend}' extra ({module} is missing): pip install 'retrieval_xfer[{backend}]'"
            ) from None


class PooledGraph(torch.nn.Module):
    """The embedding function as one module: ``forward(input_ids, attention_mask)`` → unit-length
    ``hidden_states[layer]`` means over the attended tokens (less ``special_ids`` when given, falling back to
    every attended token for a sentence of special tokens only, as ``SpecialTokenFreeMeanPooling``)."""

    def __init__(self, model: torch.nn.Module, layer: int, special_ids: list[int] | None = None) -> None:
        super().__init__()
        self.model = model
        self.layer = layer
        self.register_buffer("special_ids", torch.tensor(special_ids or [], dtype=torch.long), persistent=False)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
        tokens = out.hidden_states[self.layer]
        weights = attention_mask.to(tokens.dtype).unsqueeze(-1)
        if self.special_ids.numel():  # float masks throughout: ONNX Runtime has no Where/isin over booleans
            special = (input_ids.unsqueeze(-1) == self.special_ids).any(-1).to(tokens.dtype).unsqueeze(-1)
            plain = weights * (1 - special)
            weights = torch.where(plain.sum(1, keepdim=True) > 0, plain, weights)
        pooled = (tokens * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2, dim=-1)


def pooled_graph(st_model, pooling: str, layer: int) -> PooledGraph:
    """The ``PooledGraph`` of a loaded sentence-transformers pipeline (``Transformer`` → mean pooling →
    ``Normalize``); RxError for a pipeline an exported graph cannot reproduce (other pooling, dense layers)."""
    modules = list(st_model)
    names = [type(m).__name__ for m in modules]
    mean = pooling in ("mean", "mean-no-special") or (
        pooling.startswith("own:")
        and names[1:] in (["Pooling", "Normalize"], ["Pooling"])
        and getattr(modules[1], "pooling_mode", None) == "mean"
    )
    if not mean:
        raise RxError(
            f"the onnx/openvino backends export mean-pooled encoders; this model's pipeline is {pooling} "
            f"({' > '.join(names)}): use --backend torch, or --layer K for a mean-pooled layer"
        )
    special = st_model.tokenizer.all_special_ids if pooling == "mean-no-special" else None
    return PooledGraph(modules[0].auto_model, layer, special).eval()


def export_onnx(graph: PooledGraph, tokenizer, folder: Path) -> Path:
    """Write ``graph`` as ``folder/model.onnx`` (weights in ``model.onnx.data``) with dynamic batch and length."""
    sample = tokenizer(
        ["a short example", "and a slightly longer second example sentence"], padding=True, return_tensors="pt"
    )
    batch, tokens = torch.export.Dim("batch"), torch.export.Dim("tokens")
    path = Path(folder) / ONNX_FILE
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                graph,
                (sample["input_ids"], sample["attention_mask"]),
                dynamo=True,
                verbose=False,
                input_names=["input_ids", "attention_mask"],
                output_names=["sentence_embedding"],
                dynamic_shapes={"input_ids": {0: batch, 1: tokens}, "attention_mask": {0: batch, 1: tokens}},
            )
            program.save(str(path), external_data=True)
    except Exception as err:  # the exporter raises many types; the user asked for this backend: say why it failed
        model_type = getattr(getattr(graph.model, "config", None), "model_type", type(graph.model).__name__)
        raise RxError(
            f"the ONNX exporter cannot handle model type {model_type!r} "
            f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})"
        ) from None
    return path


def convert_openvino(onnx_path: Path, folder: Path) -> Path:
    """Convert an exported ONNX file to OpenVINO IR (``folder/model.xml`` + ``.bin``), weights kept float32."""
    import openvino as ov

    path = Path(folder) / OPENVINO_FILE
    ov.save_model(ov.Core().read_model(str(onnx_path)), str(path), compress_to_fp16=False)
    return path


def _calibration_items(
    tokenizer, calibration: Calibration, prompt: str, max_length: int
) -> list[dict[str, np.ndarray]]:
    items = []
    for sentence in calibration.sentences:
        batch = tokenizer([prompt + sentence], truncation=True, max_length=max_length, return_tensors="np")
        items.append(
            {
                "input_ids": batch["input_ids"].astype(np.int64),
                "attention_mask": batch["attention_mask"].astype(np.int64),
            }
        )
    return items


def ffn_output_matmuls(onnx_path: Path, intermediate_size: int | None) -> list[str]:
    """Names of the MatMuls in the exported graph whose weight has ``intermediate_size`` input features: the
    feed-forward output projections of a BERT-like encoder (none when the size is unknown)."""
    import onnx

    if not intermediate_size:
        return []
    graph = onnx.load(str(onnx_path), load_external_data=False).graph
    dims = {tensor.name: list(tensor.dims) for tensor in graph.initializer}
    return [
        node.name
        for node in graph.node
        if node.op_type == "MatMul"
        and len(node.input) == 2
        and len(dims.get(node.input[1], [])) == 2
        and dims[node.input[1]][0] == intermediate_size
    ]


def quantize_int8(
    backend: str,
    onnx_path: Path,
    folder: Path,
    tokenizer,
    calibration: Calibration,
    prompt: str,
    max_length: int,
    keep_float: list[str],
) -> Path:
    """Static int8 of the exported model for ``backend`` with NNCF, calibrated on ``calibration`` (tokenised as
    the encoder tokenises, prompt included), the MatMuls named in ``keep_float`` left in float; returns the
    quantised model's main file in ``folder``."""
    import nncf

    items = _calibration_items(tokenizer, calibration, prompt, max_length)
    options = {
        "model_type": nncf.ModelType.TRANSFORMER,
        "subset_size": len(items),
        "ignored_scope": nncf.IgnoredScope(names=keep_float),
    }
    if backend == "openvino":
        import openvino as ov

        quantized = nncf.quantize(ov.Core().read_model(str(onnx_path)), nncf.Dataset(items), **options)
        path = Path(folder) / OPENVINO_FILE
        ov.save_model(quantized, str(path), compress_to_fp16=False)
        return path
    import onnx

    quantized = nncf.quantize(onnx.load(str(onnx_path)), nncf.Dataset(items), **options)
    path = Path(folder) / ONNX_FILE
    onnx.save(quantized, str(path), save_as_external_data=True, location=ONNX_FILE + ".data")
    return path
