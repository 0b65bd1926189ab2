"""Margins are finite by construction: property tests (hypothesis) of the candidate functions on arbitrary finite
matrices (zero rows, duplicates, 1 to 5 rows, centered), and the reproductions of issue 25 as regression tests."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from retrieval_xfer.cli import main
from retrieval_xfer.errors import RxError
from retrieval_xfer.mining.candidates import candidates_from_neighbours
from retrieval_xfer.mining.knn import knn_both_ways
from retrieval_xfer.mining.margin import RATIO_FLOOR, margin_scores
from retrieval_xfer.vectors import ArrayVectors, CenteredVectors, mean_vector

SETTINGS = settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
ELEMENTS = st.floats(-4, 4, allow_nan=False, width=32) | st.sampled_from([0.0, 1.0, -1.0])


def matrices(dimension: int = 4):
    return st.integers(1, 5).flatmap(lambda n: arrays(np.float32, (n, dimension), elements=ELEMENTS))


def mined(x: np.ndarray, y: np.ndarray, k: int, margin: str, retrieval: str, center: bool = False):
    """Candidates as ``rx mine`` computes them, or None when the vectors are refused (zero rows)."""
    try:
        vx, vy = ArrayVectors(x), ArrayVectors(y)
    except RxError as err:
        assert "zero vector" in str(err)
        return None
    if center:
        vx, vy = CenteredVectors(vx, mean_vector(vx)), CenteredVectors(vy, mean_vector(vy))
    return candidates_from_neighbours(knn_both_ways(vx, vy, k, device="cpu"), margin, retrieval)


@SETTINGS
@given(
    matrices(),
    matrices(),
    st.integers(1, 4),
    st.sampled_from(["ratio", "distance", "absolute"]),
    st.sampled_from(["max", "fwd", "bwd", "intersect"]),
    st.booleans(),
)
def test_every_margin_is_finite_and_bounded(x, y, k, margin, retrieval, center):
    found = mined(x, y, k, margin, retrieval, center)
    if found is None:
        return
    assert np.isfinite(found.score).all()
    bound = {"ratio": 1 / RATIO_FLOOR, "distance": 2.0, "absolute": 1.0}[margin]
    assert (np.abs(found.score) <= bound + 1e-5).all()


@SETTINGS
@given(matrices(), matrices(), st.integers(1, 4), st.sampled_from(["fwd", "bwd"]), st.randoms(use_true_random=False))
def test_scores_do_not_depend_on_row_order(x, y, k, retrieval, rnd):
    """Without ties among a row's similarities (with a tie, which neighbour is kept is arbitrary, and so is its
    neighbourhood's mean), permuting the rows permutes the scores."""
    found = mined(x, y, k, "ratio", retrieval)
    if found is None:
        return
    unit = lambda m: m / np.linalg.norm(m, axis=1, keepdims=True)
    sims = np.round(unit(x.astype(np.float64)) @ unit(y.astype(np.float64)).T, 5)
    assume(all(len(set(row)) == len(row) for row in sims) and all(len(set(col)) == len(col) for col in sims.T))
    px, py = rnd.sample(range(len(x)), len(x)), rnd.sample(range(len(y)), len(y))
    shuffled = mined(x[px], y[py], k, "ratio", retrieval)
    np.testing.assert_allclose(np.sort(found.score), np.sort(shuffled.score), rtol=1e-5, atol=1e-5)


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(2, 8), st.integers(1, 4), st.randoms(use_true_random=False))
def test_pairs_are_the_same_pairs_whatever_the_order(seed, n, k, rnd):
    """With distinct vectors (Gaussian: no two alike) and no tied scores, 'max' retrieval finds the same pairs in
    any row order."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    y = (x[::-1] + 0.3 * rng.standard_normal((n, 4))).astype(np.float32)
    found = mined(x, y, k, "ratio", "max")
    order = np.array(rnd.sample(range(n), n))
    shuffled = mined(x[order], y, k, "ratio", "max")
    for result in (found, shuffled):
        assume(len(np.unique(np.round(result.score, 4))) == len(result.score))
    assert {(int(s), int(t)) for s, t in zip(found.src, found.trg)} == {
        (int(order[s]), int(t)) for s, t in zip(shuffled.src, shuffled.trg)
    }


def test_a_neighbourhood_at_or_below_zero_is_scored_against_the_floor():
    cosine = np.array([[0.9, -0.2]])
    scores = margin_scores(cosine, np.array([[0, 1]]), np.array([-0.3]), np.array([-0.1, 0.2]), "ratio")
    np.testing.assert_allclose(scores, [[0.9 / RATIO_FLOOR, -0.2 / RATIO_FLOOR]])


def mine_npy(folder, out, *options):
    """``rx mine`` of ``folder``'s x.npy against its y.npy into ``out``."""
    args = ["mine", "--src", folder / "x.npy", "--trg", folder / "y.npy", "--out", out, *options]
    return CliRunner().invoke(main, [str(arg) for arg in args])


