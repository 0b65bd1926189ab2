"""Mining at scale: the blockwise exact k-NN against brute force, out of core equal to in memory, resuming after
a kill with a byte-identical pairs file, exports and .npy matrices as inputs, approximate indexes, bad input."""

import dataclasses
import json

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import WORDS
from helpers import write_lines

from retrieval_xfer.cli import main
from retrieval_xfer.errors import RxError
from retrieval_xfer.indexing.factory import IndexParams
from retrieval_xfer.indexing.options import IndexOptions
from retrieval_xfer.mining.budget import parse_size, plan_block_rows
from retrieval_xfer.mining.checkpoint import KnnCheckpoint
from retrieval_xfer.mining.knn import knn_both_ways
from retrieval_xfer.mining.options import MiningOptions
from retrieval_xfer.vectors import ArrayVectors, NpyVectors, ShardedVectors
from retrieval_xfer.workflows.mine import MineJob, mine


def unit_rows(n, d=24, seed=0):
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def parallel_corpus(n_pairs, n_noise, d=32, noise=0.3, seed=0):
    """x and y where rows 0..n_pairs-1 of x are planted translations of shuffled rows of y; the rest unrelated."""
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((n_pairs, d))
    x = np.vstack([base + noise * rng.standard_normal((n_pairs, d)), rng.standard_normal((n_noise, d))])
    order = rng.permutation(n_pairs + n_noise)
    y_rows = np.vstack([base + noise * rng.standard_normal((n_pairs, d)), rng.standard_normal((n_noise, d))])
    y = y_rows[order]
    gold = {(i, int(np.where(order == i)[0][0])) for i in range(n_pairs)}
    norm = lambda a: (a / np.linalg.norm(a, axis=1, keepdims=True)).astype(np.float32)  # noqa: E731
    return norm(x), norm(y), gold


@pytest.mark.parametrize("block_rows", [7, 16, 1000])
def test_both_ways_equals_brute_force(block_rows):
    x, y, k = unit_rows(45), unit_rows(38, seed=1), 4
    got = knn_both_ways(ArrayVectors(x), ArrayVectors(y), k, block_rows=block_rows, device="cpu")
    sim = x.astype(np.float64) @ y.T.astype(np.float64)
    for sims, ids, full in ((got.x_sims, got.x_ids, sim), (got.y_sims, got.y_ids, sim.T)):
        expected = np.argsort(-full, axis=1, kind="stable")[:, :k]
        np.testing.assert_array_equal(ids, expected)
        np.testing.assert_allclose(sims, np.take_along_axis(full, expected, 1), atol=1e-5)


def test_k_is_capped_at_the_other_side():
    got = knn_both_ways(ArrayVectors(unit_rows(10)), ArrayVectors(unit_rows(3, seed=2)), 4, block_rows=2)
    assert got.x_ids.shape == (10, 3) and got.y_ids.shape == (3, 4)


def write_shards(folder, x, sizes, dtype=np.float16):
    folder.mkdir(parents=True, exist_ok=True)
    paths, start = [], 0
    for i, size in enumerate(sizes):
        path = folder / f"part-{i}.npy"
        np.save(path, x[start : start + size].astype(dtype))
        paths.append(path)
        start += size
    return ShardedVectors([NpyVectors(p) for p in paths])


def test_out_of_core_equals_in_memory(tmp_path):
    x, y = unit_rows(300, seed=3), unit_rows(260, seed=4)
    on_disk_x = write_shards(tmp_path / "x", x, [100, 120, 80])
    on_disk_y = write_shards(tmp_path / "y", y, [260])
    in_memory = knn_both_ways(
        ArrayVectors(on_disk_x.rows(0, 300)), ArrayVectors(on_disk_y.rows(0, 260)), 4, block_rows=1000, device="cpu"
    )
    budget = parse_size("150KB")
    rows = plan_block_rows(budget, 300, 260, 24, 4)
    assert rows < 260  # the budget forces several blocks on each side, across shard boundaries
    blockwise = knn_both_ways(on_disk_x, on_disk_y, 4, block_rows=rows, device="cpu")
    for field in ("x_ids", "y_ids"):
        np.testing.assert_array_equal(getattr(blockwise, field), getattr(in_memory, field))
    for field in ("x_sims", "y_sims"):
        np.testing.assert_allclose(getattr(blockwise, field), getattr(in_memory, field), atol=1e-6)


