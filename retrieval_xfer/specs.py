"""What determines a set of vectors (``EncoderSpec``) and when two encoders may share an index or an export.

A core module: it imports no model stack, so index and export metadata can be read and checked without torch.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from retrieval_xfer.errors import RxError


@dataclass(frozen=True)
class EncoderSpec:
    """Everything that determines the vectors an encoder produces; stored in index and export metadata.

    ``layer`` follows Hugging Face ``hidden_states`` numbering (0 = embeddings, ``num_layers`` = last).
    ``pooling`` is ``"mean"`` (special tokens included), ``"mean-no-special"``, or ``"own:..."`` for a
    sentence-transformers model used with its own pipeline. ``weights_sha256`` hashes the parameters that run.
    """

    model: str
    weights_sha256: str
    layer: int
    num_layers: int
    pooling: str
    prompt: str
    max_length: int
    dimension: int
    normalized: bool = True
    backend: str = "torch"
    quantization: str = "none"
    runtime_sha256: str = ""
    calibration: str = ""
    tokenizer_sha256: str = ""  # encoding.loader.tokenizer_sha256; "" in indexes and exports made before rx recorded it
    precision: str = "float32"  # what the model computed in (bfloat16 vectors match float32 ones to ~1e-2 cosine)
    precision_reason: str = ""  # why: "asked for", or what --precision auto saw ("" before rx recorded it)

    def to_dict(self) -> dict:
        """A JSON-ready dict of the fields."""
        return dataclasses.asdict(self)


UNKNOWN_WEIGHTS = "unknown"


def require_known(spec: EncoderSpec, where: str, stored: str = "index") -> None:
    """RxError when ``spec`` is that of vectors from an unknown encoder (a bare ``.npy`` matrix): no encoder can be
    checked against it, so rx will not encode queries for it."""
    if spec.weights_sha256.startswith(UNKNOWN_WEIGHTS):
        raise RxError(
            f"{where}: {stored} built from a .npy matrix of an unknown encoder; rx cannot encode queries "
            f"that match it (search it with vectors of your own)"
        )


# Fields compared between stored vectors and a new encoder, most telling first. The prompt may differ on
# purpose (asymmetric retrieval: "query: " against "passage: "), so it is not compared. Neither is the backend:
# torch, onnx and openvino at float32 give the same vectors (cosine >= 0.9999, tested), so they mix freely; int8
# vectors match only those of the same quantised model (``runtime_sha256``), see ``check_compatible``.
COMPARED_FIELDS = ("layer", "pooling", "weights_sha256", "dimension", "normalized", "quantization")


def check_compatible(
    built: EncoderSpec, query: EncoderSpec, where: str, stored: str = "index", given: str = "query encoder"
) -> None:
    """Raise RxError naming the first field in which ``query`` differs from the encoder that built ``where``.

    ``stored`` names what ``where`` is (``"index"``, ``"export"``) and ``given`` the other encoder, so the message
    speaks of both (e.g. "export built with 12, the encoder now given has 6").
    """
    require_known(built, where, stored)
    for name in COMPARED_FIELDS:
        a, b = getattr(built, name), getattr(query, name)
        if a != b:
            if name == "weights_sha256":
                raise RxError(
                    f"{where}: {stored} built with another model ({built.model}, weights {a[:12]}…) than the "
                    f"{given} ({query.model}, weights {b[:12]}…)"
                )
            raise RxError(f"{where}: {name} differs: {stored} built with {a!r}, {given} has {b!r}")
    if built.tokenizer_sha256 and query.tokenizer_sha256 and built.tokenizer_sha256 != query.tokenizer_sha256:
        raise RxError(
            f"{where}: {stored} built with another tokenizer ({built.tokenizer_sha256[:12]}…) than the {given}'s "
            f"({query.tokenizer_sha256[:12]}…): same weights, but the text is cut into other tokens"
        )
    if built.quantization != "none" and built.runtime_sha256 != query.runtime_sha256:
        raise RxError(
            f"{where}: {stored} built with another {built.quantization} model ({built.backend}, runtime "
            f"{built.runtime_sha256[:12]}…, {built.calibration}) than the {given} ({query.backend}, runtime "
            f"{query.runtime_sha256[:12]}…): quantised vectors only match those of the same quantised model"
        )
