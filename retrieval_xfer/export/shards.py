"""Sharded, resumable embedding export.

Layout of an export folder::

    manifest.json            encoder spec, dtype, shard size, input identity, shards done, complete flag
    shard-00000.npy          (n, dim) float32 or float16, unit rows (before any float16 rounding)
    shard-00000.ids.txt      the n ids, one per line (line numbers, or the ids of a tsv corpus)

The input is validated in a first streaming pass (bad UTF-8, blank lines, an empty corpus fail before anything
is written) and hashed; the second pass encodes shard by shard. Every shard is written to a temporary name and
renamed, then the manifest is rewritten atomically, so after a crash the manifest lists only complete shards and
re-running the same command resumes after them with a result identical to an uninterrupted run.
"""

from __future__ import annotations

import collections
import itertools
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from retrieval_xfer.atomic import atomic_write_file, atomic_write_json
from retrieval_xfer.data.text_files import BlankPolicy, CorpusFormat, iter_corpus
from retrieval_xfer.encoding.options import EncoderOptions
from retrieval_xfer.errors import RxError
from retrieval_xfer.export.ray_encode import RayShardEncoder
from retrieval_xfer.export.reader import MANIFEST_FILE, open_export, read_manifest
from retrieval_xfer.output_lock import check_free, hold_output_lock
from retrieval_xfer.outputs import check_not_an_input
from retrieval_xfer.provenance import file_sha256, now_iso
from retrieval_xfer.specs import EncoderSpec, check_compatible
from retrieval_xfer.version import __version__

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from retrieval_xfer.encoding.encoder import Encoder

DTYPES = {"float32": np.float32, "float16": np.float16}


def _validate(path: Path, fmt: CorpusFormat, blank: BlankPolicy) -> int:
    """Stream through the corpus once, raising RxError on the first bad line; return the sentence count."""
    return sum(1 for _ in iter_corpus(path, fmt, blank))


def _check_resumable(manifest: dict[str, Any], spec: EncoderSpec, settings: dict[str, Any], out: Path) -> None:
    check_compatible(
        EncoderSpec(**manifest["encoder"]),
        spec,
        f"{out}: cannot resume",
        stored="export",
        given="the encoder now given",
    )
    for key, value in settings.items():
        if manifest.get(key) == value:
            continue
        if key == "input":
            was = manifest.get("input") or {}
            raise RxError(
                f"{out}: cannot resume, the input differs (the export was made from {was.get('path')}, "
                f"{was.get('bytes')} bytes, sha256 {str(was.get('sha256'))[:12]}…; now {value['path']}, "
                f"{value['bytes']} bytes, sha256 {value['sha256'][:12]}…); use another --out"
            )
        raise RxError(
            f"{out}: cannot resume, {key} differs (export has {manifest.get(key)!r}, now {value!r}); use another --out"
        )


def export_corpus(
    options: EncoderOptions,
    input_path: Path,
    out: Path,
    shard_size: int = 100_000,
    dtype: str = "float32",
    fmt: CorpusFormat = "lines",
    blank: BlankPolicy = "error",
    ray: str | None = None,
) -> dict:
    """``rx export``: check the options and stream through the whole input first (a missing or bad file fails
    in seconds, before the model loads), then load the encoder of ``options`` and ``export_embeddings``.
    ``ray`` (``"local"`` or a cluster address) encodes the shards on a pool of Ray actors instead; the files
    written are the same."""
    if dtype not in DTYPES:
        raise RxError(f"--dtype {dtype!r}: choose float32 or float16")
    total = _validate(Path(input_path), fmt, blank)
    check_export_folder(Path(out), Path(input_path))  # before the model loads
    check_free(Path(out))
    corpus = _calibration_corpus(Path(input_path), fmt, blank) if options.needs_corpus() else None
    encoder = RayShardEncoder(options, ray) if ray is not None else options.load(corpus=corpus)
    if ray is not None:
        logger.info(f"{options.describe(encoder)} | on {encoder.actors} Ray actor(s)")
    return export_embeddings(encoder, input_path, out, shard_size, dtype, fmt, blank, total=total)


def check_export_folder(out: Path, input_path: Path) -> None:
    """RxError when ``out`` may not hold this export: it holds the input, is a file, or is a folder with other
    files and no rx manifest (an rx export folder is resumed; rx never writes shards among a user's files)."""
    check_not_an_input([out], [input_path])
    if out.exists() and (not out.is_dir() or (not (out / MANIFEST_FILE).exists() and any(out.iterdir()))):
        raise RxError(f"{out}: exists and is not an rx export (no {MANIFEST_FILE}); choose another --out")


def _calibration_corpus(path: Path, fmt: CorpusFormat, blank: BlankPolicy, limit: int = 20_000) -> list[str]:
    """The first ``limit`` sentences of the input, from which ``--quantize int8`` samples its calibration set."""
    return [sentence for _, sentence in itertools.islice(iter_corpus(path, fmt, blank), limit)]


