"""``meta.json`` of an index folder: what built it (the compatibility rule is ``retrieval_xfer.specs``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from retrieval_xfer.field_checks import check_json_types
from retrieval_xfer.specs import EncoderSpec


@dataclass
class IndexMeta:
    """What an index holds: the encoder spec that made its vectors, the index parameters, count and provenance."""

    encoder: dict
    index: dict
    count: int
    build_seconds: float
    created_at: str
    rx_version: str
    source: str = ""
    has_sentences: bool = True
    format_version: int = 1
    extra: dict = field(default_factory=dict)
    checksums: dict = field(default_factory=dict)  # file name -> SHA-256 of index.faiss, ids.txt, sentences.txt

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> IndexMeta:
        """Rebuild from ``to_dict`` output; raises KeyError/TypeError on a malformed dict (a value of the wrong type,
        in the encoder block too, is named)."""
        if not isinstance(data, dict):
            raise TypeError(f"expected a JSON object, found {type(data).__name__}")
        check_json_types(cls, data)
        check_json_types(EncoderSpec, data.get("encoder", {}))
        return cls(**data)

    @property
    def spec(self) -> EncoderSpec:
        """The encoder spec stored in the metadata."""
        return EncoderSpec(**self.encoder)
