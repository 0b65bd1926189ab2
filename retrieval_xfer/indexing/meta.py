"""``meta.json`` of an index folder: what built it, and the check that a query encoder matches it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from retrieval_xfer.encoding.encoder import EncoderSpec
from retrieval_xfer.errors import RxError


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

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> IndexMeta:
        """Rebuild from ``to_dict`` output; raises KeyError/TypeError on a malformed dict."""
        return cls(**data)

    @property
    def spec(self) -> EncoderSpec:
        """The encoder spec stored in the metadata."""
        return EncoderSpec(**self.encoder)


# Fields compared between the index and the query encoder, most telling first. The prompt may differ on
# purpose (asymmetric retrieval: "query: " against "passage: "), so it is not compared.
_COMPARED = ("layer", "pooling", "weights_sha256", "dimension", "normalized")


def check_compatible(built: EncoderSpec, query: EncoderSpec, where: str) -> None:
    """Raise RxError naming the first field in which the query encoder differs from the one that built ``where``."""
    for name in _COMPARED:
        a, b = getattr(built, name), getattr(query, name)
        if a != b:
            if name == "weights_sha256":
                raise RxError(
                    f"{where}: built with another model ({built.model}, weights {a[:12]}…) than the query model "
                    f"({query.model}, weights {b[:12]}…)"
                )
            raise RxError(f"{where}: {name} differs: index built with {a!r}, query encoder has {b!r}")
