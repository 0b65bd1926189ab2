"""Sharded export: a crash mid-way, then a resume, gives exactly what an uninterrupted export gives."""

import json

import numpy as np
import pytest
from conftest import WORDS
from helpers import write_lines

from retrieval_xfer.encoding.loader import load_encoder
from retrieval_xfer.errors import RxError
from retrieval_xfer.export.shards import export_embeddings, load_export


@pytest.fixture(scope="module")
def encoder(tiny_model):
    return load_encoder(str(tiny_model), 2, batch_size=4, show_progress=False)


@pytest.fixture()
def corpus(tmp_path):
    sentences = [" ".join(WORDS[(i * 7 + j) % len(WORDS)] for j in range(1 + i % 6)) for i in range(25)]
    return write_lines(tmp_path / "corpus.txt", sentences), sentences


class Crash(Exception):
    pass


def test_resume_after_crash_equals_uninterrupted(tmp_path, encoder, corpus):
    path, sentences = corpus
    full = export_embeddings(encoder, path, tmp_path / "full", shard_size=10)
    assert full["complete"] and full["count"] == 25 and [s["count"] for s in full["shards"]] == [10, 10, 5]

    calls = {"n": 0}
    real_encode = encoder.encode

    def crashing_encode(sentences, desc=""):
        calls["n"] += 1
        if calls["n"] == 2:
            raise Crash()
        return real_encode(sentences, desc)

    encoder.encode = crashing_encode
    try:
        with pytest.raises(Crash):
            export_embeddings(encoder, path, tmp_path / "resumed", shard_size=10)
    finally:
        del encoder.encode
    partial = json.loads((tmp_path / "resumed" / "manifest.json").read_text())
    assert not partial["complete"] and partial["count"] == 10 and len(partial["shards"]) == 1
    with pytest.raises(RxError, match="incomplete"):
        load_export(tmp_path / "resumed")

    export_embeddings(encoder, path, tmp_path / "resumed", shard_size=10)
    ids_a, vec_a, _ = load_export(tmp_path / "full")
    ids_b, vec_b, _ = load_export(tmp_path / "resumed")
    assert ids_a == ids_b == [str(i) for i in range(1, 26)]
    np.testing.assert_array_equal(vec_a, vec_b)
    np.testing.assert_allclose(vec_a, encoder.encode(sentences), atol=1e-6)


def test_float16_export(tmp_path, encoder, corpus):
    path, sentences = corpus
    export_embeddings(encoder, path, tmp_path / "half", shard_size=100, dtype="float16")
    assert np.load(tmp_path / "half" / "shard-00000.npy").dtype == np.float16
    _, vectors, _ = load_export(tmp_path / "half")
    np.testing.assert_allclose(vectors, encoder.encode(sentences), atol=2e-3)


def test_resume_with_other_settings_is_refused(tmp_path, encoder, corpus):
    path, _ = corpus
    export_embeddings(encoder, path, tmp_path / "out", shard_size=10)
    with pytest.raises(RxError, match="shard_size differs"):
        export_embeddings(encoder, path, tmp_path / "out", shard_size=5)
    write_lines(path, ["a different corpus"])
    with pytest.raises(RxError, match="input differs"):
        export_embeddings(encoder, path, tmp_path / "out", shard_size=10)


def test_bad_input_fails_before_anything_is_written(tmp_path, encoder, corpus):
    path, sentences = corpus
    write_lines(path, sentences[:20] + [" "] + sentences[20:])
    with pytest.raises(RxError, match=r"corpus.txt:21: blank line"):
        export_embeddings(encoder, path, tmp_path / "out", shard_size=10)
    assert not (tmp_path / "out").exists()


def test_resume_with_another_layer_speaks_of_the_export(tmp_path, encoder, tiny_model, corpus):
    path, _ = corpus
    export_embeddings(encoder, path, tmp_path / "out", shard_size=10)
    other = load_encoder(str(tiny_model), 3, batch_size=4, show_progress=False)
    with pytest.raises(RxError) as caught:
        export_embeddings(other, path, tmp_path / "out", shard_size=10)
    assert str(caught.value) == (
        f"{tmp_path / 'out'}: cannot resume: layer differs: export built with 2, the encoder now given has 3"
    )


def test_a_resumed_export_says_from_where(tmp_path, encoder, corpus, rx_log):
    path, _ = corpus
    export_embeddings(encoder, path, tmp_path / "out", shard_size=10)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    manifest.update(complete=False, shards=manifest["shards"][:1], count=10)
    (tmp_path / "out" / "manifest.json").write_text(json.dumps(manifest))
    export_embeddings(encoder, path, tmp_path / "out", shard_size=10)
    assert rx_log() == [f"resuming {tmp_path / 'out'}: 10 of 25 sentences done in 1 shard(s); continuing from shard 2"]
