"""Layer sweeps: one forward pass gives every layer's vectors exactly as a single-layer encoder would, and the
swept Tatoeba/BUCC results equal separate runs per layer."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import WORDS
from helpers import write_lines, write_tatoeba

from retrieval_xfer.cli import main
from retrieval_xfer.data.cards import load_card
from retrieval_xfer.encoding.layer_sweep import parse_layers
from retrieval_xfer.encoding.loader import load_encoder, load_layer_sweep
from retrieval_xfer.errors import RxError
from retrieval_xfer.evaluation.bucc import evaluate_bucc
from retrieval_xfer.evaluation.tatoeba import evaluate_tatoeba

SENTENCES = [" ".join(WORDS[i : i + 2 + i % 5]) for i in range(0, 60, 3)]


def test_parse_layers():
    assert parse_layers("all", 4) == [0, 1, 2, 3, 4]
    assert parse_layers("3,1,-1,1", 4) == [1, 3, 4]
    with pytest.raises(RxError, match="layer 5 is out of range"):
        parse_layers("5", 4)
    with pytest.raises(RxError, match="expected 'all'"):
        parse_layers("x", 4)


@pytest.mark.parametrize("skip_special", [False, True])
def test_sweep_vectors_equal_single_layer_encoders(tiny_model, skip_special):
    sweep = load_layer_sweep(
        str(tiny_model), "all", pool_skip_special=skip_special, batch_size=3, show_progress=False, prompt="query: "
    )
    vectors = sweep.encode_layers(SENTENCES)
    assert sorted(vectors) == [0, 1, 2, 3, 4]
    for layer, swept in vectors.items():
        single = load_encoder(
            str(tiny_model), layer, pool_skip_special=skip_special, show_progress=False, prompt="query: "
        ).encode(SENTENCES)
        np.testing.assert_allclose(swept, single, atol=2e-6)
    assert not np.allclose(vectors[1], vectors[4])


def tatoeba_folder(folder):
    return write_tatoeba(folder, SENTENCES[:12], [s.upper() + " sky" for s in SENTENCES[:12]])


def test_tatoeba_sweep_equals_runs_per_layer(tiny_model, tmp_path):
    from retrieval_xfer.data.tatoeba import resolve_languages

    card = load_card("tatoeba")
    langs = resolve_languages("de", card)
    folder = tatoeba_folder(tmp_path)
    swept = evaluate_tatoeba(load_layer_sweep(str(tiny_model), "1,2,4", show_progress=False), langs, card, folder)
    sweep = swept["layer_sweep"]
    assert sweep["main_layer"] == 4 and sorted(sweep["layers"]) == ["1", "2", "4"]  # default layer of 4 is 4
    for layer in (1, 2, 4):
        single = evaluate_tatoeba(load_encoder(str(tiny_model), layer, show_progress=False), langs, card, folder)
        assert sweep["layers"][str(layer)]["scores"]["de"]["en2xx"] == single["scores"]["de"]["en2xx"]
        without_interval = {k: v for k, v in single["averages"].items() if k != "ci95"}  # the main layer's only
        assert sweep["layers"][str(layer)]["averages"] == without_interval
    assert swept["scores"] == sweep["layers"]["4"]["scores"] and swept["layer"] == 4


def test_bucc_sweep_equals_runs_per_layer(tiny_model, tmp_path):
    zh = [f"zh-{i:03d}\t{s}" for i, s in enumerate(SENTENCES)]
    en = [f"en-{i:03d}\t{s} sun" for i, s in enumerate(SENTENCES[:10])] + [
        f"en-{i:03d}\tmoon {s}" for i, s in enumerate(SENTENCES[10:], 10)
    ]
    write_lines(tmp_path / "zh-en.dev.zh", zh)
    write_lines(tmp_path / "zh-en.dev.en", en)
    write_lines(tmp_path / "zh-en.dev.gold", [f"zh-{i:03d}\ten-{i:03d}" for i in range(10)])
    swept = evaluate_bucc(load_layer_sweep(str(tiny_model), "2,3", show_progress=False), ["zh-en"], tmp_path)
    for layer in (2, 3):
        single = evaluate_bucc(load_encoder(str(tiny_model), layer, show_progress=False), ["zh-en"], tmp_path)
        assert swept["layer_sweep"]["layers"][str(layer)]["scores"]["zh-en"]["f1"] == pytest.approx(
            single["scores"]["zh-en"]["f1"]
        )
        assert swept["layer_sweep"]["layers"][str(layer)]["scores"]["zh-en"]["threshold"] == pytest.approx(
            single["scores"]["zh-en"]["threshold"], abs=1e-5
        )


def test_cli_layers(tiny_model, tmp_path):
    folder = tatoeba_folder(tmp_path / "data")
    runner = CliRunner()
    out = tmp_path / "sweep.json"
    result = runner.invoke(
        main,
        [
            "eval",
            "tatoeba",
            "--model",
            str(tiny_model),
            "--data-dir",
            str(folder),
            "--langs",
            "de",
            "--layers",
            "all",
            "--quiet",
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "average en2xx" in result.output
    assert sorted(json.loads(out.read_text())["layer_sweep"]["layers"], key=int) == ["0", "1", "2", "3", "4"]
    both = runner.invoke(
        main,
        [
            "eval",
            "tatoeba",
            "--model",
            str(tiny_model),
            "--data-dir",
            str(folder),
            "--langs",
            "de",
            "--layers",
            "all",
            "--layer",
            "2",
            "--quiet",
            "--output",
            str(tmp_path / "headline.json"),
        ],
    )
    assert both.exit_code == 0, both.output  # --layer with --layers chooses the headline layer of the sweep
    headline = json.loads((tmp_path / "headline.json").read_text())
    assert headline["layer_sweep"]["main_layer"] == headline["layer"] == 2
    assert headline["scores"] == headline["layer_sweep"]["layers"]["2"]["scores"]
    outside = runner.invoke(
        main,
        [
            "eval",
            "tatoeba",
            "--model",
            str(tiny_model),
            "--data-dir",
            str(folder),
            "--langs",
            "de",
            "--layers",
            "1,3",
            "--layer",
            "2",
        ],
    )
    assert outside.exit_code == 1 and "not among --layers 1,3" in outside.output
    for side in ("zh", "en"):  # a BUCC sample, so that the layer is what is wrong (data are read first)
        write_lines(folder / f"zh-en.dev.{side}", [f"{side}-{i}\t{WORDS[i]} {WORDS[i + 1]}" for i in range(4)])
    write_lines(folder / "zh-en.dev.gold", [f"zh-{i}\ten-{i}" for i in range(4)])
    bad = runner.invoke(
        main,
        ["eval", "bucc", "--model", str(tiny_model), "--data-dir", str(folder), "--pairs", "zh-en", "--layers", "9"],
    )
    assert bad.exit_code == 1 and "layer 9 is out of range" in bad.output


def test_sweep_headline_is_the_layer_the_command_uses_without_a_sweep(tiny_st_model, tmp_path):
    """A sentence-transformers folder without --layer uses its own pipeline (the last layer): so must a sweep."""
    folder = tatoeba_folder(tmp_path / "data")
    runner = CliRunner()
    common = ["eval", "tatoeba", "--model", str(tiny_st_model), "--data-dir", str(folder), "--langs", "de", "--quiet"]
    plain = runner.invoke(main, [*common, "--output", str(tmp_path / "plain.json")])
    swept = runner.invoke(main, [*common, "--layers", "all", "--output", str(tmp_path / "swept.json")])
    assert plain.exit_code == 0 and swept.exit_code == 0, swept.output
    plain_result, swept_result = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("plain", "swept"))
    assert swept_result["layer_sweep"]["main_layer"] == swept_result["layer"] == plain_result["layer"] == 4
    assert swept_result["scores"]["de"]["en2xx"] == pytest.approx(plain_result["scores"]["de"]["en2xx"])