def test_budget_too_small_names_the_minimum():
    results = 2000 * 4 * (4 + 8)  # k float32 similarities and k int64 ids per sentence, both sides
    block = 2 * 64 * 384 * 4 + 2 * 64 * 64 * 4 + 4 * 64 * 4 * 12  # two blocks, the product and its copy, top-ks
    with pytest.raises(RxError, match=r"--max-memory 1.0 KB is too small for this job: it needs at least 329.8 KB"):
        plan_block_rows(parse_size("1KB"), 1000, 1000, 384, 4)
    assert plan_block_rows(results + block, 1000, 1000, 384, 4) == 64
    with pytest.raises(RxError):
        plan_block_rows(results + block - 1, 1000, 1000, 384, 4)
    with pytest.raises(RxError, match="expected a size such as 512MB"):
        parse_size("lots")
    assert parse_size("1.5GB") == int(1.5 * 2**30) and parse_size("512mb") == 512 * 2**20


class Kill(BaseException):
    pass


def test_checkpoint_resume_gives_the_same_result(tmp_path, monkeypatch):
    x, y = unit_rows(90, seed=5), unit_rows(70, seed=6)
    reference = knn_both_ways(ArrayVectors(x), ArrayVectors(y), 3, block_rows=20)
    real_save = KnnCheckpoint.save

    def save_then_die(self, number, *args):
        real_save(self, number, *args)
        if number == 2:
            raise Kill()

    monkeypatch.setattr(KnnCheckpoint, "save", save_then_die)
    with pytest.raises(Kill):
        knn_both_ways(ArrayVectors(x), ArrayVectors(y), 3, 20, KnnCheckpoint(tmp_path / "ck", {"job": 1}))
    monkeypatch.setattr(KnnCheckpoint, "save", real_save)
    checkpoint = KnnCheckpoint(tmp_path / "ck", {"job": 1})
    assert checkpoint.blocks_done == 3
    resumed = knn_both_ways(ArrayVectors(x), ArrayVectors(y), 3, 20, checkpoint)
    for field in ("x_ids", "y_ids", "x_sims", "y_sims"):
        np.testing.assert_array_equal(getattr(resumed, field), getattr(reference, field))
    with pytest.raises(RxError, match="a checkpoint of another job \\(job differs"):
        KnnCheckpoint(tmp_path / "ck", {"job": 2})


def test_rx_mine_resumes_after_a_kill_byte_identical(tmp_path, monkeypatch):
    x, y, _ = parallel_corpus(150, 50, seed=7)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    job = MineJob(tmp_path / "x.npy", tmp_path / "y.npy", tmp_path / "whole.tsv", MiningOptions(max_memory="200KB"))
    mine(job, quiet=True)
    job = dataclasses.replace(job, out=tmp_path / "pairs.tsv")
    real_save = KnnCheckpoint.save

    def save_then_die(self, number, *a):
        real_save(self, number, *a)
        if number == 1:
            raise Kill()

    monkeypatch.setattr(KnnCheckpoint, "save", save_then_die)
    with pytest.raises(Kill):
        mine(job, quiet=True)
    assert not (tmp_path / "pairs.tsv").exists() and (tmp_path / "pairs.tsv.rx-mine").is_dir()
    monkeypatch.setattr(KnnCheckpoint, "save", real_save)
    with pytest.raises(RxError, match="k differs"):
        mine(dataclasses.replace(job, mining=MiningOptions(k=2, max_memory="200KB")), quiet=True)
    summary = mine(job, quiet=True)
    assert summary.resumed
    assert (tmp_path / "pairs.tsv").read_bytes() == (tmp_path / "whole.tsv").read_bytes()
    sidecar = json.loads((tmp_path / "pairs.tsv.json").read_text())
    assert sidecar["compatibility"].startswith("not checked") and sidecar["resumed"]


def best_f1(pairs_file, gold):
    rows = [line.split("\t") for line in pairs_file.read_text().splitlines()]
    predicted = [(int(r[1]), int(r[2])) for r in rows]  # best first
    best, correct = 0.0, 0
    for n, pair in enumerate(predicted, 1):
        correct += pair in gold
        best = max(best, 2 * correct / (n + len(gold)))
    return 100 * best


