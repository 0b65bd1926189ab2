"""The cost model: the per-machine speed cache (kept on this machine, ignored from another), the formulas from
corpus sizes to seconds and memory, and the dry runs of rx export / rx mine (which write nothing but the cache)."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import retrieval_xfer.cost.speed_cache as speed_cache
import retrieval_xfer.workflows.speed as speed
from retrieval_xfer.cli import main
from retrieval_xfer.cost.estimate import BASE_BYTES, KMEANS_ITERATIONS, RAY_START_SECONDS, export_estimate, knn_estimate
from retrieval_xfer.cost.speed_cache import EncoderSpeed, KnnSpeeds, SpeedCache, load_speeds
from retrieval_xfer.indexing.options import IndexOptions
from retrieval_xfer.mining.options import MiningOptions

KNN = KnnSpeeds(
    exact_gflops=100.0,
    gemm_gflops=200.0,
    scan_vectors_per_s=20e6,
    scan_dimension=384,
    pq_scan_codes_per_s=200e6,
    pq_bytes=48,
    threads=2,
)
ENCODER = EncoderSpeed(
    tokens_per_s_one_thread=3000.0, tokens_per_s_all_threads=5000.0, threads=2, load_seconds=2.0, label="tiny"
)


@pytest.fixture
def cache_file(tmp_path, monkeypatch):
    path = tmp_path / "speed.json"
    monkeypatch.setenv("RX_SPEED_CACHE", str(path))
    return path


def test_the_cache_round_trips_on_this_machine(cache_file):
    SpeedCache(knn=KNN, encoders={"key": ENCODER}).save()
    loaded = load_speeds()
    assert loaded.knn == KNN and loaded.encoders == {"key": ENCODER}


def test_a_cache_from_another_machine_is_ignored(cache_file, rx_log):
    SpeedCache(knn=KNN, encoders={"key": ENCODER}).save()
    for change in ({"cores": 64}, {"flags_sha256": "0" * 16}, {"cpu": "Intel(R) Xeon(R) Platinum 8480+"}):
        stored = json.loads(cache_file.read_text())
        stored["machine"] = {**speed_cache.machine_fingerprint(), **change}
        cache_file.write_text(json.dumps(stored))
        loaded = load_speeds()
        assert loaded.knn is None and loaded.encoders == {}, change
    assert any("another machine" in message for message in rx_log())


@pytest.mark.parametrize("text", ["", "{not json", '{"format": 99}', "[]", "KNN_MISSING_FIELDS"])
def test_an_unreadable_cache_is_measured_again(cache_file, text, rx_warns):
    if text == "KNN_MISSING_FIELDS":  # this machine's, but written by another version
        text = json.dumps({"format": 1, "machine": speed_cache.machine_fingerprint(), "knn": {"exact_gflops": 1}})
    cache_file.write_text(text)
    with rx_warns("unreadable speed cache"):
        loaded = load_speeds()
    assert loaded.knn is None and loaded.encoders == {}


def test_export_estimate_in_one_process_and_on_ray():
    one = export_estimate(10_000, 12.0, ENCODER, shard_size=1000)
    assert one.seconds == {"load model": 2.0, "encode": 10_000 * 12.0 / 5000.0}
    # 10 shards on 4 one-CPU actors: the slowest encodes 3 of them at the one-thread rate
    ray = export_estimate(10_000, 12.0, ENCODER, shard_size=1000, workers=4)
    assert ray.seconds == {"start Ray": RAY_START_SECONDS, "load model": 2.0, "encode": 3 * 1000 * 12.0 / 3000.0}


@settings(max_examples=60, deadline=None)
@given(
    sentences=st.integers(1, 10**9),
    tokens=st.floats(1.0, 500.0),
    shard=st.integers(1, 10**6),
    workers=st.integers(1, 4096),
)
def test_more_workers_never_predict_a_slower_export(sentences, tokens, shard, workers):
    fewer = export_estimate(sentences, tokens, ENCODER, shard, workers)
    more = export_estimate(sentences, tokens, ENCODER, shard, workers + 1)
    assert more.seconds["encode"] <= fewer.seconds["encode"]
    # never faster than the whole corpus spread evenly, never slower than one actor doing it all (plus one shard)
    total = sentences * tokens / ENCODER.tokens_per_s_one_thread
    assert total / workers - 1e-6 <= fewer.seconds["encode"] <= total + shard * tokens / 3000.0


def test_exact_knn_estimate_is_the_flop_count_over_the_rate():
    mining = MiningOptions(k=4, max_memory="1GB")
    estimate = knn_estimate(100_000, 50_000, 384, mining, KNN)
    assert estimate.seconds == {"k-NN (exact)": pytest.approx(2 * 100_000 * 50_000 * 384 / 100e9)}
    on_ray = knn_estimate(100_000, 50_000, 384, mining, KNN, workers=16)  # 16 one-CPU tasks = 8x two threads
    assert on_ray.seconds["k-NN (exact)"] == pytest.approx(estimate.seconds["k-NN (exact)"] / 8)
    assert BASE_BYTES < estimate.peak_bytes <= BASE_BYTES + (1 << 30)


def test_ivf_estimate_counts_kmeans_assignment_and_scan():
    mining = MiningOptions(k=4, max_memory="1GB", index=IndexOptions(index_type="ivf", nlist=1000, nprobe=10))
    n, d = 200_000, 384
    estimate = knn_estimate(n, n, d, mining, KNN)
    train_rows = 40 * 1000  # TRAIN_PER_CELL per cell
    assert estimate.seconds["train x->y"] == pytest.approx(2 * KMEANS_ITERATIONS * train_rows * 1000 * d / 200e9)
    assert estimate.seconds["add x->y"] == pytest.approx(2 * n * 1000 * d / 200e9)
    scanned = n * 10 * n / 1000
    assert estimate.seconds["search y->x"] == pytest.approx(2 * n * 1000 * d / 200e9 + scanned / 20e6)
    index_bytes = n * (4 * d + 8) + 1000 * 4 * d + train_rows * 4 * d
    assert estimate.peak_bytes == BASE_BYTES + index_bytes + 2 * n * 4 * 12


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(60_000, 10**9),
    dimension=st.sampled_from([256, 384, 768, 1024]),
    index_type=st.sampled_from(["flat", "ivf", "ivfpq"]),
)
def test_estimates_grow_with_the_corpus(n, dimension, index_type):
    """Within one index type (auto switches to PQ codes at 2M, which is cheaper: not monotone on purpose)."""
    mining = MiningOptions(k=4, max_memory="1TB", index=IndexOptions(index_type=index_type))
    small = knn_estimate(n, n, dimension, mining, KNN)
    large = knn_estimate(2 * n, 2 * n, dimension, mining, KNN)
    assert 0 < small.total_seconds < large.total_seconds
    assert 0 < small.peak_bytes < large.peak_bytes
    assert all(math.isfinite(s) and s >= 0 for s in large.seconds.values())


@pytest.fixture
def fixed_speeds(monkeypatch, cache_file):
    """Measuring returns fixed speeds and counts its calls (the real measurement is tested once, below)."""
    calls = {"knn": 0, "encoder": 0}

    def knn(seed=0):
        calls["knn"] += 1
        return KNN

    def encoder(options, sentences):
        calls["encoder"] += 1
        return ENCODER

    monkeypatch.setattr(speed, "measure_knn_speeds", knn)
    monkeypatch.setattr(speed, "measure_encoder_speed", encoder)
    return calls


def test_export_dry_run_writes_nothing_and_measures_once(tiny_model, tmp_path, fixed_speeds, cache_file):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join(f"sentence number {i} of the corpus\n" for i in range(3000)), encoding="utf-8")
    out = tmp_path / "export"
    args = ["export", "--model", str(tiny_model), "--input", str(corpus), "--out", str(out), "--dry-run"]
    first = CliRunner().invoke(main, [*args, "--shard-size", "500"])
    assert first.exit_code == 0, first.output
    assert not out.exists() and cache_file.is_file()
    assert "3,000 sentences" in first.output and "Ray cluster of 256 CPUs" in first.output
    second = CliRunner().invoke(main, [*args, "--shard-size", "500"])
    assert second.exit_code == 0 and fixed_speeds["encoder"] == 1  # the cached speed was used
    CliRunner().invoke(main, [*args, "--layer", "2"])  # another encoder configuration: measured
    assert fixed_speeds["encoder"] == 2


def test_mine_dry_run_on_matrices_and_its_bad_input(tmp_path, fixed_speeds, monkeypatch):
    slow = dataclasses.replace(KNN, exact_gflops=0.001)  # 2 x 3000 x 2000 x 16 flops take 192 s at this rate
    monkeypatch.setattr(speed, "measure_knn_speeds", lambda seed=0: slow)
    rng = np.random.default_rng(0)
    for name, rows in (("x.npy", 3000), ("y.npy", 2000)):
        np.save(tmp_path / name, rng.standard_normal((rows, 16)).astype(np.float32))
    out = tmp_path / "pairs.tsv"
    result = CliRunner().invoke(
        main,
        ["mine", "--src", str(tmp_path / "x.npy"), "--trg", str(tmp_path / "y.npy"), "--out", str(out), "--dry-run"],
    )
    assert result.exit_code == 0, result.output
    assert "3,000 x 2,000 sentences, dimension 16, k 4" in result.output and not out.exists()
    assert "k-NN (exact) 3.2 min" in result.output
    text = tmp_path / "text.txt"
    text.write_text("a sentence\n", encoding="utf-8")
    no_model = CliRunner().invoke(
        main, ["mine", "--src", str(text), "--trg", str(tmp_path / "y.npy"), "--out", str(out), "--dry-run"]
    )
    assert no_model.exit_code != 0 and "needs --model" in no_model.output and len(no_model.output.splitlines()) == 1


def test_calibrate_speed_measures_for_real(tiny_model, tmp_path, cache_file, monkeypatch):
    monkeypatch.setattr(speed, "_SCAN_ROWS", 40_000)  # a smaller database: seconds, not tens of seconds
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join(f"a short sentence, number {i}\n" for i in range(400)), encoding="utf-8")
    half = CliRunner().invoke(main, ["calibrate-speed", "--model", str(tiny_model)])
    assert half.exit_code != 0 and "together" in half.output
    result = CliRunner().invoke(main, ["calibrate-speed", "--model", str(tiny_model), "--input", str(corpus)])
    assert result.exit_code == 0, result.output
    cached = load_speeds()
    assert cached.knn is not None and cached.knn.exact_gflops > 0 and cached.knn.scan_vectors_per_s > 0
    (encoder,) = cached.encoders.values()
    assert encoder.tokens_per_s_all_threads > 0 and encoder.tokens_per_s_one_thread > 0 and encoder.load_seconds > 0
    assert str(cache_file) in result.output
