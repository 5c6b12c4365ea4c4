"""lcgen score on hostile input: malformed prediction files, degenerate replies, damaged rows, unwritable targets.

Each refusal is one line on stderr naming the file and line (or sample), with a non-zero exit and nothing written;
the metrics (and the copies every dataset ships to the harnesses) are total on any string.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import types
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lcgen import metrics
from lcgen.validators.metrics import _replies as replies
from lcgen.errors import DatasetError
from lcgen.score import PredictionsError, load_predictions, score_dataset
from lcgen.tests.checks import assert_one_line

LCGEN = [sys.executable, "-c", "from lcgen.cli.main import main; main()"]


def run(*args, cwd: Path, unprivileged: bool = False) -> subprocess.CompletedProcess:
    """The real CLI; ``unprivileged`` takes away root's right to ignore permission bits, so folder modes bind."""
    prefix = []
    if unprivileged and os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: folder permissions do not bind")
        prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--"]
    return subprocess.run([*prefix, *LCGEN, *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ))


def rows_of(folder: Path) -> list[dict]:
    return [r for f in sorted(folder.rglob("*.parquet")) for r in pq.read_table(f).to_pylist()]


@pytest.fixture(scope="module")
def ds(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("bad-score")
    res = run("make", "needle-threads", "--len", "2k", "--variants", "single_needle,multiple_needles", "--depths",
              "50", "--workers", "1", "--out", "ds", cwd=root)
    assert res.returncode == 0, res.stderr
    return root / "ds"


def good_predictions(folder: Path) -> str:
    return "".join(json.dumps({"id": r["id"], "prediction": r["answer"]}) + "\n" for r in rows_of(folder))


# --- item 13: malformed prediction structures ----------------------------------------------------------------

DEEP = "[" * 5000 + "]" * 5000
OK = '{"id": "needle-threads/single_needle/2k/d50/0", "prediction": "x"}\n'
BAD_PREDICTIONS = [
    ("p.jsonl", '{"doc": 5, "filtered_resps": ["x"]}\n', ["p.jsonl", "line 1", "'doc'"]),
    ("p.jsonl", OK + '{"doc": {"x": 1}, "resps": [["x"]]}\n', ["line 2", "doc.id"]),
    ("p.jsonl", '{"doc": {"id": "a"}, "filtered_resps": {"a": 1}}\n', ["line 1", "reply"]),
    ("p.jsonl", '{"id": ["a"], "prediction": "x"}\n', ["line 1", "'id'"]),
    ("p.jsonl", '{"id": "a", "prediction": 5}\n', ["line 1", "'prediction'"]),
    ("p.jsonl", '{"id": "a", "prediction": ' + DEEP + "}\n", ["p.jsonl", "line 1", "nested too deeply"]),
    ("p.jsonl", '{"id": "a", "prediction": ' + "1" * 5000 + "}\n", ["line 1", "digits"]),
    ("p.jsonl", "\n" + OK + OK, ["line 3", "repeats id"]),
    ("log.json", '{"samples": [5]}', ["log.json", "sample 0", "not a JSON object"]),
    ("log.json", '{"samples": [{"output": {"completion": "x"}}]}', ["sample 0", "'id'"]),
    ("log.json", '{"samples": [{"id": "a", "output": "x"}]}', ["sample 0", "'output'"]),
    ("log.json", '{"samples": [{"id": "a", "output": {"choices": ["x"]}}]}', ["sample 0", "choices[0]"]),
    ("log.json", '{"samples": [{"id": "a", "output": {"choices": [{"message": {"content": [5]}}]}}]}',
     ["sample 0", "content[0]"]),
    ("log.json", '{"samples": [{"id": "a"}, {"id": "a"}]}', ["sample 1", "repeats id"]),
    ("log.json", '{"samples": ' + DEEP + "}", ["log.json", "nested too deeply"]),
    ("log.json", '{"samples": []}', ["log.json", "no samples"]),
]


THROUGH_CLI = [0, 5, 8, 10]  # lm-eval "doc": 5, deep nesting, samples not objects, output as a string


@pytest.mark.parametrize("name, content, needles", [BAD_PREDICTIONS[i] for i in THROUGH_CLI])
def test_malformed_predictions_are_one_line(ds, tmp_path, name, content, needles):
    (tmp_path / name).write_text(content)
    assert_one_line(run("score", str(ds), name, cwd=tmp_path), *needles)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # nothing written


@pytest.mark.parametrize("name, content, needles", BAD_PREDICTIONS)
def test_malformed_predictions_raise_one_line_errors(tmp_path, name, content, needles):
    """Every case, in-process (the CLI prints exactly this message)."""
    (tmp_path / name).write_text(content)
    with pytest.raises(PredictionsError) as caught:
        load_predictions(tmp_path / name)
    message = str(caught.value)
    assert "\n" not in message and all(needle in message for needle in needles), message


def test_eval_log_inspect_cannot_parse(ds, tmp_path):
    """A zip whose header is cut short: inspect_ai's reader fails inside, lcgen says so in one line."""
    pytest.importorskip("inspect_ai")
    with zipfile.ZipFile(tmp_path / "log.eval", "w") as z:
        z.writestr("header.json", '{"eval": ')
    assert_one_line(run("score", str(ds), "log.eval", cwd=tmp_path), "log.eval", "not a readable inspect_ai log")


# --- items 17, 18: damaged rows -------------------------------------------------------------------------------

def damaged(ds: Path, tmp_path: Path, column: str, value) -> tuple[Path, str]:
    """A copy of ``ds`` whose first single_needle row has ``column`` set to ``value``; (folder, that row's id)."""
    copy = tmp_path / "ds"
    shutil.copytree(ds, copy)
    (f,) = copy.glob("data/single_needle/*.parquet")
    table = pq.read_table(f)
    rows = table.to_pylist()
    rows[0][column] = value
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), f)
    (tmp_path / "p.jsonl").write_text(good_predictions(ds))
    return copy, rows[0]["id"]