def test_approximate_index_finds_what_exact_finds(tmp_path):
    x, y, gold = parallel_corpus(1500, 500, d=32, seed=8)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    exact = mine(MineJob(tmp_path / "x.npy", tmp_path / "y.npy", tmp_path / "exact.tsv"), quiet=True)
    ivf_mining = MiningOptions(index=IndexOptions("ivf", nlist=16, nprobe=4))
    ivf = mine(MineJob(tmp_path / "x.npy", tmp_path / "y.npy", tmp_path / "ivf.tsv", ivf_mining), quiet=True)
    assert not exact.resumed and not ivf.resumed
    assert abs(best_f1(tmp_path / "exact.tsv", gold) - best_f1(tmp_path / "ivf.tsv", gold)) < 0.5
    assert best_f1(tmp_path / "exact.tsv", gold) > 95
    sidecar = json.loads((tmp_path / "ivf.tsv.json").read_text())
    assert sidecar["knn"]["x_to_y"]["index"] == "IVF16,Flat" and sidecar["knn"]["x_to_y"]["params"]["nprobe"] == 4
    assert set(sidecar["phases"]) == {"read and encode", "k-NN", "candidates", "write"}
    with pytest.raises(RxError, match="needs at least 2000 sentences, got 2000|needs at least 4096 sentences"):
        mine(
            MineJob(
                tmp_path / "x.npy",
                tmp_path / "y.npy",
                tmp_path / "bad.tsv",
                MiningOptions(index=IndexOptions("ivf", nlist=4096)),
            ),
            quiet=True,
        )
    assert not (tmp_path / "bad.tsv").exists()


@pytest.fixture(scope="module")
def exports(tiny_model, tmp_path_factory):
    """Exports of two small corpora with the tiny model at layer 2, and the text files they came from."""
    folder = tmp_path_factory.mktemp("mine-exports")
    de = [" ".join(WORDS[(i * 5 + j) % len(WORDS)] for j in range(2 + i % 4)) for i in range(30)]
    en = list(reversed(de))
    src = write_lines(folder / "de.txt", de)
    trg = write_lines(folder / "en.txt", en)
    runner = CliRunner()
    for name, path in (("de", src), ("en", trg)):
        result = runner.invoke(
            main,
            [
                "export",
                "--model",
                str(tiny_model),
                "--layer",
                "2",
                "--input",
                str(path),
                "--out",
                str(folder / f"ex-{name}"),
                "--shard-size",
                "7",
                "--quiet",
            ],
        )
        assert result.exit_code == 0, result.output
    return folder


def test_mining_exports_equals_mining_text(tiny_model, exports, tmp_path):
    runner = CliRunner()
    from_text = runner.invoke(
        main,
        [
            "mine",
            "--model",
            str(tiny_model),
            "--layer",
            "2",
            "--src",
            str(exports / "de.txt"),
            "--trg",
            str(exports / "en.txt"),
            "--out",
            str(tmp_path / "text.tsv"),
            "--quiet",
        ],
    )
    assert from_text.exit_code == 0, from_text.output
    from_exports = runner.invoke(
        main,
        [
            "mine",
            "--src",
            str(exports / "ex-de"),
            "--trg",
            str(exports / "ex-en"),
            "--out",
            str(tmp_path / "ex.tsv"),
            "--quiet",
        ],
    )
    assert from_exports.exit_code == 0, from_exports.output
    mixed = runner.invoke(
        main,
        [
            "mine",
            "--model",
            str(tiny_model),
            "--src",
            str(exports / "de.txt"),
            "--trg",
            str(exports / "ex-en"),
            "--out",
            str(tmp_path / "mixed.tsv"),
            "--quiet",
        ],
    )
    assert mixed.exit_code == 0, mixed.output  # the text side takes the export's layer 2
    text_rows = [r.split("\t") for r in (tmp_path / "text.tsv").read_text().splitlines()]
    for name in ("ex.tsv", "mixed.tsv"):
        rows = [r.split("\t") for r in (tmp_path / name).read_text().splitlines()]
        assert [r[1:] for r in rows] == [r[1:] for r in text_rows]  # same pairs, same ids, same sentences
        np.testing.assert_allclose([float(r[0]) for r in rows], [float(r[0]) for r in text_rows], atol=2e-3)
    assert json.loads((tmp_path / "ex.tsv.json").read_text())["compatibility"].startswith("checked")


