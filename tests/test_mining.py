"""Margin mining against brute-force numpy, the four retrieval rules on hand-made cases, threshold and F1."""

import numpy as np
import pytest

from retrieval_xfer.errors import RxError
from retrieval_xfer.mining.candidates import mine_candidates
from retrieval_xfer.mining.knn import knn
from retrieval_xfer.mining.margin import MARGINS, margin_scores
from retrieval_xfer.mining.options import MARGIN_NAMES, MiningOptions
from retrieval_xfer.mining.threshold import best_threshold, precision_recall_f1


def unit_rows(n, d=16, seed=0):
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def brute_force(x, y, k, margin):
    """Margin score of every (i, j) pair from the full similarity matrix, written without the library."""
    sim = x @ y.T
    x_mean = np.sort(sim, axis=1)[:, ::-1][:, :k].mean(1)
    y_mean = np.sort(sim.T, axis=1)[:, ::-1][:, :k].mean(1)
    avg = (x_mean[:, None] + y_mean[None, :]) / 2
    return {"ratio": sim / avg, "distance": sim - avg, "absolute": sim}[margin]


def test_knn_matches_numpy(monkeypatch):
    import importlib

    monkeypatch.setattr(
        importlib.import_module("retrieval_xfer.mining.knn"), "_DEFAULT_BLOCK_ROWS", 7
    )  # several blocks, the last one partial
    x, y = unit_rows(30), unit_rows(40, seed=1)
    sims, rows = knn(x, y, 4)
    expected = np.argsort(-(x @ y.T), axis=1)[:, :4]
    np.testing.assert_array_equal(rows, expected)
    np.testing.assert_allclose(sims, np.take_along_axis(x @ y.T, expected, 1), atol=1e-5)
    assert knn(x, y[:2], 4)[1].shape == (30, 2)  # k capped at the database size


@pytest.mark.parametrize("margin", ["ratio", "distance", "absolute"])
def test_margin_scores_match_brute_force(margin):
    x, y, k = unit_rows(50), unit_rows(60, seed=1), 4
    x_sim, x_nn = knn(x, y, k)
    y_sim, _ = knn(y, x, k)
    ours = margin_scores(x_sim, x_nn, x_sim.mean(1), y_sim.mean(1), margin)
    full = brute_force(x, y, k, margin)
    np.testing.assert_allclose(ours, np.take_along_axis(full, x_nn, 1), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("margin", ["ratio", "distance"])
def test_fwd_and_bwd_pick_the_best_margin_among_neighbours(margin):
    x, y, k = unit_rows(40), unit_rows(50, seed=1), 4
    full = brute_force(x, y, k, margin)
    sim = x @ y.T
    nn_x = np.argsort(-sim, axis=1)[:, :k]
    nn_y = np.argsort(-sim.T, axis=1)[:, :k]
    fwd = mine_candidates(x, y, k, margin, "fwd")
    expect_fwd = {(i, int(nn_x[i][np.argmax(full[i, nn_x[i]])])) for i in range(len(x))}
    assert set(zip(fwd.src.tolist(), fwd.trg.tolist())) == expect_fwd
    bwd = mine_candidates(x, y, k, margin, "bwd")
    expect_bwd = {(int(nn_y[j][np.argmax(full[nn_y[j], j])]), j) for j in range(len(y))}
    assert set(zip(bwd.src.tolist(), bwd.trg.tolist())) == expect_bwd
    assert np.all(np.diff(fwd.score) <= 0)  # best first


def hand_made():
    """x0 = y0 and x2 = y2 exactly; x1 leans to y0 (cos 0.8) and only faintly to y1 (cos 0.06).

    fwd: x1 -> y0. bwd: y1 -> x1, y0 -> x0. So the rules disagree on sentence 1.
    """
    e = np.eye(4, dtype=np.float32)
    x = np.stack([e[0], 0.8 * e[0] + 0.6 * e[1], e[2]])
    y = np.stack([e[0], 0.1 * e[1] + np.sqrt(0.99) * e[3], e[2]])
    return x, y


def pairs(candidates):
    return set(zip(candidates.src.tolist(), candidates.trg.tolist()))


def test_retrieval_rules_on_a_hand_made_case():
    x, y = hand_made()
    assert pairs(mine_candidates(x, y, 2, "absolute", "fwd")) == {(0, 0), (1, 0), (2, 2)}
    assert pairs(mine_candidates(x, y, 2, "absolute", "bwd")) == {(0, 0), (1, 1), (2, 2)}
    assert pairs(mine_candidates(x, y, 2, "absolute", "intersect")) == {(0, 0), (2, 2)}
    # max: (0,0) and (2,2) score 1.0 and come first; (1,0) at 0.8 loses because y0 is taken; (1,1) at 0.06 stays
    mined = mine_candidates(x, y, 2, "absolute", "max")
    assert pairs(mined) == {(0, 0), (1, 1), (2, 2)}
    assert mined.score.tolist() == pytest.approx([1.0, 1.0, 0.06], abs=1e-5)


def test_precision_recall_f1_by_hand():
    gold = {("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")}
    prf = precision_recall_f1({("a", "1"), ("b", "2"), ("x", "9")}, gold)
    assert prf.precision == pytest.approx(200 / 3) and prf.recall == pytest.approx(50.0)
    assert prf.f1 == pytest.approx(100 * 2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert precision_recall_f1({("x", "9")}, gold).f1 == 0.0


def test_best_threshold_is_midpoint_after_the_best_f1_candidate():
    scored = {("a", "1"): 0.9, ("b", "2"): 0.8, ("c", "3"): 0.7, ("d", "4"): 0.6}
    gold = {("a", "1"), ("c", "3")}
    # F1 after each candidate: 0.667, 0.5, 0.8 (best), 0.667 -> midpoint of 0.7 and 0.6
    assert best_threshold(scored, gold) == pytest.approx(0.65)
    assert best_threshold({("a", "1"): 0.9}, {("a", "1")}) == pytest.approx(0.9)  # best is the last candidate
    assert best_threshold({("x", "9"): 0.9}, {("a", "1")}) == float("inf")


def test_unknown_margin_or_retrieval_is_an_rx_error():
    assert MARGIN_NAMES == tuple(MARGINS)  # the option's choices are the functions that exist
    defaults = {"k": 4, "margin": "ratio", "retrieval": "max"}
    assert MiningOptions(k=2).resolved(defaults) == MiningOptions(k=2, margin="ratio", retrieval="max")
    with pytest.raises(RxError, match="--margin 'cosine': choose one of ratio, distance, absolute"):
        MiningOptions(margin="cosine")
    with pytest.raises(RxError, match="unknown retrieval 'both'"):
        MiningOptions().resolved({**defaults, "retrieval": "both"})
    x = np.eye(3, dtype=np.float32)
    with pytest.raises(RxError, match="unknown retrieval 'both'"):
        mine_candidates(x, x, 2, "ratio", "both")
    with pytest.raises(RxError, match="unknown margin 'cos'"):
        mine_candidates(x, x, 2, "cos", "max")