DAMAGED = [
    ("answer", None, "answer is null"),
    ("answer", "", "answer is empty"),
    ("answers", None, "answers is null"),
    ("answers", [None], "answers[0] is null"),
    ("target_depth", None, "target_depth is null"),
    ("target_depth", float("nan"), "target_depth is nan"),
    ("variant", None, "variant is null"),
    ("task", None, "task is null"),
    ("meta", "{not json", "meta is not JSON"),
    ("meta", "[1, 2]", "meta is not a JSON object"),
    ("meta", None, "meta is null"),
    ("meta", DEEP, "meta is not JSON (nested too deeply)"),
]


@pytest.mark.parametrize("column, value, needle", [DAMAGED[i] for i in (0, 5, 8)])
def test_damaged_row_names_sample_and_column(ds, tmp_path, column, value, needle):
    folder, sample = damaged(ds, tmp_path, column, value)
    assert_one_line(run("score", str(folder), "p.jsonl", cwd=tmp_path), f"sample {sample}: {needle}")
    assert not (tmp_path / "lcgen-scores").exists()


@pytest.mark.parametrize("column, value, needle", DAMAGED)
def test_damaged_row_errors(ds, tmp_path, column, value, needle):
    """Every case, in-process."""
    folder, sample = damaged(ds, tmp_path, column, value)
    with pytest.raises(DatasetError) as caught:
        score_dataset(folder, load_predictions(tmp_path / "p.jsonl"))
    assert str(caught.value).startswith(f"sample {sample}: {needle}"), caught.value


def test_null_id_names_file_and_row(ds, tmp_path):
    folder, _ = damaged(ds, tmp_path, "id", None)
    assert_one_line(run("score", str(folder), "p.jsonl", cwd=tmp_path), "single_needle", "row 0", "id is null")


def test_empty_meta_object_scores(ds, tmp_path):
    folder, _ = damaged(ds, tmp_path, "meta", "{}")
    assert score_dataset(folder, load_predictions(tmp_path / "p.jsonl")).overall.means()["strict"] == 1.0


# --- item 15: where results go, and unwritable targets ------------------------------------------------------

@pytest.fixture()
def space(ds, tmp_path):
    """``ds`` (a copy), ``preds/p.jsonl`` in a read-only folder, and a writable ``work/``."""
    shutil.copytree(ds, tmp_path / "ds")
    (tmp_path / "preds").mkdir()
    (tmp_path / "preds/p.jsonl").write_text(good_predictions(ds))
    (tmp_path / "work").mkdir()
    (tmp_path / "preds").chmod(0o555)
    try:
        yield tmp_path
    finally:
        (tmp_path / "preds").chmod(0o755)


