"""No silent wrong results, no lost data: locks on outputs, SIGTERM handled as Ctrl-C, OS errors and damaged
checkpoints in one line, text that cannot break a pairs file, ids that cannot be misread, restartable runs."""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import WORDS
from helpers import write_lines
from toy_data import write_nli

from retrieval_xfer.cli import main
from retrieval_xfer.errors import RxError
from retrieval_xfer.output_lock import hold_output_lock, lock_path
from retrieval_xfer.training.runner import TrainConfig, train

ROOT = Path(__file__).resolve().parents[1]


def one_line_error(result, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    for fragment in fragments:
        assert fragment in result.output, result.output


def vectors(tmp_path: Path, n: int = 40) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    base = rng.standard_normal((n, 16)).astype(np.float32)
    np.save(tmp_path / "x.npy", base + 0.1 * rng.standard_normal((n, 16)).astype(np.float32))
    np.save(tmp_path / "y.npy", base[::-1].copy())
    return tmp_path / "x.npy", tmp_path / "y.npy"


def test_a_second_run_on_a_held_output_stops_and_names_the_holder(tmp_path, tiny_model):
    src, trg = vectors(tmp_path)
    corpus = write_lines(tmp_path / "c.txt", ["one cat", "two dog"])
    with hold_output_lock(tmp_path / "pairs.tsv"), hold_output_lock(tmp_path / "ex"), hold_output_lock(tmp_path / "i"):
        assert lock_path(tmp_path / "ex").is_file()
        runner = CliRunner()
        one_line_error(
            runner.invoke(
                main, ["mine", "--src", str(src), "--trg", str(trg), "--out", str(tmp_path / "pairs.tsv"), "--quiet"]
            ),
            "pairs.tsv: in use by rx process",
            f"{os.getpid()}",
        )
        one_line_error(
            runner.invoke(
                main,
                [
                    "export",
                    "--model",
                    str(tiny_model),
                    "--input",
                    str(corpus),
                    "--out",
                    str(tmp_path / "ex"),
                    "--quiet",
                ],
            ),
            "ex: in use by rx process",
        )
        one_line_error(
            runner.invoke(main, ["build-index", "--input", str(src), "--out", str(tmp_path / "i")]),
            "i: in use by rx process",
        )
    assert not (tmp_path / "pairs.tsv").exists() and not (tmp_path / "ex").exists()
    assert not lock_path(tmp_path / "ex").exists()  # released and removed
    assert (
        CliRunner()
        .invoke(main, ["mine", "--src", str(src), "--trg", str(trg), "--out", str(tmp_path / "pairs.tsv"), "--quiet"])
        .exit_code
        == 0
    )


def test_two_concurrent_exports_into_one_folder(tmp_path, tiny_model):
    """For real: two processes; the second stops in one line while the first runs, the first finishes alone."""
    corpus = write_lines(
        tmp_path / "c.txt", [" ".join(WORDS[(i + j) % len(WORDS)] for j in range(6)) for i in range(4000)]
    )
    command = [
        sys.executable,
        "-m",
        "retrieval_xfer",
        "export",
        "--model",
        str(tiny_model),
        "--input",
        str(corpus),
        "--out",
        str(tmp_path / "ex"),
        "--shard-size",
        "500",
        "--quiet",
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    first = subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (tmp_path / "ex" / "manifest.json").is_file():  # written before the first shard
        assert first.poll() is None and time.time() < deadline
        time.sleep(0.02)
    second = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    assert first.wait(timeout=300) == 0, first.stderr.read()
    assert second.returncode == 1 and "in use by rx process" in second.stderr
    manifest = json.loads((tmp_path / "ex" / "manifest.json").read_text())
    assert manifest["complete"] and manifest["count"] == 4000


def test_sigterm_cleans_up_and_says_how_to_resume(tmp_path):
    rng = np.random.default_rng(1)
    np.save(tmp_path / "x.npy", rng.standard_normal((6000, 64)).astype(np.float32))
    np.save(tmp_path / "y.npy", rng.standard_normal((6000, 64)).astype(np.float32))
    command = [
        sys.executable,
        "-m",
        "retrieval_xfer",
        "mine",
        "--src",
        str(tmp_path / "x.npy"),
        "--trg",
        str(tmp_path / "y.npy"),
        "--out",
        str(tmp_path / "pairs.tsv"),
        "--max-memory",
        "8MB",
        "--quiet",
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, stderr=subprocess.PIPE, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}
    )
    checkpoint = tmp_path / "pairs.tsv.rx-mine"
    deadline = time.time() + 120
    # y-state.npz is the commit point of a block (renamed after the block file): waiting for a block file alone
    # races with a kill between the two, after which nothing counts as done and the re-run starts afresh
    while not (checkpoint / "y-state.npz").is_file():
        assert process.poll() is None and time.time() < deadline, "finished before a block was checkpointed"
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 143
    assert "terminated; run the same command again to resume" in process.stderr.read()
    assert not (tmp_path / "pairs.tsv").exists()
    assert not [p for p in tmp_path.rglob(".*tmp*")]  # no temporary file left behind
    assert not lock_path(tmp_path / "pairs.tsv").exists()
    resumed = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}
    )
    assert resumed.returncode == 0 and "resum" in resumed.stderr.lower(), resumed.stderr