def _encode_shards(encoder: Encoder | RayShardEncoder, shards: Iterator[tuple[str, list[str]]]) -> Iterator[np.ndarray]:
    """The vectors of each ``(label, texts)`` shard, in order: one after the other here, or on Ray actors."""
    if isinstance(encoder, RayShardEncoder):
        return encoder.encode_shards(shards)
    return (encoder.encode(texts, desc=label) for label, texts in shards)


def export_embeddings(
    encoder: Encoder | RayShardEncoder,
    input_path: Path,
    out: Path,
    shard_size: int = 100_000,
    dtype: str = "float32",
    fmt: CorpusFormat = "lines",
    blank: BlankPolicy = "error",
    total: int | None = None,
) -> dict:
    """Encode ``input_path`` into shards under ``out``; resume an incomplete export there. Returns the manifest.

    ``total``: the input's sentence count when the caller has already validated it (else it is validated here).
    A resumed export is logged, with where it goes on from.
    Raises RxError on bad input (before writing), or when ``out`` holds an export made with another encoder,
    prompt, dtype, shard size, or input file.
    """
    with hold_output_lock(Path(out)):  # a second export into the same folder stops at once
        return _export_locked(encoder, input_path, out, shard_size, dtype, fmt, blank, total)


def _export_locked(
    encoder: Encoder | RayShardEncoder,
    input_path: Path,
    out: Path,
    shard_size: int,
    dtype: str,
    fmt: CorpusFormat,
    blank: BlankPolicy,
    total: int | None,
) -> dict:
    if dtype not in DTYPES:
        raise RxError(f"--dtype {dtype!r}: choose float32 or float16")
    input_path, out = Path(input_path), Path(out)
    if total is None:
        total = _validate(input_path, fmt, blank)
    settings = {
        "dtype": dtype,
        "shard_size": shard_size,
        "prompt": encoder.spec.prompt,
        "format": fmt,
        "blank": blank,
        "input": {
            "path": str(input_path.resolve()),
            "bytes": input_path.stat().st_size,
            "sha256": file_sha256(input_path),
        },
    }
    manifest_path = out / MANIFEST_FILE
    check_export_folder(out, input_path)
    if manifest_path.exists():
        manifest = read_manifest(out)
        _check_resumable(manifest, encoder.spec, settings, out)
        if manifest["complete"]:
            return manifest
        logger.info(
            f"resuming {out}: {manifest['count']} of {total} sentences done in {len(manifest['shards'])} "
            f"shard(s); continuing from shard {len(manifest['shards']) + 1}"
        )
    else:
        if out.exists() and any(out.iterdir()):
            raise RxError(f"{out}: exists and is not an rx export folder; choose another --out")
        out.mkdir(parents=True, exist_ok=True)
        manifest = {
            **settings,
            "encoder": encoder.spec.to_dict(),
            "count": 0,
            "total": total,
            "shards": [],
            "complete": False,
            "rx_version": __version__,
            "created_at": now_iso(),
        }
        atomic_write_json(manifest_path, manifest)  # before the first shard: the folder says what it holds
    stream = iter_corpus(input_path, fmt, blank)
    done = manifest["count"]
    skipped = list(itertools.islice(stream, done))
    if done and skipped[-1][0] != manifest["shards"][-1]["last_id"]:
        raise RxError(f"{out}: cannot resume, the input no longer matches the exported shards")
    n_shards = -(-total // shard_size)
    pending_ids: collections.deque[list[str]] = collections.deque()

    def shards() -> Iterator[tuple[str, list[str]]]:
        for number in itertools.count(len(manifest["shards"])):
            rows = list(itertools.islice(stream, shard_size))
            if not rows:
                return
            pending_ids.append([sid for sid, _ in rows])
            yield f"shard {number + 1}/{n_shards}", [text for _, text in rows]

    for number, vectors in enumerate(_encode_shards(encoder, shards()), start=len(manifest["shards"])):
        ids = pending_ids.popleft()
        name = f"shard-{number:05d}"
        atomic_write_file(out / f"{name}.npy", lambda f, rows=vectors: np.save(f, rows.astype(DTYPES[dtype])))
        atomic_write_file(out / f"{name}.ids.txt", lambda f, ids=ids: f.write("".join(f"{i}\n" for i in ids).encode()))
        manifest["shards"].append(
            {
                "file": f"{name}.npy",
                "ids": f"{name}.ids.txt",
                "count": len(ids),
                "last_id": ids[-1],
                "sha256": file_sha256(out / f"{name}.npy"),
                "ids_sha256": file_sha256(out / f"{name}.ids.txt"),
            }
        )
        manifest["count"] += len(ids)
        atomic_write_json(manifest_path, manifest)
    manifest["complete"] = True
    manifest["finished_at"] = now_iso()
    atomic_write_json(manifest_path, manifest)
    return manifest


def load_export(out: Path) -> tuple[list[str], np.ndarray, dict]:
    """Read a complete export into memory: ``(ids, unit vectors as float32, manifest)``; RxError if incomplete or
    corrupt (see ``reader.open_export``, which reads it block by block instead)."""
    corpus = open_export(out)
    return corpus.ids, corpus.vectors.rows(0, len(corpus.vectors)), corpus.manifest