def test_read_only_predictions_folder_scores_into_lcgen_scores(space):
    root = space
    res = run("score", str(root / "ds"), str(root / "preds/p.jsonl"), cwd=root / "work", unprivileged=True)
    assert res.returncode == 0, res.stderr
    out = root / "work/lcgen-scores/ds"
    assert json.loads((out / "p.scores.json").read_text())["overall"]["strict"] == 1.0
    assert (out / "p.heatmap.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {Path('lcgen-scores/ds/p.scores.json')}" in res.stdout
    assert sorted(p.name for p in (root / "preds").iterdir()) == ["p.jsonl"]
    assert sorted(p.name for p in out.iterdir()) == ["p.heatmap.png", "p.scores.json"]


@pytest.mark.parametrize("where", ["cwd", "out"])
def test_unwritable_target_is_one_line(space, where):
    root = space
    args, cwd = (["--out", str(root / "preds")], root / "work") if where == "out" else ([], root / "preds")
    res = run("score", str(root / "ds"), str(root / "preds/p.jsonl"), *args, cwd=cwd, unprivileged=True)
    assert_one_line(res, "cannot write", "(Permission denied)")
    assert "single_needle" in res.stdout and "overall: strict 100.0%" in res.stdout  # the table still prints
    assert sorted(p.name for p in (root / "preds").iterdir()) == ["p.jsonl"]
    assert not (root / "work/lcgen-scores").exists()


def test_out_dir_is_made_and_used(ds, tmp_path):
    """Results go to --out and nowhere else. The predictions also carry a UTF-8 BOM and a raw U+2028 inside a JSON
    string (json.dumps(ensure_ascii=False) writes it so), neither of which breaks a JSONL line."""
    lines = [json.dumps({"id": r["id"], "prediction": r["answer"], "note": "a\u2028b"}, ensure_ascii=False)
             for r in rows_of(ds)]
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs/p.jsonl").write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    res = run("score", str(ds), "logs/p.jsonl", "--out", "results/run1", cwd=tmp_path)
    assert res.returncode == 0 and "overall: strict 100.0%" in res.stdout, res.stderr
    assert sorted(p.name for p in (tmp_path / "results/run1").iterdir()) == ["p.heatmap.png", "p.scores.json"]
    assert sorted(p.name for p in (tmp_path / "logs").iterdir()) == ["p.jsonl"]
    assert not (tmp_path / "lcgen-scores").exists()


@pytest.mark.parametrize("out, needles", [("file", ["cannot write", "file"]), ("DS/sub", ["--out", "dataset folder"])])
def test_bad_out_is_one_line(ds, tmp_path, out, needles):
    copy = tmp_path / "ds"
    shutil.copytree(ds, copy)
    (tmp_path / "file").write_text("x")
    (tmp_path / "p.jsonl").write_text(good_predictions(ds))
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    assert_one_line(run("score", "ds", "p.jsonl", "--out", out.replace("DS", "ds"), cwd=tmp_path), *needles)
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


# --- item 14: metrics total on any string ---------------------------------------------------------------------

UUID = "3f2a9c10-7b4e-4d21-9a0c-5e6f7a8b9c0d"
UUID2 = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
# (family, variant, answer, answers) in every shape the families write (see generators/*.py)
GOLDS = [
    ("needle-threads", "single_needle", UUID, [UUID]),
    ("needle-threads", "multiple_needles", json.dumps([UUID, UUID2]), [UUID, UUID2]),
    ("needle-threads", "conditional_needles", json.dumps([UUID, UUID2]), [UUID, UUID2]),
    ("needles", "multi_reasoning", "Ann Lee", ["Ann Lee"]),
    ("needles", "single_retrieval", "QX-4821", ["QX-4821"]),
    ("needles", "multi_retrieval", json.dumps(["QX-4821", "张伟"], ensure_ascii=False), ["QX-4821", "张伟"]),
    ("ancestral-trace", "nth_ancestor", "\\boxed{Ann Lee}", ["Ann Lee"]),
    ("ancestral-trace", "eldest_ancestor", "\\boxed{张伟}", ["张伟"]),
    ("ancestral-trace", "relation_distance", "\\boxed{5}", ["5"]),
    *[("holistic-queries", "aggregation", n, [n]) for n in ("42", "-3", "12.50", "1,234")],
    ("holistic-queries", "extreme", "K0193", ["K0193"]),
    ("holistic-queries", "selection", json.dumps(["K0193", "K0007"]), ["K0193", "K0007"]),
    ("holistic-queries", "group_by", json.dumps(["north: 12", "south: 3.50"]), ["north: 12", "south: 3.50"]),
]
FRAGMENTS = ["[", "]", "{", "}", '"', "\\boxed{", "\\text{", "```", "```json\n", "\n", ",", "-", ".", "1" * 5000,
             "[" * 3000, "]" * 3000, '{"a": [' * 1500, "\\boxed{" * 500,
             "9" * 400, "1e999", "NaN", "Infinity", "\\", UUID, "Ann Lee", "42", '["', '"]', "\ud800", "\x00"]
ANY_TEXT = st.text(alphabet=st.characters(exclude_categories=()), max_size=200)
CRAFTED = st.lists(st.one_of(st.sampled_from(FRAGMENTS), ANY_TEXT), max_size=12).map("".join)
DEGENERATE = ["[" * 1000, "[" * 100_000, "{" * 100_000, '{"a": ' * 5000, "\\boxed{" * 10_000, "\\boxed{" + "{" * 5000,
              "[" * 5000 + "]" * 5000, "[" + "1" * 5000 + "]", "1" * 5000, "-" + "1" * 100_000, "1" * 5000 + ".5",
              "```json\n" + "[" * 5000, "[" + "[" * 999 + "]" * 999 + "]", '["' + UUID + '", ' + "[" * 5000 + "]",
              "\\boxed{" + "\\text{" * 3000, "", None, 5, ["x"]]
EVERY_METRIC = sorted({(f, v) for f, v, *_ in GOLDS})


def check(result: dict, answers: list[str]) -> None:
    assert set(result) == set(metrics.METRICS)
    assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in result.values())
    if answers:
        assert result["strict"] <= result["partial"]