def test_disk_full_is_one_line_and_leaves_no_half_written_file(tmp_path, monkeypatch):
    src, trg = vectors(tmp_path)
    import retrieval_xfer.mining.pair_formats as formats_module

    def full_disk(path, text):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(formats_module, "atomic_write_text", full_disk)
    result = CliRunner().invoke(
        main, ["mine", "--src", str(src), "--trg", str(trg), "--out", str(tmp_path / "pairs.tsv"), "--quiet"]
    )
    one_line_error(result, "pairs.tsv: No space left on device")
    assert not (tmp_path / "pairs.tsv").exists()


def test_a_truncated_checkpoint_is_one_line(tmp_path):
    src, trg = vectors(tmp_path, 3000)
    args = [
        "mine",
        "--src",
        str(src),
        "--trg",
        str(trg),
        "--out",
        str(tmp_path / "p.tsv"),
        "--max-memory",
        "2MB",
        "--quiet",
    ]
    import retrieval_xfer.mining.checkpoint as checkpoint_module

    original = checkpoint_module.KnnCheckpoint.save

    def stop_after_two(self, number, *rest):
        original(self, number, *rest)
        if number == 1:
            raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(checkpoint_module.KnnCheckpoint, "save", stop_after_two)
        assert CliRunner().invoke(main, args).exit_code == 130
    state = tmp_path / "p.tsv.rx-mine" / "y-state.npz"
    state.write_bytes(state.read_bytes()[:100])
    one_line_error(CliRunner().invoke(main, args), "y-state.npz: corrupt checkpoint (truncated or damaged)")


def test_bad_utf8_in_a_queries_file_is_one_line(tmp_path):
    (tmp_path / "q.txt").write_bytes(b"fine\nna\xefve\n")
    result = CliRunner().invoke(
        main, ["search", str(tmp_path / "no-index"), "--model", "m", "--queries-file", str(tmp_path / "q.txt")]
    )
    one_line_error(result, "q.txt:2: not valid UTF-8")


