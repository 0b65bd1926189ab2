"""--precision auto: bfloat16 where the hardware computes it natively, float32 elsewhere; the choice and its reason
are recorded in what each command writes; a bfloat16 encoder pools in float32 and gives float32's vectors within
bfloat16's rounding."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import WORDS
from helpers import write_lines

import retrieval_xfer.encoding.precision as precision_module
from retrieval_xfer.cli import main
from retrieval_xfer.encoding.loader import load_encoder
from retrieval_xfer.encoding.precision import choose_precision
from retrieval_xfer.machine import cpu_flags

ZEN4 = frozenset({"avx2", "avx512f", "avx512_bf16", "avx512_vnni"})
SAPPHIRE_RAPIDS = frozenset({"avx2", "avx512f", "amx_tile", "amx_bf16", "amx_int8"})
AVX2_ONLY = frozenset({"avx2", "fma"})


@pytest.mark.parametrize(
    "device, flags, name, reason",
    [
        ("cpu", ZEN4, "bfloat16", "auto: the CPU has avx512_bf16"),
        ("cpu", SAPPHIRE_RAPIDS, "bfloat16", "auto: the CPU has amx_bf16"),
        ("cpu", AVX2_ONLY, "float32", "auto: the CPU has no native bfloat16 (avx512_bf16 or amx_bf16)"),
        ("cpu", frozenset(), "float32", "auto: the CPU has no native bfloat16 (avx512_bf16 or amx_bf16)"),
        ("cuda", AVX2_ONLY, "bfloat16", "auto: a GPU"),
        ("cuda:1", frozenset(), "bfloat16", "auto: a GPU"),
        ("mps", ZEN4, "float32", "auto: mps"),
    ],
)
def test_auto_chooses_by_device_and_cpu_flags(device, flags, name, reason):
    choice = choose_precision("auto", device, flags)
    assert (choice.name, choice.reason) == (name, reason)


def test_an_explicit_precision_is_kept_and_emulated_bfloat16_is_warned_of(caplog):
    with caplog.at_level(logging.WARNING, logger="retrieval_xfer"):
        assert choose_precision("bfloat16", "cpu", AVX2_ONLY).name == "bfloat16"
    assert "torch emulates it, which is slower than float32" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="retrieval_xfer"):
        assert choose_precision("bfloat16", "cpu", ZEN4).name == "bfloat16"
        assert choose_precision("float32", "cpu", ZEN4).name == "float32"
    assert caplog.text == ""


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2 avx512_bf16\n\nprocessor\t: 1\n")
    assert cpu_flags(cpuinfo) == {"fpu", "avx2", "avx512_bf16"}
    assert cpu_flags(tmp_path / "absent") == frozenset()  # not Linux: nothing known, auto keeps float32


def test_bfloat16_vectors_equal_float32_within_rounding_and_pool_in_float32(tiny_model):
    sentences = [" ".join(WORDS[i : i + 6]) for i in range(0, 60, 3)]
    full = load_encoder(str(tiny_model), 2, precision="float32", show_progress=False)
    half = load_encoder(str(tiny_model), 2, precision="bfloat16", show_progress=False)
    x, y = full.encode(sentences), half.encode(sentences)
    assert y.dtype == np.float32 and np.allclose(np.linalg.norm(y, axis=1), 1.0, atol=1e-6)
    cosines = (x * y).sum(axis=1)
    assert cosines.min() > 0.995, cosines.min()  # bfloat16 keeps 8 bits of mantissa: ~0.4 % per value
    assert (full.spec.precision, half.spec.precision) == ("float32", "bfloat16")
    features = half.model.preprocess(sentences[:2])
    assert half.model[0](features)["token_embeddings"].dtype.is_floating_point
    out = half.model(features)
    assert out["token_embeddings"].dtype == out["sentence_embedding"].dtype == __import__("torch").float32


def test_the_choice_and_its_reason_are_recorded_in_exports_and_indexes(tiny_model, tmp_path, monkeypatch):
    monkeypatch.setattr(precision_module, "cpu_flags", lambda: AVX2_ONLY)  # as on a CPU without bf16
    corpus = write_lines(tmp_path / "corpus.txt", [" ".join(WORDS[i : i + 5]) for i in range(40)])
    runner = CliRunner()
    common = ["--model", str(tiny_model), "--layer", "2", "--precision", "auto", "--device", "cpu"]
    exported = runner.invoke(main, ["export", *common, "--input", str(corpus), "--out", str(tmp_path / "export")])
    assert exported.exit_code == 0, exported.output
    manifest = json.loads((tmp_path / "export" / "manifest.json").read_text())
    assert manifest["encoder"]["precision"] == "float32"
    assert manifest["encoder"]["precision_reason"].startswith("auto: the CPU has no native bfloat16")
    monkeypatch.setattr(precision_module, "cpu_flags", lambda: ZEN4)
    built = runner.invoke(main, ["build-index", *common, "--input", str(corpus), "--out", str(tmp_path / "index")])
    assert built.exit_code == 0, built.output
    meta = json.loads((tmp_path / "index" / "meta.json").read_text())
    assert (meta["encoder"]["precision"], meta["encoder"]["precision_reason"]) == (
        "bfloat16",
        "auto: the CPU has avx512_bf16",
    )
    # vectors of both precisions come from one encoder: a float32 query searches the bfloat16 index
    found = runner.invoke(main, ["search", str(tmp_path / "index"), "--model", str(tiny_model), WORDS[0], "-k", "1"])
    assert found.exit_code == 0 and "query:" in found.output, found.output
