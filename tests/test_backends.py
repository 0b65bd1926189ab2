"""The onnx and openvino backends: same vectors as torch at float32, int8 close, cache reuse and repair, provenance."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import WORDS

from retrieval_xfer.encoding.options import EncoderOptions
from retrieval_xfer.errors import RxError
from retrieval_xfer.specs import check_compatible

pytest.importorskip("onnxruntime", reason="the 'onnx' extra is not installed (make test installs it)")
pytest.importorskip("openvino", reason="the 'openvino' extra is not installed (make test installs it)")
pytest.importorskip("nncf", reason="nncf (int8, in both extras) is not installed")

SENTENCES = [" ".join(WORDS[(i * 7 + j * 3) % len(WORDS)] for j in range(3 + i % 9)) for i in range(120)]


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("backend_cache")


@pytest.fixture(scope="module")
def calibration(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("calib") / "calibration.txt"
    path.write_text("\n".join(SENTENCES[::-1]) + "\n", encoding="utf-8")
    return path


def encode(options: EncoderOptions, corpus=None) -> tuple[np.ndarray, object]:
    encoder = options.load(corpus=corpus)
    return encoder.encode(SENTENCES), encoder.spec


@pytest.mark.parametrize("backend", ["onnx", "openvino"])
@pytest.mark.parametrize("skip_special", [False, True])
def test_float32_backends_give_torchs_vectors(tiny_model, cache, backend, skip_special):
    base = EncoderOptions(model=str(tiny_model), layer=2, pool_skip_special=skip_special, quiet=True)
    reference, torch_spec = encode(base)
    vectors, spec = encode(EncoderOptions(**{**base.__dict__, "backend": backend, "backend_cache": str(cache)}))
    cosines = (reference * vectors).sum(1)
    assert cosines.min() >= 0.9999
    assert (spec.backend, spec.quantization, spec.weights_sha256) == (backend, "none", torch_spec.weights_sha256)
    assert len(spec.runtime_sha256) == 64
    check_compatible(torch_spec, spec, "index")  # float32 backends mix with torch
    check_compatible(spec, torch_spec, "index")


def test_int8_is_close_to_float32_and_records_its_calibration(tiny_model, cache, calibration):
    base = EncoderOptions(model=str(tiny_model), layer=2, quiet=True)
    reference, torch_spec = encode(base)
    vectors, spec = encode(
        EncoderOptions(
            model=str(tiny_model),
            layer=2,
            quiet=True,
            backend="openvino",
            quantize="int8",
            calibration_file=str(calibration),
            backend_cache=str(cache),
        )
    )
    cosines = (reference * vectors).sum(1)
    assert cosines.mean() >= 0.95 and not np.allclose(reference, vectors, atol=1e-5)  # quantised, yet close
    assert spec.quantization == "int8" and "120 sentences of" in spec.calibration
    with pytest.raises(RxError, match="quantization differs: index built with 'int8', query encoder has 'none'"):
        check_compatible(spec, torch_spec, "index")
    other = spec.__class__(**{**spec.to_dict(), "runtime_sha256": "0" * 64})
    with pytest.raises(RxError, match="another int8 model"):
        check_compatible(spec, other, "index")


def test_int8_keeps_the_feed_forward_output_projections_in_float(tiny_model, tmp_path):
    """The onnx int8 graph: exactly one weight MatMul per layer keeps a float weight and float activations, and its
    weight is shaped as that layer's FFN output projection (intermediate × hidden, from the model's config); every
    other weight MatMul reads dequantised int8 activations and weights."""
    import onnx
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(tiny_model)
    options = EncoderOptions(
        model=str(tiny_model), layer=2, quiet=True, backend="onnx", quantize="int8", backend_cache=str(tmp_path)
    )
    options.load(corpus=SENTENCES)
    entry = next(
        p
        for p in tmp_path.iterdir()
        if (p / "manifest.json").is_file() and json.loads((p / "manifest.json").read_text())["quantization"] == "int8"
    )
    graph = onnx.load(str(entry / "model.onnx")).graph
    producer = {out: node.op_type for node in graph.node for out in node.output}
    weights = {t.name: list(t.dims) for t in graph.initializer}
    matmuls = [n for n in graph.node if n.op_type == "MatMul"]
    float_weight = [n for n in matmuls if n.input[1] in weights]
    assert len(float_weight) == 2  # layers 1..2
    assert all(weights[n.input[1]] == [config.intermediate_size, config.hidden_size] for n in float_weight)
    assert all(producer.get(n.input[0]) != "DequantizeLinear" for n in float_weight)
    quantised = [n for n in matmuls if producer.get(n.input[0]) == producer.get(n.input[1]) == "DequantizeLinear"]
    assert len(quantised) >= 2 * 5  # q, k, v, attention output, FFN input projection of each layer
    manifest = json.loads((entry / "manifest.json").read_text())
    assert sorted(manifest["float_matmuls"]) == sorted(n.name for n in float_weight)


def test_int8_calibrates_on_a_sample_of_the_corpus_or_says_what_is_missing(tiny_model, tmp_path, monkeypatch):
    import shutil

    from retrieval_xfer.encoding import backend_encoder

    options = EncoderOptions(
        model=str(tiny_model), layer=1, quiet=True, backend="onnx", quantize="int8", backend_cache=str(tmp_path)
    )
    with pytest.raises(RxError, match="no cached int8 model for this encoder; pass --calibration-file"):
        options.load()
    with pytest.raises(RxError, match="needs at least 50 sentences and this input has 10"):
        options.load(corpus=SENTENCES[:10])
    _, spec = encode(options, corpus=SENTENCES)
    assert "120 sentences of a corpus sample" in spec.calibration
    for manifest in tmp_path.glob("*/manifest.json"):  # the float32 export is not needed to run the cached int8
        if json.loads(manifest.read_text())["quantization"] == "none":
            shutil.rmtree(manifest.parent)
    monkeypatch.setattr(backend_encoder, "export_onnx", lambda *a: pytest.fail("exported again"))
    assert encode(options)[1].runtime_sha256 == spec.runtime_sha256  # cached: no corpus needed the second time


def test_the_cache_is_reused_and_a_corrupt_entry_rebuilt(tiny_model, tmp_path, monkeypatch, rx_log):
    from retrieval_xfer.encoding import backend_encoder

    options = EncoderOptions(model=str(tiny_model), layer=3, quiet=True, backend="onnx", backend_cache=str(tmp_path))
    first, spec = encode(options)
    entries = [p for p in tmp_path.iterdir() if (p / "manifest.json").is_file()]
    assert len(entries) == 1 and json.loads((entries[0] / "manifest.json").read_text())["layer"] == 3

    def no_export(*args, **kwargs):
        raise AssertionError("exported again although cached")

    real_export = backend_encoder.export_onnx
    monkeypatch.setattr(backend_encoder, "export_onnx", no_export)
    assert np.array_equal(encode(options)[0], first)
    data = entries[0] / "model.onnx.data"
    data.write_bytes(data.read_bytes()[:-4] + b"\0\0\0\0")  # damage the weights
    monkeypatch.setattr(backend_encoder, "export_onnx", real_export)
    encoder = options.load()
    assert any("do not match their recorded SHA-256" in line and "rebuilding" in line for line in rx_log())
    assert np.array_equal(encoder.encode(SENTENCES), first) and encoder.spec.runtime_sha256 == spec.runtime_sha256


def test_a_cached_model_loads_without_torch_until_the_model_folder_changes(tiny_model, tmp_path, monkeypatch):
    """The second load goes through the source shortcut: torch is not loaded, vectors and spec are the first's.
    A changed model folder, or a damaged shortcut, sends it back through torch (which then rewrites it)."""
    import shutil

    from retrieval_xfer.encoding import backend_encoder

    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    options = EncoderOptions(
        model=str(model),
        layer=2,
        prompt="q: ",
        quiet=True,
        backend="openvino",
        quantize="int8",
        calibration_file=None,
        backend_cache=str(tmp_path / "cache"),
    )
    first, spec = encode(options, corpus=SENTENCES)
    real_load = backend_encoder.load_encoder

    def no_torch(*args, **kwargs):
        raise AssertionError("torch loaded although the shortcut is sound")

    monkeypatch.setattr(backend_encoder, "load_encoder", no_torch)
    again, again_spec = encode(options)
    assert np.array_equal(again, first) and again_spec == spec
    shortcuts = list((tmp_path / "cache" / "sources").iterdir())
    assert len(shortcuts) == 1
    tokenizer_file = shortcuts[0] / "tokenizer" / "tokenizer.json"
    tokenizer_file.write_text(tokenizer_file.read_text() + " ")  # a damaged shortcut is not trusted
    with pytest.raises(AssertionError, match="torch loaded"):
        options.load()
    monkeypatch.setattr(backend_encoder, "load_encoder", real_load)
    assert np.array_equal(encode(options)[0], first)  # through torch, to the same cached int8 model
    monkeypatch.setattr(backend_encoder, "load_encoder", no_torch)
    assert np.array_equal(encode(options)[0], first)  # the shortcut was written again
    (model / "notes.txt").write_text("a file added to the model folder")
    with pytest.raises(AssertionError, match="torch loaded"):
        options.load()


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "calibration file has no sentences"),
        (b"one\ntwo\n", "has 2 sentences; int8 calibration needs at least 50"),
        (b"ok\n\xff\xfe bad\n", "calibration.txt:2: calibration file is not valid UTF-8"),
    ],
)
def test_bad_calibration_files(tiny_model, tmp_path, content, message):
    path = tmp_path / "calibration.txt"
    path.write_bytes(content)
    options = EncoderOptions(
        model=str(tiny_model),
        layer=1,
        backend="openvino",
        quantize="int8",
        calibration_file=str(path),
        backend_cache=str(tmp_path / "cache"),
    )
    with pytest.raises(RxError, match=message):
        options.load()


def test_settings_that_do_not_go_together_and_a_missing_extra(tiny_model, tiny_st_model, monkeypatch, tmp_path):
    with pytest.raises(RxError, match="need --backend onnx or openvino"):
        EncoderOptions(model=str(tiny_model), quantize="int8").load()
    with pytest.raises(RxError, match="--precision bfloat16 is for --backend torch"):
        EncoderOptions(model=str(tiny_model), backend="onnx", precision="bfloat16").load()
    with pytest.raises(RxError, match="--layers pools every layer from one torch forward"):
        EncoderOptions(model=str(tiny_model), backend="onnx").load_sweep("all")
    import importlib

    real = importlib.import_module

    def without_openvino(name, *args):
        if name == "openvino":
            raise ImportError(name)
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", without_openvino)
    with pytest.raises(
        RxError,
        match=r"needs the 'openvino' extra \(openvino is missing\): pip install "
        r"'retrieval_xfer\[openvino\]'",
    ):
        EncoderOptions(model=str(tiny_model), backend="openvino").load()


def test_a_pipeline_the_graph_cannot_reproduce_is_refused(tiny_model, tmp_path):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling

    folder = tmp_path / "cls"
    SentenceTransformer(modules=[Transformer(str(tiny_model)), Pooling(32, "cls")]).save(str(folder))
    with pytest.raises(RxError, match=r"export mean-pooled encoders; this model's pipeline is own:Pooling\(cls\)"):
        EncoderOptions(model=str(folder), backend="onnx", backend_cache=str(tmp_path / "c")).load()


def test_cli_index_with_an_exported_model_and_queries_across_backends(tiny_model, tmp_path):
    from click.testing import CliRunner
    from helpers import write_lines

    from retrieval_xfer.cli import main

    def rx(*args):
        return CliRunner().invoke(main, [str(a) for a in args])

    corpus = write_lines(tmp_path / "corpus.txt", SENTENCES)
    cache = tmp_path / "cache"
    built = rx(
        "build-index",
        "--model",
        tiny_model,
        "--layer",
        2,
        "--input",
        corpus,
        "--out",
        tmp_path / "onnx",
        "--backend",
        "onnx",
        "--backend-cache",
        cache,
        "--quiet",
    )
    assert built.exit_code == 0, built.output
    assert f"onnx cache: {cache}" in built.output
    meta = json.loads((tmp_path / "onnx" / "meta.json").read_text())
    assert meta["encoder"]["backend"] == "onnx"
    torch_query = rx("search", tmp_path / "onnx", "--model", tiny_model, "-k", 1, "--quiet", SENTENCES[5])
    assert torch_query.exit_code == 0, torch_query.output
    assert SENTENCES[5] in torch_query.output  # a float32 onnx index answers torch queries
    quantized = rx(
        "build-index",
        "--model",
        tiny_model,
        "--layer",
        2,
        "--input",
        corpus,
        "--out",
        tmp_path / "int8",
        "--backend",
        "openvino",
        "--quantize",
        "int8",
        "--backend-cache",
        cache,
        "--quiet",
    )
    assert quantized.exit_code == 0, quantized.output
    assert "calibrating static int8 (openvino) on 120 sentences of a corpus sample" in quantized.output
    # the query encoder follows the index's int8 model (cached, so no calibration set is needed)
    query = rx(
        "search", tmp_path / "int8", "--model", tiny_model, "-k", 1, "--backend-cache", cache, "--quiet", SENTENCES[7]
    )
    assert query.exit_code == 0 and SENTENCES[7] in query.output, query.output
    refused = rx(
        "search",
        tmp_path / "int8",
        "--model",
        tiny_model,
        "--backend",
        "onnx",
        "--quantize",
        "int8",
        "--backend-cache",
        tmp_path / "empty",
        "--calibration-file",
        corpus,
        "--quiet",
        "x",
    )
    assert refused.exit_code == 1 and "another int8 model" in refused.output


def test_an_evaluation_calibrates_on_the_sentences_it_encodes(tiny_model, tmp_path):
    from helpers import write_tatoeba

    from retrieval_xfer.data.cards import load_card
    from retrieval_xfer.evaluation.retrieval_options import TatoebaOptions
    from retrieval_xfer.evaluation.tatoeba import run_tatoeba

    folder = write_tatoeba(tmp_path / "tatoeba", SENTENCES[:60], SENTENCES[60:])
    options = EncoderOptions(
        model=str(tiny_model),
        layer=1,
        quiet=True,
        backend="openvino",
        quantize="int8",
        backend_cache=str(tmp_path / "cache"),
    )
    card = load_card("tatoeba")
    result = run_tatoeba(card, options, TatoebaOptions(data_dir=folder, langs="de"))
    assert "120 sentences of a corpus sample" in result["encoder"]["calibration"]
    with pytest.raises(RxError, match="needs at least 50 sentences and this input has 20"):
        other = dataclasses.replace(options, backend_cache=str(tmp_path / "other"))
        run_tatoeba(card, other, TatoebaOptions(data_dir=folder, langs="de", limit=10))
