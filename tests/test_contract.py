"""The contract every registered family keeps (docs/adding-a-family.md): an oracle, a standard-library metric, docs
and templates; exact length in one tokenization, oracle agreement, CLI help, determinism of every shipped file."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import ast
import json

from lcgen.metrics import shipped_metric_source
from lcgen.registry import families, oracles
from lcgen.validate import check_row, oracle_input
from tests.generators.rows import make_row

ROOT = Path(__file__).resolve().parent.parent

CASES = [(name, variant) for name in families.names() for variant in families.get(name).variant_names()]
LCGEN = [sys.executable, "-c", "from lcgen.cli.main import main; main()"]


def _row(family: str, variant: str, seed: int, length: int = 6000) -> dict:
    haystack = "procedural" if families.get(family).uses_haystack else None
    return make_row(family, variant, length, 40.0 if families.get(family).has_depth(variant) else 0.0, 0, seed,
                    haystack)


@pytest.mark.parametrize("family, variant", CASES)
def test_sample_is_exact_solvable_and_seeded(family, variant):
    row = _row(family, variant, seed=1)
    assert row["length"] == row["target_length"] == 6000
    assert check_row(row, {})[0] == []
    assert json.loads(row["meta"])["tokenizations"] == 1, non_additive_junctions(row)
    assert _row(family, variant, seed=1) == row
    assert _row(family, variant, seed=2)["input"] != row["input"]


def non_additive_junctions(row: dict) -> str:
    """The context's unit boundaries the final tokenization does not split at: where a family's units stopped adding
    up (the context's open and close are measured apart by the engine, so they are not listed)."""
    view = oracle_input(row)
    got = oracles.get(row["task"])(view)
    text = row["input"]
    def split_at(o: int) -> bool:  # a token starts at o, or at the whitespace that leads the unit there
        lead = len(text[:o]) - len(text[:o].rstrip(" \t"))
        return any(view.token_index.token_at(i) != view.token_index.token_at(i - 1) for i in range(o - lead, o + 1))

    bad = [o for o in sorted({*got.unit_offsets, *got.needle_offsets}) if 0 < o < len(text) and not split_at(o)]
    where = ", ".join(f"{text[max(o - 12, 0):o]!r} + {text[o:o + 12]!r}" for o in bad[:5])
    return f"{row['id']}: more than one tokenization; tokens straddle {where or '(no unit boundary)'}"


@pytest.mark.parametrize("family", families.names())
def test_family_is_complete(family):
    """Everything a family must bring, and nothing it must register elsewhere."""
    spec = families.get(family)
    module = spec.plan.__module__.rpartition(".")[2]
    assert family in oracles, f"{family}: no @oracle({family!r}) in validators/{module}.py"
    assert (ROOT / "docs" / f"{family}.md").is_file(), f"{family}: no docs/{family}.md"
    templates = ROOT / "templates" / spec.template_dir
    assert templates.is_dir() and any(templates.rglob("*.j2")), f"{family}: no templates in {templates}"
    assert spec.metric_description, f"{family}: its metric has no docstring for the card"
    for f in dataclasses.fields(spec.params):
        assert f.metadata.get("help"), f"{family}: knob {f.name} has no help"


@pytest.mark.parametrize("family", families.names())
def test_metric_is_standard_library_and_ships_alone(tmp_path, family):
    """The metric module imports only the standard library (and sibling helpers, inlined when shipped); the
    shipped file runs with no site-packages at all, scores a reference answer 1, and names no other family."""
    fn = families.get(family).metric
    source = Path(sys.modules[fn.__module__].__file__).read_text()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module]
        else:
            continue
        assert all(n.split(".")[0] in sys.stdlib_module_names for n in names), f"{family}: imports {names}"
    shipped = shipped_metric_source(family)
    assert not [other for other in families.names() if other != family and f'"{other}"' in shipped]
    (tmp_path / "lcgen_metrics.py").write_text(shipped)
    row = _row(family, families.get(family).variant_names()[0], seed=1, length=2000)
    probe = ("import json, sys; import lcgen_metrics as m; r = json.loads(sys.stdin.read()); "
             "print(json.dumps(m.score(r['task'], r['variant'], r['answer'], r['answers'], r['answer'])))")
    res = subprocess.run([sys.executable, "-I", "-S", "-c", f"import sys; sys.path.insert(0, '.'); {probe}"],
                         cwd=tmp_path, input=json.dumps(row), capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == {"strict": 1.0, "partial": 1.0}


@pytest.mark.parametrize("package, registry", [("generators", families), ("validators", oracles)])
def test_every_public_module_registers(package, registry):
    """Modules are discovered, not listed: every public module of generators/ and validators/ registers at least
    one name (a helper module must be ``_private``)."""
    import importlib
    import pkgutil

    path = [str(ROOT / package)]
    for info in pkgutil.iter_modules(path):
        if info.name.startswith("_") or info.ispkg:
            continue
        module = importlib.import_module(f"lcgen.{package}.{info.name}")
        items = registry._items.values()
        owned = [i for i in items if getattr(getattr(i, "plan", i), "__module__", "") == module.__name__]
        assert owned, f"{package}/{info.name}.py registers nothing; name a helper module _{info.name}.py"


@pytest.mark.parametrize("family", families.names())
def test_cli_help_lists_every_knob(family):
    res = subprocess.run([*LCGEN, "make", family, "--help"], capture_output=True, text=True)
    assert res.returncode == 0
    for f in dataclasses.fields(families.get(family).params):
        assert "--" + f.name.replace("_", "-") in res.stdout


def _sha256s(folder: Path) -> dict[str, str]:
    """Every file the folder ships, parquet, card, metric and harness files alike."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("family", [f for f in families.names() if f != "needle-threads"])  # that one: test_cli
def test_same_bytes_across_processes_and_workers(tmp_path, family):
    depths = ["--depths", "10,90"] if families.get(family).depth_of else ["--samples", "2"]
    args = ["make", family, "--len", "3k", "--seed", "3", *depths]
    for out, workers, hashseed in (("a", "1", "1"), ("b", "2", "2")):
        res = subprocess.run([*LCGEN, *args, "--out", out, "--workers", workers], cwd=tmp_path, capture_output=True,
                             text=True, env={**os.environ, "PYTHONHASHSEED": hashseed})
        assert res.returncode == 0, res.stderr
    a, b = _sha256s(tmp_path / "a"), _sha256s(tmp_path / "b")
    assert a == b
    assert len([f for f in a if f.endswith(".parquet")]) == len(families.get(family).variants)
    assert {"README.md", "lcgen_metrics.py", "harness/inspect_task.py"} <= set(a)
