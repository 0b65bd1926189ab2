"""The package boundaries: the allowed-imports table of README's architecture section, no import cycles, and
light commands that never load the model stack."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "retrieval_xfer"
CORE = {
    "errors",
    "specs",
    "vectors",
    "memory",
    "ray_cluster",
    "provenance",
    "atomic",
    "hub",
    "version",
    "json_file",
    "field_checks",
    "outputs",
    "output_lock",
    "checksums",
    "logs",
    "machine",
    "__init__",
}

# The table in README.md ("Architecture"): which package may import which (the core modules always).
ALLOWED: dict[str, set[str]] = {
    "cli": {"*"},
    "__main__": {"cli"},
    "experiment": {"workflows", "training", "evaluation", "modeling", "encoding", "mining", "indexing", "data"},
    "workflows": {
        "training",
        "evaluation",
        "modeling",
        "encoding",
        "mining",
        "indexing",
        "export",
        "prepare",
        "data",
        "cost",
    },
    "training": {"modeling", "encoding", "data"},
    "evaluation": {"modeling", "encoding", "mining", "indexing", "export", "data"},
    "modeling": {"encoding", "data"},
    "export": {"encoding", "data"},
    "encoding": set(),
    "mining": {"indexing"},
    "cost": {"mining", "indexing"},
    "indexing": set(),
    "prepare": set(),
    "data": set(),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """Every retrieval_xfer module ``path`` imports, at the top or inside functions (TYPE_CHECKING included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("retrieval_xfer")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("retrieval_xfer"):
            for alias in node.names:  # `from retrieval_xfer.evaluation import report_plots` imports a module
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in known else node.module)
    return found


def package_of(module: str) -> str:
    return module.split(".")[1] if module.count(".") >= 1 else "__init__"


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports_of(path, set(mods)) - {name} for name, path in mods.items()}


def test_every_package_is_in_the_table():
    packages = {package_of(m) for m in modules()} - CORE
    assert packages == set(ALLOWED), "a new package needs a row in ALLOWED and in README's architecture table"


def test_imports_follow_the_allowed_table():
    bad = []
    for module, targets in graph().items():
        source = package_of(module)
        if source in CORE:
            bad += [
                f"{module} -> {t} (a core module imports only core modules)"
                for t in targets
                if package_of(t) not in CORE
            ]
            continue
        for target in targets:
            dest = package_of(target)
            if dest in CORE or dest == source or "*" in ALLOWED[source]:
                continue
            if dest not in ALLOWED[source]:
                bad.append(f"{module} -> {target}")
    assert not bad, "imports the table does not allow:\n" + "\n".join(sorted(bad))


def test_no_import_cycles_between_modules():
    edges = graph()
    cycles, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(stack[stack.index(nxt) :] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_table_test_catches_a_forbidden_edge(tmp_path, monkeypatch):
    """The walk sees function-local imports (where the old cycles hid)."""
    fake = tmp_path / "retrieval_xfer" / "mining" / "bad.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("def f():\n    from retrieval_xfer.encoding.loader import load_encoder\n")
    assert imports_of(fake, {"retrieval_xfer.encoding.loader"}) == {"retrieval_xfer.encoding.loader"}


LIGHT = """
import json, sys
from click.testing import CliRunner
from retrieval_xfer.cli import main
result = CliRunner().invoke(main, sys.argv[1:])
heavy = sorted(m for m in ("torch", "sentence_transformers", "transformers", "datasets") if m in sys.modules)
print(json.dumps({"exit": result.exit_code, "output": result.output, "heavy": heavy}))
"""


def run_light(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", LIGHT, *args], capture_output=True, text=True, timeout=120, cwd=PACKAGE.parent
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def light_index(folder: Path) -> Path:
    """An index folder written with faiss directly (no encoder), for ``rx info``."""
    import faiss
    import numpy as np

    from retrieval_xfer.indexing.meta import IndexMeta
    from retrieval_xfer.indexing.store import save_index
    from retrieval_xfer.specs import EncoderSpec

    spec = EncoderSpec(
        model="m", weights_sha256="a" * 64, layer=2, num_layers=4, pooling="mean", prompt="", max_length=16, dimension=4
    )
    index = faiss.IndexFlatIP(4)
    index.add(np.eye(4, dtype=np.float32)[:2])
    meta = IndexMeta(
        encoder=spec.to_dict(), index={"kind": "flat"}, count=2, build_seconds=0.1, created_at="now", rx_version="0"
    )
    save_index(folder, index, ["a", "b"], ["x", "y"], meta)
    return folder


@pytest.mark.parametrize(
    "args",
    [["--help"], ["tasks", "list"], ["eval", "--help"], ["info", "INDEX"], ["report", "RESULTS", "--out", "REPORT"]],
)
def test_light_commands_do_not_load_the_model_stack(args, tmp_path):
    results = tmp_path / "results" / "base"
    results.mkdir(parents=True)
    (results / "tatoeba.json").write_text(
        json.dumps(
            {
                "task": "tatoeba",
                "model": "m",
                "layer": 2,
                "scores": {"de": {"en2xx": 50.0, "xx2en": 40.0, "mean": 45.0}},
                "averages": {"en2xx": 50.0, "xx2en": 40.0, "mean": 45.0},
                "created_at": "2026-01-01T00:00:00+00:00",
            }
        )
    )
    swap = {
        "INDEX": str(light_index(tmp_path / "index")),
        "RESULTS": str(tmp_path / "results"),
        "REPORT": str(tmp_path / "report"),
    }
    outcome = run_light(*[swap.get(a, a) for a in args])
    assert outcome["exit"] == 0, outcome["output"]
    assert outcome["heavy"] == [], f"rx {' '.join(args)} loaded {outcome['heavy']}"


def test_mining_threshold_imports_no_model_stack():
    code = (
        "import sys, retrieval_xfer.mining.threshold, retrieval_xfer.specs, retrieval_xfer.data.cards; "
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'faiss') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def _source_lines(pattern: str, outside: tuple[str, ...] = ()) -> list[str]:
    """``file:line`` of every line of the package matching the regular expression ``pattern``, in files not
    under the sub-packages named in ``outside``."""
    import re

    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.relative_to(PACKAGE).parts[0] in outside:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(pattern, line):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{number}")
    return found


def test_no_card_is_indexed_by_string_outside_data():
    """Cards are typed TaskCard objects: code reads attributes (``card.max_length``), never ``card["..."]``."""
    assert _source_lines(r"card\[|card\.get\(", outside=("data",)) == []


def test_library_functions_take_no_echo_callables():
    """Progress and warnings go through the ``retrieval_xfer`` logger tree (retrieval_xfer/logs.py), not through
    ``echo`` parameters or ``warnings.warn``; only the command line writes to the terminal itself."""
    printing = {line.split(":")[0] for line in _source_lines(r"\becho\s*[:=]|warnings\.warn\(|\bprint\(", ("cli",))}
    assert printing == {
        "retrieval_xfer/logs.py",  # the command line's handler itself
        "retrieval_xfer/experiment/distributed_step.py",  # a torchrun child's one-line error, before any logging
        "retrieval_xfer/experiment/ray_executor.py",  # the header line of a step's own log file
    }


def test_evaluation_builds_no_index_of_its_own():
    """BUCC and Tatoeba find neighbours through mining/ (one exact/approximate switch, one k-NN): nothing in
    evaluation/ touches FAISS."""
    assert (
        _source_lines(
            r"faiss|index_factory|IndexFlat", outside=tuple(p.name for p in PACKAGE.iterdir() if p.name != "evaluation")
        )
        == []
    )