def test_bad_mining_inputs_are_one_line(tiny_model, exports, tmp_path):
    import shutil

    runner = CliRunner()
    other = runner.invoke(
        main,
        [
            "export",
            "--model",
            str(tiny_model),
            "--layer",
            "3",
            "--input",
            str(exports / "en.txt"),
            "--out",
            str(tmp_path / "l3"),
            "--quiet",
        ],
    )
    assert other.exit_code == 0
    half = tmp_path / "half"
    shutil.copytree(exports / "ex-en", half)
    manifest = json.loads((half / "manifest.json").read_text())
    manifest.update(complete=False, shards=manifest["shards"][:-1], count=28)  # as if killed before the last shard
    (half / "manifest.json").write_text(json.dumps(manifest))
    truncated = tmp_path / "trunc"
    shutil.copytree(exports / "ex-en", truncated)
    (truncated / "shard-00001.npy").write_bytes((truncated / "shard-00001.npy").read_bytes()[:100])
    np.save(tmp_path / "d16.npy", np.ones((5, 16), np.float32))
    cases = [
        (["--src", str(exports / "ex-de"), "--trg", str(tmp_path / "l3")], "layer differs: export"),
        (
            ["--src", str(exports / "ex-de"), "--trg", str(half)],
            "export is incomplete (28 of 30 sentences); finish it with: rx export --model",
        ),
        (["--src", str(exports / "ex-de"), "--trg", str(truncated)], "checksum mismatch in"),
        (
            ["--src", str(exports / "ex-de"), "--trg", str(truncated), "--no-verify"],
            "shard-00001.npy: corrupt or truncated .npy",
        ),
        (["--src", str(exports / "ex-de"), "--trg", str(tmp_path / "d16.npy")], "dimension 16 differs"),
        (["--src", str(exports / "de.txt"), "--trg", str(exports / "ex-en")], "needs --model"),
        (["--src", str(exports / "ex-de"), "--trg", str(exports / "ex-en"), "--max-memory", "2KB"], "is too small"),
    ]
    for args, message in cases:
        result = runner.invoke(main, ["mine", *args, "--out", str(tmp_path / "pairs.tsv"), "--quiet"])
        assert result.exit_code == 1 and message in result.output, (args, result.output)
        assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "pairs.tsv").exists()


def test_build_index_from_an_export_or_npy_without_the_model(tiny_model, exports, tmp_path):
    runner = CliRunner()
    from_text = runner.invoke(
        main,
        [
            "build-index",
            "--model",
            str(tiny_model),
            "--layer",
            "2",
            "--input",
            str(exports / "en.txt"),
            "--out",
            str(tmp_path / "text"),
            "--quiet",
        ],
    )
    from_export = runner.invoke(
        main, ["build-index", "--input", str(exports / "ex-en"), "--out", str(tmp_path / "export")]
    )
    assert from_text.exit_code == 0 and from_export.exit_code == 0, from_export.output
    query = (exports / "de.txt").read_text().splitlines()[3]
    hits = [
        runner.invoke(
            main, ["search", str(tmp_path / name), "--model", str(tiny_model), query, "-k", "3", "--json", "--quiet"]
        )
        for name in ("text", "export")
    ]
    assert all(h.exit_code == 0 for h in hits), hits[1].output
    text_hits, export_hits = (json.loads(h.output.splitlines()[-1])["hits"] for h in hits)
    assert [h["id"] for h in text_hits] == [h["id"] for h in export_hits]
    assert [h["sentence"] for h in export_hits] == [h["sentence"] for h in text_hits]  # the exported file is at hand
    np.save(tmp_path / "m.npy", np.random.default_rng(0).standard_normal((300, 32)).astype(np.float16))
    from_npy = runner.invoke(
        main,
        [
            "build-index",
            "--input",
            str(tmp_path / "m.npy"),
            "--out",
            str(tmp_path / "n"),
            "--index-type",
            "ivf",
            "--nlist",
            "4",
        ],
    )
    assert from_npy.exit_code == 0, from_npy.output
    assert "ivf" in runner.invoke(main, ["info", str(tmp_path / "n")]).output
    refused = runner.invoke(main, ["search", str(tmp_path / "n"), "--model", str(tiny_model), "x"])
    assert refused.exit_code == 1 and "built from a .npy matrix of an unknown encoder" in refused.output
    assert "encoder:" not in refused.output  # refused before the model loaded


