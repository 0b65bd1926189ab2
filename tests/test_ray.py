"""Ray (the ``ray`` extra): export and the exact k-NN (mining, scoring) distributed on a local Ray give what one
process gives."""

import json
import time

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import WORDS
from helpers import write_lines

from retrieval_xfer.cli import main

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install -e '.[ray]'; make test does)")


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def test_export_on_ray_equals_the_single_process_export(tiny_model, tmp_path):
    corpus = write_lines(
        tmp_path / "c.txt", [" ".join(WORDS[(i * 3 + j) % len(WORDS)] for j in range(1 + i % 7)) for i in range(45)]
    )
    runner = CliRunner()
    common = ["--model", str(tiny_model), "--layer", "2", "--input", str(corpus), "--shard-size", "10", "--quiet"]
    single = runner.invoke(main, ["export", *common, "--out", str(tmp_path / "one")])
    on_ray = runner.invoke(main, ["export", *common, "--out", str(tmp_path / "ray"), "--ray"])
    assert single.exit_code == 0 and on_ray.exit_code == 0, on_ray.output
    a, b = (json.loads((tmp_path / name / "manifest.json").read_text()) for name in ("one", "ray"))
    layout = lambda manifest: [{k: v for k, v in s.items() if k != "sha256"} for s in manifest["shards"]]
    assert layout(a) == layout(b) and a["encoder"] == b["encoder"] and b["complete"]  # vectors: equal to 1e-6
    for shard in a["shards"]:
        assert (tmp_path / "one" / shard["ids"]).read_text() == (tmp_path / "ray" / shard["ids"]).read_text()
        np.testing.assert_allclose(
            np.load(tmp_path / "one" / shard["file"]), np.load(tmp_path / "ray" / shard["file"]), atol=1e-6
        )


def test_mining_on_ray_equals_the_single_process_mining(tmp_path):
    rng = np.random.default_rng(0)
    base = rng.standard_normal((300, 24)).astype(np.float32)
    np.save(tmp_path / "x.npy", base + 0.3 * rng.standard_normal((300, 24)).astype(np.float32))
    np.save(tmp_path / "y.npy", (base + 0.3 * rng.standard_normal((300, 24)).astype(np.float32))[::-1].copy())
    runner = CliRunner()
    common = [
        "mine",
        "--src",
        str(tmp_path / "x.npy"),
        "--trg",
        str(tmp_path / "y.npy"),
        "--max-memory",
        "200KB",
        "--quiet",
    ]
    single = runner.invoke(main, [*common, "--out", str(tmp_path / "one.tsv")])
    on_ray = runner.invoke(main, [*common, "--out", str(tmp_path / "ray.tsv"), "--ray"])
    assert single.exit_code == 0 and on_ray.exit_code == 0, on_ray.output
    assert (tmp_path / "one.tsv").read_bytes() == (tmp_path / "ray.tsv").read_bytes()
    assert json.loads((tmp_path / "ray.tsv.json").read_text())["knn"]["ray"] == "local"


def test_scoring_on_ray_equals_the_single_process_scoring(tmp_path):
    rng = np.random.default_rng(1)
    base = rng.standard_normal((300, 24)).astype(np.float32)
    np.save(tmp_path / "x.npy", base + 0.3 * rng.standard_normal((300, 24)).astype(np.float32))
    np.save(tmp_path / "y.npy", base + 0.3 * rng.standard_normal((300, 24)).astype(np.float32))
    common = ["score", "--src", str(tmp_path / "x.npy"), "--trg", str(tmp_path / "y.npy"), "--max-memory", "200KB"]
    common += ["--threshold", "auto", "--quiet"]
    single = CliRunner().invoke(main, [*common, "--out", str(tmp_path / "one.tsv")])
    on_ray = CliRunner().invoke(main, [*common, "--out", str(tmp_path / "ray.tsv"), "--ray"])
    assert single.exit_code == 0 and on_ray.exit_code == 0, on_ray.output
    assert (tmp_path / "one.tsv").read_bytes() == (tmp_path / "ray.tsv").read_bytes()
    assert json.loads((tmp_path / "ray.tsv.json").read_text())["knn"]["ray"] == "local"


def test_an_unreachable_ray_address_fails_in_seconds(tmp_path):
    ray.shutdown()  # a fresh connection is attempted only when this process has none
    try:
        np.save(tmp_path / "x.npy", np.eye(4, dtype=np.float32))
        tic = time.perf_counter()
        result = CliRunner().invoke(
            main,
            [
                "mine",
                "--src",
                str(tmp_path / "x.npy"),
                "--trg",
                str(tmp_path / "x.npy"),
                "--out",
                str(tmp_path / "p.tsv"),
                "--ray",
                "127.0.0.1:9",
                "--quiet",
            ],
        )
        assert time.perf_counter() - tic < 15
        assert result.exit_code == 1 and "--ray 127.0.0.1:9: no Ray cluster answers at 127.0.0.1:9" in result.output
        assert not (tmp_path / "p.tsv").exists()
    finally:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)


def test_a_missing_ray_extra_is_one_line(monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray":
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    np.save(tmp_path / "x.npy", np.eye(4, dtype=np.float32))
    result = CliRunner().invoke(
        main,
        [
            "mine",
            "--src",
            str(tmp_path / "x.npy"),
            "--trg",
            str(tmp_path / "x.npy"),
            "--out",
            str(tmp_path / "p.tsv"),
            "--ray",
            "--quiet",
        ],
    )
    assert (
        result.exit_code == 1 and result.output.strip() == "Error: --ray needs Ray: pip install 'retrieval_xfer[ray]'"
    )


def test_bucc_on_ray_equals_bucc_here(tiny_model, tmp_path):
    for side in ("zh", "en"):
        for split, offset in (("dev", 0), ("test", 100)):
            write_lines(
                tmp_path / f"zh-en.{split}.{side}",
                [
                    f"{side}-{offset + i}\t{WORDS[(i * 3) % len(WORDS)]} {WORDS[(i * 5 + 1) % len(WORDS)]}"
                    for i in range(40)
                ],
            )
    for split, offset in (("dev", 0), ("test", 100)):
        write_lines(tmp_path / f"zh-en.{split}.gold", [f"zh-{offset + i}\ten-{offset + i}" for i in range(40)])
    common = ["eval", "bucc", "--model", str(tiny_model), "--layer", "2", "--data-dir", str(tmp_path), "--quiet"]
    here = CliRunner().invoke(main, [*common, "--output", str(tmp_path / "here.json")])
    on_ray = CliRunner().invoke(main, [*common, "--output", str(tmp_path / "ray.json"), "--max-memory", "1MB", "--ray"])
    assert here.exit_code == 0 and on_ray.exit_code == 0, on_ray.output
    scores = lambda name: json.loads((tmp_path / name).read_text())["scores"]  # noqa: E731
    assert scores("ray.json") == scores("here.json")
