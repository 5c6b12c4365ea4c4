"""docs/adding-a-family.md's worked family, run as written: its five files (generator, templates, oracle, metric,
test) are written beside lcgen's own, and nothing else; then the CLI lists, makes, validates and scores it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "adding-a-family.md"
BLOCK = re.compile(r"```(?:python|jinja)\n(?:# |\{# )(\S+?)(?: #\})?\n(.*?)```", re.S)
# The family's files go on the packages' search paths, as a contributor's would sit in the checkout. (Spawned
# workers would not see these paths, hence --workers 1; files in the checkout itself need no such care.)
RUNNER = textwrap.dedent("""
    import importlib, sys
    root = sys.argv[1]
    for package, folder in (("lcgen.generators", "generators"), ("lcgen.validators", "validators"),
                            ("lcgen.validators.metrics", "validators/metrics"), ("lcgen.templates", "templates")):
        importlib.import_module(package).__path__.append(f"{root}/{folder}")
    if sys.argv[2] == "test":
        sys.path[:0] = [sys.argv[3], f"{root}/tests/generators"]  # the checkout (tests.generators.rows), the test
        import test_word_tally
        test_word_tally.test_oracle_agrees_and_catches_an_extra_line()
        print("test passed")
    else:
        from lcgen.cli.main import main
        sys.argv = ["lcgen", *sys.argv[2:]]
        main()
""")


def _files() -> dict[str, str]:
    found = {}
    for m in BLOCK.finditer(DOC.read_text()):
        first_line = m.group(0).split("\n")[1]
        found[m.group(1)] = first_line + "\n" + m.group(2)
    return found


def test_the_worked_family_runs_as_documented(tmp_path):
    files = _files()
    assert sorted(files) == ["generators/word_tally.py", "templates/word_tally/line.j2",
                             "templates/word_tally/prompt.j2", "templates/word_tally/question.j2",
                             "tests/generators/test_word_tally.py", "validators/metrics/word_tally.py",
                             "validators/word_tally.py"]
    root = tmp_path / "contrib"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (tmp_path / "runner.py").write_text(RUNNER)

    def lcgen(*args: str, code: int = 0) -> str:
        res = subprocess.run([sys.executable, str(tmp_path / "runner.py"), str(root), *args], cwd=ROOT,
                             capture_output=True, text=True)
        assert res.returncode == code, res.stderr
        return res.stdout if code == 0 else res.stderr

    assert "test passed" in lcgen("test", str(ROOT))
    assert "word-tally" in lcgen("list")
    assert "--depths" not in lcgen("make", "word-tally", "--help")
    refused = lcgen("make", "word-tally", "--len", "100", "--count", "40", "--out", str(tmp_path / "no"), code=2)
    # The family's check refuses before the first sample: nothing is written.
    assert refused == "lcgen: error: --count: 40 lines take at least 120 tokens, more than --len 100\n"
    assert not (tmp_path / "no").exists()
    ds = tmp_path / "ds"
    lcgen("make", "word-tally", "--len", "8k", "--seed", "1", "--samples", "3", "--out", str(ds), "--workers", "1")
    assert "all 3 samples passed" in lcgen("validate", str(ds))
    rows = pq.read_table(next(ds.rglob("*.parquet"))).to_pylist()
    assert all(r["length"] == 8000 and r["depth"] == [] for r in rows)
    shipped = (ds / "lcgen_metrics.py").read_text()
    assert "def score_text" in shipped and "needle" not in shipped  # its own metric, nothing of other families
    predictions = tmp_path / "p.jsonl"
    predictions.write_text("".join(json.dumps({"id": r["id"], "prediction": f"There are {r['answer']}."}) + "\n"
                                   for r in rows))
    lcgen("score", str(ds), str(predictions), "--out", str(tmp_path / "scores"))
    written = sorted(p.name for p in (tmp_path / "scores").iterdir())
    scores = json.loads(next((tmp_path / "scores").glob("*.json")).read_text())
    assert scores["overall"]["partial"] == 1.0 and scores["overall"]["strict"] == 0.0, (written, scores["overall"])
