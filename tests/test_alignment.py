"""Alignment diagnostics on constructed geometries whose answers are known."""

import numpy as np
import pytest

from retrieval_xfer.errors import RxError
from retrieval_xfer.evaluation.alignment import alignment, center, hubness, language_id_accuracy, uniformity
from retrieval_xfer.evaluation.tatoeba import tatoeba_accuracy
from retrieval_xfer.mining.options import MiningOptions


def unit(a):
    return (a / np.linalg.norm(a, axis=1, keepdims=True)).astype(np.float32)


def meanings(n=200, d=32, seed=0):
    return np.random.default_rng(seed).standard_normal((n, d))


def test_a_constant_offset_is_undone_by_centering_and_found_by_the_probe():
    base = meanings()
    rng = np.random.default_rng(7)  # each "language" is the same meanings shifted by its own constant vector
    english, other = unit(base + 4.0 * rng.standard_normal(32)), unit(base + 4.0 * rng.standard_normal(32))
    raw = tatoeba_accuracy(other, english)
    centered = tatoeba_accuracy(center(other), center(english))
    assert max(raw) < 20 and centered == (100.0, 100.0)  # the shift hides the pairs; removing it recovers them all
    accuracy, per_language = language_id_accuracy({"en": english, "xx": other})
    assert accuracy == pytest.approx(100.0) and per_language == {"en": 100.0, "xx": 100.0}


def test_a_perfectly_aligned_pair_has_alignment_one_and_a_probe_at_chance():
    vectors = unit(meanings(400))
    assert alignment(vectors, vectors) == pytest.approx(1.0)
    # the "two languages" are random halves of one distribution: nothing tells them apart
    accuracy, _ = language_id_accuracy({"a": vectors[:200], "b": vectors[200:]})
    assert 35 <= accuracy <= 65  # chance is 50; 400 examples put 95 % of chance outcomes within about ±10


def test_uniformity_matches_its_definition_and_orders_spread():
    vectors = unit(meanings(60, d=8, seed=3))
    pairs = [np.exp(-2 * np.sum((vectors[i] - vectors[j]) ** 2)) for i in range(60) for j in range(i + 1, 60)]
    assert uniformity(vectors) == pytest.approx(np.log(np.mean(pairs)), rel=1e-5)
    collapsed = unit(np.ones((60, 8)) + 0.01 * meanings(60, d=8))
    assert uniformity(collapsed) > uniformity(vectors)  # crowded vectors have a higher (worse) uniformity


def test_a_planted_hub_gives_high_hubness():
    common = meanings(1, seed=9)
    queries, database = unit(meanings(300, seed=1) + 1.5 * common), unit(meanings(300, seed=2))
    plain = hubness(unit(meanings(300, seed=1)), database, k=10)  # random queries: no hub to speak of
    hub_database = database.copy()
    hub_database[0] = unit(common)[0]  # the direction every query leans towards: among everyone's neighbours
    counts_skew = hubness(queries, hub_database, k=10)
    assert plain < 1 and counts_skew > 5
    # independent skewness of N_10 by brute force
    sims = unit(queries) @ hub_database.T
    top = np.argsort(-sims, axis=1)[:, :10]
    counts = np.bincount(top.ravel(), minlength=300).astype(float)
    expected = ((counts - counts.mean()) ** 3).mean() / counts.std() ** 3
    assert counts_skew == pytest.approx(expected, rel=1e-6)


def test_probe_needs_two_languages_and_enough_sentences():
    with pytest.raises(RxError, match="at least two languages"):
        language_id_accuracy({"de": unit(meanings(50))})
    with pytest.raises(RxError, match="sw: 5 sentences; the probe needs at least 20"):
        language_id_accuracy({"de": unit(meanings(50)), "sw": unit(meanings(5))})


