"""Index folders: ``index.faiss``, ``ids.txt``, ``sentences.txt`` (optional) and ``meta.json``, written atomically."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from retrieval_xfer.atomic import atomic_directory
from retrieval_xfer.checksums import listed_file, verify_sha256
from retrieval_xfer.errors import RxError
from retrieval_xfer.field_checks import check_json_types
from retrieval_xfer.indexing.factory import IndexParams, apply_search_params
from retrieval_xfer.indexing.meta import IndexMeta
from retrieval_xfer.outputs import OutputKind, check_replaceable_folder
from retrieval_xfer.provenance import file_sha256

INDEX_FILE, IDS_FILE, SENTENCES_FILE, META_FILE = "index.faiss", "ids.txt", "sentences.txt", "meta.json"
EXPORT_MANIFEST = "manifest.json"  # an rx export folder's (export.reader.MANIFEST_FILE; indexing may not import it)
# What rx build-index writes, recognised by its meta.json's keys; --overwrite replaces nothing else.
INDEX_OUTPUT = OutputKind(
    "rx build-index",
    META_FILE,
    frozenset({"encoder", "index", "count", "rx_version"}),
    frozenset({INDEX_FILE, IDS_FILE, SENTENCES_FILE, META_FILE}),
)


@dataclass
class SavedIndex:
    """A loaded index folder: the FAISS index, ids (row i ↔ ids[i]), sentences (or None) and metadata."""

    index: faiss.Index
    ids: list[str]
    sentences: list[str] | None
    meta: IndexMeta

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` inner products and row numbers for each query row; rows are -1 where fewer than k exist."""
        return self.index.search(np.ascontiguousarray(queries, dtype=np.float32), min(k, len(self.ids)))


def _write_lines(path: Path, lines: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:  # byte-exact: a \r inside a sentence stays in it
        for line in lines:
            f.write(line.replace("\n", " ") + "\n")


def check_replaceable(folder: Path, overwrite: bool) -> None:
    """RxError unless ``folder`` may be written: it does not exist, or ``overwrite`` is given and it is an rx index
    folder (``meta.json`` and ``index.faiss``) holding nothing else; rx never replaces a folder it did not make,
    nor a file beside an index that it did not write."""
    folder = Path(folder)
    exists = folder.exists() or folder.is_symlink()
    if overwrite and exists and (folder.is_symlink() or not folder.is_dir() or not (folder / INDEX_FILE).is_file()):
        raise RxError(
            f"{folder}: not an rx index folder (no {META_FILE} and {INDEX_FILE}); --overwrite replaces only "
            "an index rx built: choose another --out"
        )
    check_replaceable_folder(folder, INDEX_OUTPUT, overwrite)


def save_index(
    folder: Path,
    index: faiss.Index,
    ids: list[str],
    sentences: list[str] | None,
    meta: IndexMeta,
    overwrite: bool = False,
) -> None:
    """Write an index folder atomically (temp folder, then rename). RxError if it exists and ``overwrite`` is not
    given, or if what exists is not an rx index folder (``check_replaceable``)."""
    if index.ntotal != len(ids) or (sentences is not None and len(sentences) != len(ids)):
        raise ValueError("index, ids and sentences must have the same length")
    check_replaceable(folder, overwrite)
    try:
        with atomic_directory(Path(folder), overwrite=overwrite) as tmp:
            try:
                faiss.write_index(index, str(tmp / INDEX_FILE))
            except RuntimeError as err:  # faiss's own writer: a full disk is a RuntimeError, not an OSError
                reason = str(err).rsplit("Error: ", 1)[-1].strip().splitlines()[0]
                raise RxError(f"{folder}: could not write {INDEX_FILE} ({reason}); nothing written") from None
            _write_lines(tmp / IDS_FILE, ids)
            if sentences is not None:
                _write_lines(tmp / SENTENCES_FILE, sentences)
            meta.checksums = {
                name: file_sha256(tmp / name)
                for name in (INDEX_FILE, IDS_FILE, SENTENCES_FILE)
                if (tmp / name).is_file()
            }
            (tmp / META_FILE).write_text(json.dumps(meta.to_dict(), indent=2, ensure_ascii=False) + "\n", "utf-8")
    except FileExistsError:
        raise RxError(f"{folder}: already exists (pass --overwrite to replace it)") from None


def _read_lines(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as f:  # only \n ends a line, as _write_lines wrote them
        return f.read().split("\n")[:-1]


def load_index(folder: Path, verify: bool = True) -> SavedIndex:
    """Load an index folder; raises RxError naming the folder when it is missing, incomplete or inconsistent, and,
    with ``verify``, when a file's SHA-256 differs from the one ``meta.json`` recorded."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RxError(f"{folder}: no such index folder")
    if not (folder / INDEX_FILE).exists() and (folder / EXPORT_MANIFEST).is_file():
        raise RxError(
            f"{folder}: an rx export, not an index; build one from it: rx build-index --input {folder} --out INDEX"
        )
    for name in (INDEX_FILE, IDS_FILE, META_FILE):
        if not (folder / name).is_file():
            raise RxError(f"{folder}: corrupt index folder ({name} is missing)")
    try:
        meta = IndexMeta.from_dict(json.loads((folder / META_FILE).read_text(encoding="utf-8")))
        meta.spec  # noqa: B018 - validates the encoder block
        check_json_types(IndexParams, meta.index)
        IndexParams(**meta.index)
        if not all(isinstance(v, str) for v in meta.checksums.values()):
            raise TypeError("'checksums' should map file names to SHA-256 strings")
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError, KeyError, ValueError) as err:
        raise RxError(f"{folder / META_FILE}: corrupt metadata ({type(err).__name__}: {err})") from None
    if verify:  # an index written before checksums were recorded has none
        for name, expected in meta.checksums.items():
            verify_sha256(listed_file(folder, name, folder / META_FILE), expected)
    try:
        index = faiss.read_index(str(folder / INDEX_FILE))
    except RuntimeError:
        raise RxError(f"{folder / INDEX_FILE}: corrupt FAISS file (cannot be read)") from None
    try:
        ids = _read_lines(folder / IDS_FILE)
        sentences = _read_lines(folder / SENTENCES_FILE) if (folder / SENTENCES_FILE).is_file() else None
    except UnicodeDecodeError:
        raise RxError(f"{folder}: corrupt ids or sentences file (not UTF-8)") from None
    if not index.ntotal == len(ids) == meta.count or (sentences is not None and len(sentences) != len(ids)):
        raise RxError(
            f"{folder}: corrupt index folder (FAISS holds {index.ntotal} vectors, ids.txt {len(ids)} lines, "
            f"meta.json says {meta.count})"
        )
    if index.d != meta.spec.dimension:
        raise RxError(f"{folder}: corrupt index folder (FAISS dimension {index.d}, meta.json {meta.spec.dimension})")
    apply_search_params(index, IndexParams(**meta.index))
    return SavedIndex(index=index, ids=ids, sentences=sentences, meta=meta)