def test_zero_rows_are_refused_naming_the_file_and_row(tmp_path):
    vectors = np.ones((4, 8), np.float32)
    vectors[2] = 0
    np.save(tmp_path / "x.npy", vectors)
    np.save(tmp_path / "y.npy", np.ones((4, 8), np.float32))
    result = mine_npy(tmp_path, tmp_path / "o.tsv")
    assert result.exit_code == 1
    assert "x.npy: row 2 is a zero vector" in result.output
    assert not (tmp_path / "o.tsv").exists()


def test_a_side_of_identical_vectors_centered_scores_zero_not_nan(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "x.npy", np.tile(rng.standard_normal((1, 16)).astype(np.float32), (5, 1)))
    np.save(tmp_path / "y.npy", rng.standard_normal((5, 16)).astype(np.float32))
    out = tmp_path / "pairs.tsv"
    result = mine_npy(tmp_path, out, "--center", "language")
    assert result.exit_code == 0, result.output
    scores = [float(line.split("\t")[0]) for line in out.read_text().splitlines()]
    assert scores and all(score == 0.0 for score in scores)
    sidecar = json.loads((tmp_path / "pairs.tsv.json").read_text())  # valid JSON
    assert sidecar["center"] == "language" and sidecar["score_scale"].startswith("centered margins")
    assert sidecar["ratio_floor"] == RATIO_FLOOR


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN"])
@pytest.mark.parametrize("option", ["--threshold", "--max-score", "--target-precision"])
def test_non_finite_floats_are_refused_before_anything_runs(tmp_path, option, value):
    np.save(tmp_path / "x.npy", np.eye(3, dtype=np.float32))
    out = tmp_path / "pairs.tsv"
    result = CliRunner().invoke(
        main, ["mine", "--src", str(tmp_path / "x.npy"), "--trg", str(tmp_path / "x.npy"), "--out", str(out)]
    )
    assert result.exit_code == 0  # the same command without the option runs
    out.unlink()
    result = CliRunner().invoke(
        main,
        ["mine", "--src", str(tmp_path / "x.npy"), "--trg", str(tmp_path / "x.npy"), "--out", str(out), option, value],
    )
    assert result.exit_code == 2 and "finite" in result.output and option in result.output
    assert not out.exists()


@pytest.mark.parametrize("value", ["0", "1.5", "-0.1"])
def test_target_precision_must_be_a_precision(tmp_path, value):
    result = CliRunner().invoke(
        main, ["mine", "--src", "a", "--trg", "b", "--out", str(tmp_path / "o"), "--target-precision", value]
    )
    assert result.exit_code == 2 and "--target-precision" in result.output


def test_rx_json_files_never_hold_nan(tmp_path):
    from retrieval_xfer.atomic import atomic_write_json

    with pytest.raises(RxError, match=r"out.json: scores.de.f1 is not a finite number; nothing written"):
        atomic_write_json(tmp_path / "out.json", {"scores": {"de": {"f1": float("nan")}}})
    assert not (tmp_path / "out.json").exists()
    atomic_write_json(tmp_path / "out.json", {"scores": [1.0, 2]})
    assert json.loads((tmp_path / "out.json").read_text()) == {"scores": [1.0, 2]}


PAIR_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)) | st.sampled_from("\t\n\r\\"), max_size=40)


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.floats(-20, 20, allow_nan=False),
            st.from_regex(r"[A-Za-z0-9,_-]{1,8}", fullmatch=True),
            st.from_regex(r"[A-Za-z0-9,_-]{1,8}", fullmatch=True),
            PAIR_TEXT,
            PAIR_TEXT,
        ),
        max_size=8,
    ),
    st.booleans(),
)
def test_the_pairs_file_round_trips_any_text(tmp_path_factory, rows, with_text):
    from retrieval_xfer.mining.pairs_file import PairRow, format_rows, read_pairs

    written = [PairRow(score, s, t, *((a, b) if with_text else ())) for score, s, t, a, b in rows]
    path = tmp_path_factory.mktemp("pairs") / "pairs.tsv"
    path.write_text(format_rows(written), encoding="utf-8", newline="\n")
    back = read_pairs(path)
    assert len(back) == len(written) == len(path.read_text(encoding="utf-8").split("\n")) - 1
    for got, row in zip(back, written):
        assert (got.src_id, got.trg_id, got.src, got.trg) == (row.src_id, row.trg_id, row.src, row.trg)
        assert abs(got.score - row.score) <= 5e-7


def test_rx_mine_writes_what_read_pairs_reads(tmp_path, tiny_model):
    from retrieval_xfer.mining.pairs_file import read_pairs

    src = tmp_path / "s.txt"
    src.write_bytes("der hund\tläuft\nback\\slash katze\nrote sonne\r\n".encode())
    result = CliRunner().invoke(
        main,
        ["mine", "--model", str(tiny_model), "--layer", "2", "--src", str(src), "--trg", str(src)]
        + ["--out", str(tmp_path / "p.tsv"), "--quiet"],
    )
    assert result.exit_code == 0, result.output
    rows = read_pairs(tmp_path / "p.tsv")
    assert {row.src for row in rows} <= {"der hund\tläuft", "back\\slash katze", "rote sonne"} and rows
    assert all(row.src == row.trg for row in rows)  # a side mined against itself pairs each line with itself