def test_rx_diagnose_on_a_tiny_model(tiny_model, tmp_path):
    import json

    from click.testing import CliRunner
    from conftest import WORDS
    from helpers import write_tatoeba

    from retrieval_xfer.cli import main

    sentences = [" ".join(WORDS[(i * 5 + j) % len(WORDS)] for j in range(2 + i % 5)) for i in range(40)]
    folder = write_tatoeba(tmp_path / "t", sentences, [s.upper() for s in sentences])
    write_tatoeba(folder, sentences[::-1], [s.upper() for s in sentences[::-1]], code="fra")
    write_tatoeba(folder, sentences[:10], sentences[:10], code="swh")  # too few pairs for the probe: skipped
    out = tmp_path / "d.json"
    result = CliRunner().invoke(
        main,
        [
            "diagnose",
            "--model",
            str(tiny_model),
            "--precision",
            "float32",  # compared below with vectors computed in float32
            "--data-dir",
            str(folder),
            "--langs",
            "de,fr,sw",
            "--layers",
            "1,2",
            "--quiet",
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(out.read_text())
    assert payload["languages"] == ["de", "fr"] and "sw" in payload["skipped_languages"]
    layer2 = payload["layers"]["2"]["languages"]["de"]
    # independent: the same numbers from the encoder's own vectors
    from retrieval_xfer.encoding.loader import load_encoder

    encoder = load_encoder(str(tiny_model), 2, show_progress=False)
    de, en = encoder.encode(sentences), encoder.encode([s.upper() for s in sentences])
    assert layer2["en2xx"] == pytest.approx(tatoeba_accuracy(de, en)[0])
    assert layer2["en2xx_centered"] == pytest.approx(tatoeba_accuracy(center(de), center(en))[0])
    assert layer2["alignment"] == pytest.approx(alignment(de, en), abs=1e-5)
    assert payload["layers"]["2"]["averages"]["lid_chance"] == pytest.approx(100 / 3)
    one = CliRunner().invoke(main, ["diagnose", "--model", str(tiny_model), "--data-dir", str(folder), "--langs", "de"])
    assert one.exit_code == 1 and "needs at least two languages" in one.output


def test_center_option_scores_its_own_columns(tiny_model, tmp_path):
    import json

    from click.testing import CliRunner
    from conftest import WORDS
    from helpers import write_tatoeba

    from retrieval_xfer.cli import main
    from retrieval_xfer.encoding.loader import load_encoder

    sentences = [" ".join(WORDS[(i * 3 + j) % len(WORDS)] for j in range(2 + i % 4)) for i in range(30)]
    folder = write_tatoeba(tmp_path / "t", sentences, [s.upper() + " sky" for s in sentences])
    out = tmp_path / "c.json"
    result = CliRunner().invoke(
        main,
        [
            "eval",
            "tatoeba",
            "--model",
            str(tiny_model),
            "--precision",
            "float32",  # compared below with vectors computed in float32
            "--layer",
            "2",
            "--data-dir",
            str(folder),
            "--langs",
            "de",
            "--center",
            "language",
            "--quiet",
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "en->xx centered" in result.output
    score = json.loads(out.read_text())["scores"]["de"]
    encoder = load_encoder(str(tiny_model), 2, show_progress=False)
    de, en = encoder.encode(sentences), encoder.encode([s.upper() + " sky" for s in sentences])
    assert (score["en2xx"], score["xx2en"]) == pytest.approx(tatoeba_accuracy(de, en))  # raw stays raw
    assert (score["centered"]["en2xx"], score["centered"]["xx2en"]) == pytest.approx(
        tatoeba_accuracy(center(de), center(en))
    )


def test_mining_with_centering_undoes_a_per_side_offset(tmp_path):
    import json

    from retrieval_xfer.workflows.mine import MineJob, mine

    base = meanings(300, d=32, seed=4)
    rng = np.random.default_rng(5)
    np.save(tmp_path / "x.npy", unit(base + 4.0 * rng.standard_normal(32)))
    np.save(tmp_path / "y.npy", unit(base + 4.0 * rng.standard_normal(32)))

    def correct(name):
        rows = [line.split("\t") for line in (tmp_path / name).read_text().splitlines()]
        return sum(r[1] == r[2] for r in rows)

    mine(MineJob(tmp_path / "x.npy", tmp_path / "y.npy", tmp_path / "raw.tsv"), quiet=True)
    mine(
        MineJob(tmp_path / "x.npy", tmp_path / "y.npy", tmp_path / "centered.tsv", MiningOptions(center="language")),
        quiet=True,
    )
    assert correct("centered.tsv") == 300 and correct("raw.tsv") < 150
    assert json.loads((tmp_path / "centered.tsv.json").read_text())["center"] == "language"
