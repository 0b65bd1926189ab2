"""FAISS index folders: every type round-trips, exact search matches numpy, bad folders and mismatches fail."""

import dataclasses
import json
import math

import faiss
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval_xfer.errors import RxError
from retrieval_xfer.indexing.factory import (
    AUTO_FLAT_MAX,
    AUTO_IVF_FLAT_MAX,
    IndexParams,
    auto_index,
    build_faiss_index,
)
from retrieval_xfer.indexing.meta import IndexMeta
from retrieval_xfer.indexing.store import load_index, save_index
from retrieval_xfer.specs import EncoderSpec, check_compatible


def unit_rows(n, d=32, seed=0):
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def spec(**changes):
    base = EncoderSpec(
        model="m",
        weights_sha256="a" * 64,
        layer=8,
        num_layers=12,
        pooling="mean",
        prompt="",
        max_length=512,
        dimension=32,
    )
    return dataclasses.replace(base, **changes)


def meta_for(params, count):
    return IndexMeta(
        encoder=spec().to_dict(),
        index=dataclasses.asdict(params),
        count=count,
        build_seconds=0.1,
        created_at="now",
        rx_version="test",
    )


def save(folder, vectors, params):
    index, resolved = build_faiss_index(vectors, params)
    ids = [f"id{i}" for i in range(len(vectors))]
    save_index(folder, index, ids, [f"s{i}" for i in range(len(vectors))], meta_for(resolved, len(vectors)))
    return index


def test_flat_search_equals_numpy_top_k(tmp_path):
    base, queries = unit_rows(500), unit_rows(20, seed=1)
    save(tmp_path / "idx", base, IndexParams("flat"))
    scores, rows = load_index(tmp_path / "idx").search(queries, 5)
    expected_rows = np.argsort(-(queries @ base.T), axis=1)[:, :5]
    np.testing.assert_array_equal(rows, expected_rows)
    np.testing.assert_allclose(scores, np.take_along_axis(queries @ base.T, expected_rows, 1), atol=1e-5)


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw", "ivfpq"])
def test_round_trip_gives_the_same_results(tmp_path, kind):
    base, queries = unit_rows(2000), unit_rows(50, seed=1)
    original = save(tmp_path / "idx", base, IndexParams(kind, nlist=16, nprobe=16 if kind != "ivfpq" else 4))
    loaded = load_index(tmp_path / "idx")
    assert loaded.ids[7] == "id7" and loaded.sentences[7] == "s7" and loaded.meta.count == 2000
    np.testing.assert_array_equal(loaded.search(queries, 10)[1], original.search(queries, 10)[1])


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_approximate_indexes_find_exact_matches(tmp_path, kind):
    base = unit_rows(2000)
    save(tmp_path / "idx", base, IndexParams(kind, nlist=16, nprobe=16))
    _, rows = load_index(tmp_path / "idx").search(base[:100], 1)
    assert np.mean(rows[:, 0] == np.arange(100)) >= 0.98


def test_automatic_parameters_follow_corpus_size():
    params = IndexParams("ivfpq").resolved(count=250_000, dimension=384)
    assert params.nlist == 4 * 500 and params.pq_m == 48 and params.factory_string() == "IVF2000,PQ48x8"
    assert IndexParams("ivf").resolved(count=10_000, dimension=8).nlist == 10_000 // 39
    assert IndexParams("ivf").resolved(count=100, dimension=8).nlist == 2  # capped at n/39 points per cell


def test_too_small_corpus_for_trained_index_is_clear():
    with pytest.raises(RxError, match="needs at least 256 sentences"):
        build_faiss_index(unit_rows(100), IndexParams("ivfpq", nlist=2))
    with pytest.raises(
        RxError, match=r"IVF50,Flat index needs at least 50 sentences, got 10 \(give --nlist 1 or fewer"
    ):
        build_faiss_index(unit_rows(10), IndexParams("ivf", nlist=50))


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("layer", 9, "layer differs: index built with 8, query encoder has 9"),
        ("pooling", "mean-no-special", "pooling differs"),
        ("weights_sha256", "b" * 64, "built with another model"),
        ("dimension", 64, "dimension differs"),
    ],
)
def test_meta_mismatch_names_the_field(field, value, message):
    with pytest.raises(RxError, match=message):
        check_compatible(spec(), spec(**{field: value}), "idx")
    check_compatible(spec(), spec(prompt="query: "), "idx")  # a different query prompt is allowed


def test_existing_folder_is_not_overwritten_by_default(tmp_path):
    save(tmp_path / "idx", unit_rows(10), IndexParams("flat"))
    with pytest.raises(RxError, match="already exists"):
        save(tmp_path / "idx", unit_rows(10), IndexParams("flat"))


def test_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    def broken(*args):
        raise OSError("disk full")

    monkeypatch.setattr(faiss, "write_index", broken)
    with pytest.raises(OSError):
        save(tmp_path / "idx", unit_rows(10), IndexParams("flat"))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "damage,message",
    [
        (lambda f: (f / "ids.txt").unlink(), "ids.txt is missing"),
        (lambda f: (f / "index.faiss").write_bytes(b"garbage"), "corrupt FAISS file"),
        (lambda f: (f / "meta.json").write_text("{not json"), "corrupt metadata"),
        (lambda f: (f / "meta.json").write_text(json.dumps({"count": 3})), "corrupt metadata"),
        (lambda f: (f / "ids.txt").write_text("a\nb\n"), "FAISS holds 10 vectors, ids.txt 2 lines"),
    ],
)
def test_corrupt_folder_is_one_line_error(tmp_path, damage, message):
    save(tmp_path / "idx", unit_rows(10), IndexParams("flat"))
    damage(tmp_path / "idx")
    with pytest.raises(RxError, match=message) as err:
        load_index(tmp_path / "idx", verify=False)  # the structural checks, behind the checksums
    assert "\n" not in str(err.value)
    if "meta" not in message and "missing" not in message:  # damaged content is caught first by its checksum
        with pytest.raises(RxError, match="corrupt: checksum mismatch in .*idx/(index.faiss|ids.txt)"):
            load_index(tmp_path / "idx")


@settings(max_examples=200, deadline=None)
@given(count=st.integers(AUTO_FLAT_MAX + 1, 10**10))
def test_auto_index_cells_are_the_power_of_two_nearest_eight_root_n(count):
    params = auto_index(count, 384)
    cells = params.nlist
    assert cells & (cells - 1) == 0  # a power of two
    target = 8 * math.sqrt(count)
    assert count // cells >= 39  # every cell has faiss's minimum of training points available
    if count // 39 >= target * math.sqrt(2):  # else the largest power of two that leaves 39 points per cell
        assert target / math.sqrt(2) <= cells <= target * math.sqrt(2)  # the nearest one on a log scale
    else:
        assert 2 * cells > count // 39
    assert (params.kind == "ivf") == (count <= AUTO_IVF_FLAT_MAX)
    if params.kind == "factory":
        assert params.factory == f"OPQ64,IVF{cells},PQ64"


def test_auto_index_is_exact_for_small_corpora():
    assert auto_index(AUTO_FLAT_MAX, 384).kind == "flat"
    assert auto_index(1_000_000, 384).factory_string() == "IVF8192,Flat"


def test_ivfpq_skips_polysemous_training():
    vectors = np.random.default_rng(0).standard_normal((3000, 16)).astype(np.float32)
    index, _ = build_faiss_index(vectors, IndexParams(kind="ivfpq", nlist=8, pq_m=4))
    assert not faiss.downcast_index(faiss.extract_index_ivf(index)).do_polysemous_training