@pytest.mark.parametrize("gold", GOLDS)
def test_references_score_one(gold):
    assert metrics.score(*gold, gold[2]) == {"strict": 1.0, "partial": 1.0}


@pytest.mark.parametrize("gold", GOLDS)
def test_degenerate_replies_score(gold):
    for prediction in DEGENERATE:
        result = metrics.score(*gold, prediction)
        check(result, gold[3])
        assert result["strict"] == 0.0, prediction


@settings(max_examples=300, deadline=None)
@given(gold=st.sampled_from(GOLDS), prediction=st.one_of(ANY_TEXT, CRAFTED))
def test_score_is_total_on_any_text(gold, prediction):
    check(metrics.score(*gold, prediction), gold[3])


ANSWER_TEXT = st.text(alphabet=st.characters(exclude_categories=()), min_size=1, max_size=30)
NUMBER = st.from_regex(r"-?\d{1,6}(\.\d{2})?", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(items=st.lists(st.one_of(ANSWER_TEXT, NUMBER), min_size=1, max_size=4), which=st.sampled_from(EVERY_METRIC),
       prediction=st.one_of(ANY_TEXT, CRAFTED))
def test_every_metric_is_total_for_any_answer(items, which, prediction):
    family, variant = which
    answer = {"ancestral-trace": f"\\boxed{{{items[0]}}}"}.get(family, json.dumps(items, ensure_ascii=False))
    check(metrics.score(family, variant, answer, items, prediction), items)
    check(metrics.score(family, variant, items[0], items[:1], prediction), items[:1])
    boxed = replies.last_boxed(prediction)
    assert boxed is None or isinstance(boxed, str)


def load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_shipped_copies_are_total(ds):
    """The dataset's lcgen_metrics.py, and lm-eval's process_results that uses it, on degenerate replies."""
    shipped = load_module(ds / "lcgen_metrics.py", "shipped_lcgen_metrics")
    utils = load_module(ds / "harness/lm_eval/utils.py", "shipped_lm_eval_utils")
    for row in rows_of(ds):
        doc = {k: row[k] for k in ("task", "variant", "answer", "answers")}
        assert utils.process_results(doc, [row["answer"]]) == {"strict": 1.0, "partial": 1.0}
        for prediction in DEGENERATE:
            check(shipped.score(row["task"], row["variant"], row["answer"], row["answers"], prediction),
                  row["answers"])
            check(utils.process_results(doc, [prediction]), row["answers"])
        check(utils.process_results(doc, []), row["answers"])


def test_inspect_scorer_is_total(ds):
    pytest.importorskip("inspect_ai")
    task = load_module(ds / "harness/inspect_task.py", "shipped_inspect_task")
    scorer = task.lcgen_score()
    for row in rows_of(ds):
        metadata = {k: row[k] for k in ("task", "variant", "answers")}
        for prediction in [row["answer"], *(p for p in DEGENERATE if isinstance(p, str))]:
            state = types.SimpleNamespace(metadata=metadata, output=types.SimpleNamespace(completion=prediction))
            value = asyncio.run(scorer(state, types.SimpleNamespace(text=row["answer"]))).value
            check(value, row["answers"])
            assert value["strict"] == float(prediction == row["answer"])
