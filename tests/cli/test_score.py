"""lcgen score: 100% on the references, 0% on a fixed wrong answer, heatmap and JSON, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lcgen.metrics import score
from lcgen.validators.metrics._replies import last_boxed

LCGEN = [sys.executable, "-c", "from lcgen.cli.main import main; main()"]


def run(*args, cwd):
    return subprocess.run([*LCGEN, *args], cwd=cwd, capture_output=True, text=True, env=dict(os.environ), timeout=300)


def rows_of(folder: Path) -> list[dict]:
    out = []
    for f in sorted(folder.rglob("*.parquet")):
        out += pq.read_table(f, columns=["id", "answer", "answers", "task", "variant"]).to_pylist()
    return out


@pytest.fixture(scope="module")
def datasets_made(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("score")
    made = {}
    for family, extra in (("needle-threads", ["--len", "2k,4k", "--depths", "0,50,100"]),
                          ("ancestral-trace", ["--needles", "6", "--depths", "0"])):
        res = run("make", family, *extra, "--out", family, "--workers", "1", cwd=root)
        assert res.returncode == 0, res.stderr
        made[family] = root / family
    return made


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


@pytest.mark.parametrize("family", ["needle-threads", "ancestral-trace"])
def test_references_score_100_and_a_fixed_wrong_answer_0(datasets_made, tmp_path, family):
    folder = datasets_made[family]
    rows = rows_of(folder)
    good = write_jsonl(tmp_path / "good.jsonl", [{"id": r["id"], "prediction": r["answer"]} for r in rows])
    res = run("score", str(folder), str(good), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "overall: strict 100.0%, partial 100.0%" in res.stdout
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"id": r["id"], "prediction": "\\boxed{Nobody}"} for r in rows])
    res = run("score", str(folder), str(bad), cwd=tmp_path)
    assert res.returncode == 0 and "overall: strict 0.0%, partial 0.0%" in res.stdout
    out = tmp_path / "lcgen-scores" / family  # lcgen's own folder, named after the dataset folder
    png = out / "bad.heatmap.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads((out / "bad.scores.json").read_text())
    assert data["samples"] == len(rows) and data["overall"]["strict"] == 0.0
    assert {c["variant"] for c in data["cells"]} == {r["variant"] for r in rows}
    if family == "ancestral-trace":
        assert {d["label"] for d in data["by_label"]} >= {"statements", "order"}


def test_partial_credit_and_missing_predictions(datasets_made, tmp_path):
    folder = datasets_made["needle-threads"]
    rows = [r for r in rows_of(folder) if r["variant"] == "multiple_needles"]
    half = [{"id": r["id"], "prediction": json.dumps(r["answers"][:2] + ["x"] * (len(r["answers"]) - 2))}
            for r in rows]
    res = run("score", str(folder), str(write_jsonl(tmp_path / "half.jsonl", half)), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    data = json.loads((tmp_path / "lcgen-scores/needle-threads/half.scores.json").read_text())
    assert data["by_variant"]["multiple_needles"]["strict"] == 0.0
    assert data["by_variant"]["multiple_needles"]["partial"] == pytest.approx(2 / 5)
    assert data["missing_predictions"] == len(rows_of(folder)) - len(rows)
    assert "without a prediction (scored 0)" in res.stdout


def test_lm_eval_and_inspect_outputs_are_read(datasets_made, tmp_path):
    folder = datasets_made["needle-threads"]
    rows = rows_of(folder)
    lm = [{"doc_id": i, "doc": {"id": r["id"]}, "resps": [[r["answer"]]], "filtered_resps": [r["answer"]]}
          for i, r in enumerate(rows)]
    logs = tmp_path / "logs"  # not the working folder: results never go inside a folder holding harness logs
    logs.mkdir()
    res = run("score", str(folder), str(write_jsonl(logs / "samples_x.jsonl", lm)), cwd=tmp_path)
    assert res.returncode == 0 and "strict 100.0%" in res.stdout, res.stderr
    log = {"samples": [{"id": r["id"], "output": {"completion": r["answer"]}} for r in rows]}
    (logs / "log.json").write_text(json.dumps(log))
    res = run("score", str(folder), str(logs / "log.json"), cwd=tmp_path)
    assert res.returncode == 0 and "strict 100.0%" in res.stdout, res.stderr
    assert sorted(p.name for p in (tmp_path / "lcgen-scores/needle-threads").iterdir()) == [
        "log.heatmap.png", "log.scores.json", "samples_x.heatmap.png", "samples_x.scores.json"]
    assert sorted(p.name for p in logs.iterdir()) == ["log.json", "samples_x.jsonl"]


@pytest.mark.parametrize(
    "content, needle",
    [
        ("", "empty"),
        ('{"id": "a", "prediction": "x"}\nnot json\n', "line 2 is not JSON"),
        ('{"id": "needle-threads/nope/1k/d0/0", "prediction": "x"}\n', "not in"),
        ('{"prediction": "x"}\n', "needs an 'id'"),
    ],
)
def test_bad_predictions_are_one_line(datasets_made, tmp_path, content, needle):
    path = tmp_path / "p.jsonl"
    path.write_text(content)
    res = run("score", str(datasets_made["needle-threads"]), str(path), cwd=tmp_path)
    assert res.returncode != 0 and res.stderr.count("\n") == 1 and needle in res.stderr, res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.jsonl"]  # no scores, no lcgen-scores/


def test_dataset_without_card(tmp_path, datasets_made):
    (tmp_path / "empty").mkdir()
    path = write_jsonl(tmp_path / "p.jsonl", [{"id": "x", "prediction": "y"}])
    res = run("score", str(tmp_path / "empty"), str(path), cwd=tmp_path)
    assert res.returncode != 0 and "no README.md card" in res.stderr and res.stderr.count("\n") == 1


def test_metric_details():
    assert last_boxed(r"first \boxed{A} then \boxed{\text{Ann Lee}}") == "Ann Lee"
    assert last_boxed("no box") is None
    at, hq = "ancestral-trace", "holistic-queries"
    assert score(at, "relation_distance", r"\boxed{5}", ["5"], r"So the distance is \boxed{5}.")["strict"] == 1.0
    assert score(at, "nth_ancestor", r"\boxed{Ann Lee}", ["Ann Lee"], r"\boxed{ann lee}") == {"strict": 0.0,
                                                                                             "partial": 1.0}
    assert score(hq, "extreme", "abc", ["abc"], "The answer is abc.") == {"strict": 0.0, "partial": 1.0}
    assert score(hq, "selection", '["a", "b"]', ["a", "b"], '```json\n["a", "b"]\n```')["strict"] == 1.0


# Each family scores its own answer shapes: a permutation of an ordered answer is not full credit, listing every key
# of a set answer does not pay, and a set asked for in no order is strict in any order.
METRIC_CASES = [
    ("needle-threads", "multiple_needles", ["a", "b", "c", "d"], '["d", "c", "b", "a"]', 0.0, 0.0),
    ("needle-threads", "multiple_needles", ["a", "b", "c", "d"], '["a", "b", "d", "c"]', 0.0, 0.5),
    ("needle-threads", "multi_threads", ["a", "b"], "a then b", 0.0, 1.0),
    ("needle-threads", "conditional_needles", ["a", "b"], '["b", "a"]', 0.0, 1.0),
    ("needle-threads", "conditional_needles", ["a", "b"], '["a", "b", "c", "d", "e", "f"]', 0.0, 0.5),
    ("needles", "multi_retrieval", ["x-1", "y-2"], '["y-2", "x-1"]', 0.0, 0.0),
    ("holistic-queries", "selection", ["K1", "K2"], '["K2", "K1"]', 1.0, 1.0),
    ("holistic-queries", "selection", ["K1", "K2"], '["K2", "K1", "K2"]', 0.0, 1.0),
    ("holistic-queries", "join", ["K1"], '["K1", "K2", "K3"]', 0.0, 0.5),
    ("holistic-queries", "group_by", ["a: 1", "b: 2"], '["b: 2", "a: 1"]', 0.0, 1.0),
]


@pytest.mark.parametrize("family, variant, answers, reply, strict, partial", METRIC_CASES)
def test_family_metrics(family, variant, answers, reply, strict, partial):
    got = score(family, variant, json.dumps(answers), answers, reply)
    assert got == {"strict": strict, "partial": pytest.approx(partial)}