def test_a_tab_or_newline_in_a_sentence_never_adds_a_column(tmp_path, tiny_model):
    lines = ["alpha\tcat one", "back\\slash dog", "plain fish"]
    (tmp_path / "a.txt").write_bytes(("\n".join(lines) + "\n").encode())
    (tmp_path / "b.txt").write_bytes(("\n".join(reversed(lines)) + "\n").encode())
    result = CliRunner().invoke(
        main,
        [
            "mine",
            "--model",
            str(tiny_model),
            "--layer",
            "2",
            "--src",
            str(tmp_path / "a.txt"),
            "--trg",
            str(tmp_path / "b.txt"),
            "--out",
            str(tmp_path / "p.tsv"),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = [row.split("\t") for row in (tmp_path / "p.tsv").read_text().splitlines()]
    assert rows and all(len(row) == 5 for row in rows)
    texts = {row[3] for row in rows}
    assert "alpha\\tcat one" in texts and "back\\\\slash dog" in texts


def test_ids_with_a_comma_are_refused(tmp_path):
    (tmp_path / "s.tsv").write_text("a,1\tone\nb\ttwo\n")
    result = CliRunner().invoke(
        main,
        [
            "build-index",
            "--model",
            "unused",
            "--input",
            str(tmp_path / "s.tsv"),
            "--input-format",
            "tsv",
            "--out",
            str(tmp_path / "i"),
        ],
    )
    one_line_error(result, "s.tsv:1: id 'a,1' contains a comma")


def test_a_run_killed_before_its_first_checkpoint_restarts(tiny_model, tmp_path):
    data = write_nli(tmp_path / "nli.jsonl", random.Random(0), 16)
    out = tmp_path / "run"
    out.mkdir()
    (out / "train_log.jsonl").write_text('{"step": 2, "loss": 1.0}\n')  # what a kill before step 500 leaves
    (out / "checkpoints").mkdir()
    config = dict(
        tasks=["mnli"],
        out=out,
        base=str(tiny_model),
        train_files={"mnli": str(data)},
        batch_size=4,
        max_steps=2,
        quiet=True,
    )
    run = train(TrainConfig(**config)).run  # rx train starts it again
    assert run["steps"] == 2 and '"loss": 1.0' not in (out / "train_log.jsonl").read_text()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(RxError, match="already exists"):
        train(TrainConfig(**{**config, "out": tmp_path / "other"}))
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"


def test_a_symlink_planted_where_a_temporary_file_used_to_go_is_never_followed(tmp_path, tiny_model):
    """Temporary files had predictable names (``.shard-00001.npy.tmp``): another user of a shared folder could plant
    a symlink there and make a resumed export overwrite any file rx can write. Now their names come from mkstemp."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / "c.txt").write_text("one cat\ntwo dog\n")
    out = tmp_path / "ex"
    args = [
        "export",
        "--model",
        str(tiny_model),
        "--input",
        str(tmp_path / "c.txt"),
        "--out",
        str(out),
        "--quiet",
        "--shard-size",
        "1",
    ]
    assert CliRunner().invoke(main, args).exit_code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    complete = (out / "shard-00001.npy").read_bytes()
    manifest.update(complete=False, count=1, shards=manifest["shards"][:1])  # as a kill after the first shard
    (out / "manifest.json").write_text(json.dumps(manifest))
    for name in ("shard-00001.npy", "shard-00001.ids.txt"):
        (out / name).unlink()
        (out / f".{name}.tmp").symlink_to(victim)
    assert CliRunner().invoke(main, args).exit_code == 0  # resumed
    assert victim.read_text() == "precious"
    assert (out / "shard-00001.npy").read_bytes() == complete


def test_sigterm_during_build_index_leaves_no_temporary_folder(tmp_path, monkeypatch):
    src, _ = vectors(tmp_path)
    import retrieval_xfer.indexing.store as store

    def terminated_while_writing(index, path):
        os.kill(os.getpid(), signal.SIGTERM)  # the handler raises here, as it would at any point of the run
        time.sleep(5)

    monkeypatch.setattr(store.faiss, "write_index", terminated_while_writing)
    result = CliRunner().invoke(main, ["build-index", "--input", str(src), "--out", str(tmp_path / "i")])
    assert result.exit_code == 143 and "terminated" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.npy", "y.npy"]  # no .i.tmp-* folder, no lock file


@pytest.mark.parametrize("path", ["/etc", "../elsewhere"])
def test_a_modules_json_path_may_not_leave_its_folder(tmp_path, tiny_st_model, path):
    import shutil

    model = tmp_path / "model"
    shutil.copytree(tiny_st_model, model)
    modules = json.loads((model / "modules.json").read_text())
    modules[0]["path"] = path
    (model / "modules.json").write_text(json.dumps(modules))
    (tmp_path / "c.txt").write_text("one cat\n")
    result = CliRunner().invoke(
        main, ["build-index", "--model", str(model), "--input", str(tmp_path / "c.txt"), "--out", str(tmp_path / "i")]
    )
    one_line_error(result, f"module path '{path}' leaves the model folder")
