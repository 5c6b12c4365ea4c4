"""procedures as a family: the CLI reads --output-len like --len, every variant's reference scores 100 % and a
truncated trace its share, `lcgen score` says why a reply fails, and validate catches a trace off its target."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lcgen.validate import check_row
from lcgen.validators.metrics.procedures import explain, score_reply
from tests.generators.rows import make_row

LCGEN = [sys.executable, "-c", "from lcgen.cli.main import main; main()"]
VARIANTS = ("path_traversal", "theory_of_mind", "countdown", "travel_planning", "html_to_tsv", "pseudocode_to_code")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*LCGEN, *args], cwd=cwd, capture_output=True, text=True, env=dict(os.environ), timeout=300)


@pytest.mark.parametrize("value, message", [("8q", "is not a length"), ("50", "outside 100-65,536"),
                                            ("1M", "outside 100-65,536")])
def test_output_len_is_read_like_len_and_refused_in_one_line(tmp_path, value, message):
    res = run("make", "procedures", "--len", "4k", "--output-len", value, cwd=tmp_path)
    assert res.returncode != 0 and message in res.stderr and "Traceback" not in res.stderr


def test_too_short_an_input_is_refused_before_the_first_sample(tmp_path):
    res = run("make", "procedures", "--len", "1000", "--output-len", "8k", cwd=tmp_path)
    assert res.returncode != 0 and "--len" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())


def test_trace_off_target_is_a_problem():
    row = make_row("procedures", "path_traversal", 4000, 0.0, output_len=500)
    assert check_row(row, {})[0] == []
    meta = json.loads(row["meta"])
    assert abs(meta["output_tokens"] - 500) <= meta["output_tolerance"] == 40
    meta["params"]["output_len"] = 2000
    row["meta"] = json.dumps(meta)
    assert any("off --output-len 2,000" in p for p in check_row(row, {})[0])


def test_score_reports_why_replies_fail(tmp_path):
    res = run("make", "procedures", "--len", "4k", "--seed", "3", "--samples", "2", "--variants",
              "path_traversal,theory_of_mind", "--out", "ds", "--workers", "1", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    rows = []
    for f in sorted((tmp_path / "ds").rglob("*.parquet")):
        rows += pq.read_table(f, columns=["id", "answer", "answers", "variant"]).to_pylist()
    preds = []
    for i, row in enumerate(rows):
        lines = row["answer"].splitlines()
        reply = row["answer"] if i % 2 == 0 else "\n".join(lines[: len(lines) // 2])
        preds.append({"id": row["id"], "prediction": reply})
    (tmp_path / "p.jsonl").write_text("".join(json.dumps(p) + "\n" for p in preds))
    res = run("score", "ds", "p.jsonl", "--out", "scores", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "why some replies fail" in res.stdout
    report = json.loads((tmp_path / "scores" / "p.scores.json").read_text())
    assert {f["id"] for f in report["failures"]} == {p["id"] for i, p in enumerate(preds) if i % 2}
    assert all(f["reason"] and f["strict"] == 0 for f in report["failures"])


@pytest.mark.parametrize("variant", VARIANTS)
def test_reference_scores_full_and_garbage_scores_zero(variant):
    row = make_row("procedures", variant, 6000, 0.0, seed=5, output_len=500)
    answers = list(row["answers"])
    assert score_reply(row["answer"], row["answer"], answers, variant) == {"strict": 1.0, "partial": 1.0}
    assert explain(row["answer"], row["answer"], answers, variant) == ""
    assert score_reply("I cannot do this.", row["answer"], answers, variant) == {"strict": 0.0, "partial": 0.0}
    assert explain("I cannot do this.", row["answer"], answers, variant)