def test_untrainable_index_fails_before_the_model_loads(tmp_path):
    corpus = write_lines(tmp_path / "c.txt", [f"sentence {i}" for i in range(100)])
    result = CliRunner().invoke(
        main,
        [
            "build-index",
            "--model",
            str(tmp_path / "no-such-model"),
            "--input",
            str(corpus),
            "--index-type",
            "ivfpq",
            "--out",
            str(tmp_path / "i"),
        ],
    )
    assert result.exit_code == 1 and "needs at least 256 sentences, got 100" in result.output  # not "no such model"


def test_tune_threshold_prints_the_curve_and_the_best(tmp_path):
    pairs = write_lines(
        tmp_path / "pairs.tsv",
        ["1.300000\ta\tA", "1.200000\tb\tB", "1.100000\tc,c2\tX", "1.050000\td\tD", "1.000000\te\tZ"],
    )
    gold = write_lines(tmp_path / "gold.tsv", ["a\tA", "b\tB", "d\tD", "c2\tC"])
    result = CliRunner().invoke(main, ["tune-threshold", str(pairs), "--gold", str(gold), "--points", "5"])
    assert result.exit_code == 0, result.output
    # ranked id pairs: aA, bB, cX, c2X (both ids of the duplicated sentence), dD, eZ. After bB: P 2/2, R 2/4,
    # F1 66.67; after dD: P 3/5, R 3/4, F1 66.67 too, so the first cut wins, at the midpoint of 1.2 and 1.1.
    assert "best threshold 1.1500: F1 66.67 (precision 100.00, recall 50.00); 1 of 4 gold pairs" in result.output
    bad = CliRunner().invoke(main, ["tune-threshold", str(gold), "--gold", str(gold)])
    assert bad.exit_code == 1 and "gold.tsv:1: expected score<TAB>src_id<TAB>trg_id" in bad.output


def test_approximate_index_across_two_offset_languages():
    """Two languages in different regions of the space (a constant offset each), of different sizes: each side's
    index must be trained on that side, or the other language's queries probe cells empty of it."""
    from retrieval_xfer.mining.approximate import knn_approximate

    rng = np.random.default_rng(11)
    centers = rng.standard_normal((40, 32))
    base = centers[rng.integers(0, 40, 3000)] + 0.4 * rng.standard_normal((3000, 32))
    x = base[:2000] + 2.0 * rng.standard_normal(32)
    y = np.vstack([base[:2000] + 0.1 * rng.standard_normal((2000, 32)), base[2000:]]) + 2.0 * rng.standard_normal(32)
    exact = knn_both_ways(ArrayVectors(x), ArrayVectors(y), 4)
    approx, info = knn_approximate(ArrayVectors(x), ArrayVectors(y), 4, IndexParams(kind="ivf", nprobe=8))
    assert info["x_to_y"]["missing_neighbours"] == 0 and info["y_to_x"]["missing_neighbours"] == 0
    assert np.mean(approx.x_ids[:, 0] == exact.x_ids[:, 0]) > 0.9
    assert np.mean(approx.y_ids[:, 0] == exact.y_ids[:, 0]) > 0.9


def test_an_input_rewritten_in_place_shows_no_sentences(tiny_model, tmp_path, rx_warns):
    """Same lines in another order, same byte count: the export's vectors no longer line up with the file's lines,
    so mine and build-index show no sentences (with a warning) instead of wrong ones."""
    lines = [f"{WORDS[i]} {WORDS[i + 1]}" for i in range(12)]
    source = write_lines(tmp_path / "c.txt", lines)
    runner = CliRunner()
    for name in ("a", "b"):
        assert (
            runner.invoke(
                main,
                [
                    "export",
                    "--model",
                    str(tiny_model),
                    "--layer",
                    "2",
                    "--input",
                    str(source),
                    "--out",
                    str(tmp_path / name),
                    "--quiet",
                ],
            ).exit_code
            == 0
        )
    write_lines(source, lines[::-1])
    assert source.stat().st_size == len("\n".join(lines)) + 1
    with rx_warns("changed since .* SHA-256 differs"):
        mined = runner.invoke(
            main,
            [
                "mine",
                "--src",
                str(tmp_path / "a"),
                "--trg",
                str(tmp_path / "b"),
                "--out",
                str(tmp_path / "pairs.tsv"),
                "--quiet",
            ],
        )
    assert mined.exit_code == 0, mined.output
    assert all(len(row.split("\t")) == 3 for row in (tmp_path / "pairs.tsv").read_text().splitlines())
    with rx_warns("changed since"):
        built = runner.invoke(main, ["build-index", "--input", str(tmp_path / "a"), "--out", str(tmp_path / "i")])
    assert built.exit_code == 0, built.output
    assert not (tmp_path / "i" / "sentences.txt").exists()


def test_non_finite_vectors_are_refused_on_every_path(tmp_path):
    rng = np.random.default_rng(0)
    good = rng.standard_normal((50, 8)).astype(np.float32)
    bad = good.copy()
    bad[37, 2] = np.nan
    np.save(tmp_path / "good.npy", good)
    np.save(tmp_path / "bad.npy", bad)
    inf = good.astype(np.float16)
    inf[4, 0] = np.inf
    np.save(tmp_path / "inf.npy", inf)
    runner = CliRunner()
    for name, row in (("bad.npy", 37), ("inf.npy", 4)):
        mined = runner.invoke(
            main,
            [
                "mine",
                "--src",
                str(tmp_path / name),
                "--trg",
                str(tmp_path / "good.npy"),
                "--out",
                str(tmp_path / f"{name}.tsv"),
                "--quiet",
                "--threshold",
                "1.0",
            ],
        )
        assert mined.exit_code == 1 and f"{name}: row {row} holds NaN or infinite values" in mined.output
        assert not (tmp_path / f"{name}.tsv").exists()
        built = runner.invoke(main, ["build-index", "--input", str(tmp_path / name), "--out", str(tmp_path / "i")])
        assert built.exit_code == 1 and f"row {row} holds NaN" in built.output and not (tmp_path / "i").exists()
    write_lines(tmp_path / "p.tsv", ["nan\t1\t1", "0.5\t2\t2"])
    write_lines(tmp_path / "gold.tsv", ["1\t1"])
    tuned = runner.invoke(main, ["tune-threshold", str(tmp_path / "p.tsv"), "--gold", str(tmp_path / "gold.tsv")])
    assert tuned.exit_code == 1 and "p.tsv:1: score nan is not a finite number" in tuned.output


def test_a_flipped_bit_in_a_shard_is_caught(tiny_model, tmp_path):
    lines = [f"{WORDS[i]} {WORDS[(i * 3) % len(WORDS)]}" for i in range(20)]
    source = write_lines(tmp_path / "c.txt", lines)
    runner = CliRunner()
    for name in ("a", "b"):
        assert (
            runner.invoke(
                main,
                [
                    "export",
                    "--model",
                    str(tiny_model),
                    "--layer",
                    "2",
                    "--input",
                    str(source),
                    "--out",
                    str(tmp_path / name),
                    "--shard-size",
                    "8",
                    "--quiet",
                ],
            ).exit_code
            == 0
        )
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert all(len(shard["sha256"]) == 64 for shard in manifest["shards"])
    shard = tmp_path / "a" / manifest["shards"][1]["file"]
    data = bytearray(shard.read_bytes())
    data[-3] ^= 0x01  # one bit of the last vector: a valid .npy with a slightly different number
    shard.write_bytes(bytes(data))
    args = ["mine", "--src", str(tmp_path / "a"), "--trg", str(tmp_path / "b"), "--quiet"]
    refused = runner.invoke(main, [*args, "--out", str(tmp_path / "p1.tsv")])
    assert refused.exit_code == 1 and f"corrupt: checksum mismatch in {shard}" in refused.output
    assert not (tmp_path / "p1.tsv").exists()
    assert runner.invoke(main, [*args, "--out", str(tmp_path / "p2.tsv"), "--no-verify"]).exit_code == 0
    manifest["shards"][0]["file"] = "../c.txt"
    (tmp_path / "a" / "manifest.json").write_text(json.dumps(manifest))
    outside = runner.invoke(main, [*args, "--out", str(tmp_path / "p3.tsv")])
    assert outside.exit_code == 1 and "is not a plain file name" in outside.output
