"""lcgen score over what the harnesses really write: an lm-eval --output_path folder (one samples file per task) and
an inspect log dir (one log per config and split), merged by sample id into one table, and nothing written there.

The harness outputs are made once per module by lm-eval's and inspect_ai's own Python APIs (the calls their CLIs
make), each in a subprocess, with models that reply with the gold answer for all samples but one.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lcgen.tests.checks import assert_one_line

if not (importlib.util.find_spec("lm_eval") and importlib.util.find_spec("inspect_ai")):  # found, not imported
    pytest.skip("needs lm-eval and inspect-ai (the [test] extra)", allow_module_level=True)

LCGEN = [sys.executable, "-c", "from lcgen.cli.main import main; main()"]
LM_WRONG = "needle-threads/threads/4k/d100/0"  # the one sample lm-eval's model gets wrong
INSPECT_WRONG = "needle-threads/single_needle/2k/d0/0"  # and inspect's
SAMPLES = 8  # 2 variants x 2 lengths x 2 depths

LM_EVAL = """
import json, os, sys
from lm_eval import simple_evaluate
from lm_eval.api.model import LM
from lm_eval.loggers import EvaluationTracker
from lm_eval.tasks import TaskManager

replies = json.loads(open(sys.argv[1]).read())

class Oracle(LM):
    def generate_until(self, requests, disable_tqdm=False):
        return [replies[r.arguments[0]] for r in requests]

    def loglikelihood(self, requests, disable_tqdm=False):
        raise NotImplementedError

    def loglikelihood_rolling(self, requests, disable_tqdm=False):
        raise NotImplementedError

# what `lm_eval --output_path OUT --log_samples` does after parsing its arguments (lm_eval/_cli/run.py)
tracker = EvaluationTracker(output_path=sys.argv[3])
manager = TaskManager(include_path=sys.argv[2], include_defaults=False)
results = simple_evaluate(model=Oracle(), model_args="pretrained=lcgen/oracle", tasks=["lcgen_needle_threads"],
                          task_manager=manager, log_samples=True, bootstrap_iters=0, evaluation_tracker=tracker)
samples = results.pop("samples")
tracker.save_results_aggregated(results=results, samples=samples)
for task_name in results["configs"]:
    tracker.save_results_samples(task_name=task_name, samples=samples[task_name])
"""

INSPECT = """
import importlib.util, json, sys
from inspect_ai import eval as inspect_eval
from inspect_ai.log import write_log_dir_manifest
from inspect_ai.model import ModelOutput, ModelUsage, get_model

replies, folder, log_dir = json.loads(open(sys.argv[1]).read()), sys.argv[2], sys.argv[3]
spec = importlib.util.spec_from_file_location("lcgen_task", folder + "/harness/inspect_task.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)

def oracle(messages, tools, tool_choice, config):
    out = ModelOutput.from_content(model="mockllm", content=replies[messages[-1].text])
    out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)  # else mockllm wants tiktoken files
    return out

def run(tasks, **kwargs):
    for log in inspect_eval(tasks, model=get_model("mockllm/model", custom_outputs=oracle), log_dir=log_dir,
                            display="none", **kwargs):
        assert log.status == "success", log.error

task = module.lcgen_needle_threads
run([task(config=c, split=s) for c in ("single_needle", "threads") for s in ("2k", "4k")])  # .eval logs
run([task(config="threads", split="2k")], log_format="json")  # the same split again, as a .json log
write_log_dir_manifest(log_dir)  # logs.json, as `inspect eval-set` leaves one
"""


def run(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*LCGEN, *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ))


def snapshot(folder: Path) -> dict[str, str]:
    """Every entry under ``folder``: sha256 of files, the target of links, 'dir' for folders."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.is_symlink():
            out[rel] = "-> " + os.readlink(p)
        elif p.is_dir():
            out[rel] = "dir"
        else:
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def rows_of(folder: Path) -> list[dict]:
    return [r for f in sorted(folder.rglob("*.parquet")) for r in pq.read_table(f).to_pylist()]


def harness(script: str, replies: dict[str, str], root: Path, name: str, *args: str) -> subprocess.Popen:
    """Start ``script`` (a harness run) in the background, its output in ``root/<name>.log``."""
    (root / f"{name}.json").write_text(json.dumps(replies))
    env = {**os.environ, "XDG_CACHE_HOME": str(root / "cache"), "PYTHONDONTWRITEBYTECODE": "1"}
    with open(root / f"{name}.log", "w") as log:
        return subprocess.Popen([sys.executable, "-c", script, str(root / f"{name}.json"), *args], cwd=root, env=env,
                                stdout=log, stderr=subprocess.STDOUT)


def finish(process: subprocess.Popen, log: Path) -> None:
    assert process.wait(timeout=300) == 0, log.read_text()[-3000:]


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    """``root`` with ``ds`` (8 samples), ``lm-out`` (lm-eval --output_path) and ``logs`` (inspect log dir)."""
    root = tmp_path_factory.mktemp("score-many")
    res = run("make", "needle-threads", "--len", "2k,4k", "--variants", "single_needle,threads", "--depths", "0,100",
              "--workers", "1", "--out", "ds", cwd=root)
    assert res.returncode == 0, res.stderr
    rows = rows_of(root / "ds")
    assert len(rows) == SAMPLES

    def replies(wrong: str) -> dict[str, str]:
        return {r["input"]: "no idea" if r["id"] == wrong else r["answer"] for r in rows}

    runs = {"lm-eval": harness(LM_EVAL, replies(LM_WRONG), root, "lm-eval", str(root / "ds/harness/lm_eval"),
                               str(root / "lm-out")),
            "inspect": harness(INSPECT, replies(INSPECT_WRONG), root, "inspect", str(root / "ds"), str(root / "logs"))}
    for name, process in runs.items():  # both run at once
        finish(process, root / f"{name}.log")
    return root


@pytest.fixture()
def work(made, tmp_path) -> Path:
    """A fresh working folder with links to the module's dataset and harness outputs."""
    for name in ("ds", "lm-out", "logs"):
        (tmp_path / name).symlink_to(made / name, target_is_directory=True)
    return tmp_path


def source_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if " from " in line and "prediction" in line]


def scores(work: Path, name: str = "scores.json") -> dict:
    return json.loads((work / "lcgen-scores/ds" / name).read_text())


def test_lm_eval_output_folder_is_one_merged_table(work):
    lm_out = work / "lm-out"
    (model_dir,) = lm_out.iterdir()
    before = snapshot(lm_out)
    assert len([p for p in before if "/samples_" in p]) == 4 and len([p for p in before if "/results_" in p]) == 1
    res = run("score", "ds", "lm-out", cwd=work)
    assert res.returncode == 0, res.stderr
    lines = source_lines(res.stdout)
    assert len(lines) == 4 and all(line.startswith(f"2 predictions from lm-out/{model_dir.name}/samples_lcgen_")
                                   for line in lines), res.stdout
    assert f"{SAMPLES} samples in ds: {SAMPLES} with a prediction, 0 without" in res.stdout
    assert f"overall: strict 87.5%, partial 87.5% over {SAMPLES} samples\n" in res.stdout
    data = scores(work)
    assert data["overall"]["strict"] == 7 / 8 and data["missing_predictions"] == 0
    assert [s["predictions"] for s in data["sources"]] == [2, 2, 2, 2]
    assert all(s["kind"] == "lm-eval" for s in data["sources"])
    assert sorted(p.name for p in (work / "lcgen-scores/ds").iterdir()) == ["heatmap.png", "scores.json"]
    assert snapshot(lm_out) == before  # nothing written into lm-eval's folder


def test_inspect_log_dir_is_one_merged_table_and_stays_readable(work):
    from inspect_ai.log import list_eval_logs, read_eval_log

    logs = work / "logs"
    before = snapshot(logs)
    assert sorted(Path(p).suffix for p in before) == [".eval"] * 4 + [".json"] * 2  # one is logs.json
    res = run("score", "ds", "logs", cwd=work)
    assert res.returncode == 0, res.stderr
    lines = source_lines(res.stdout)
    assert len(lines) == 5 and all(line.startswith("2 predictions from logs/20") for line in lines), res.stdout
    assert sum("(2 same as an earlier file, counted once)" in line for line in lines) == 1, res.stdout
    assert "logs.json" not in res.stdout
    assert f"{SAMPLES} samples in ds: {SAMPLES} with a prediction, 0 without" in res.stdout
    assert "overall: strict 87.5%, partial 87.5% over 8 samples\n" in res.stdout
    data = scores(work)
    assert data["overall"]["strict"] == 7 / 8
    assert sorted(s["same_as_earlier"] for s in data["sources"]) == [0, 0, 0, 0, 2]
    wrong = [c for c in data["cells"] if c["strict"] == 0]
    assert [(c["variant"], c["length"], c["depth"]) for c in wrong] == [("single_needle", "2k", 0)]
    assert snapshot(logs) == before
    listed = list_eval_logs(str(logs))
    assert len(listed) == 5 and all(read_eval_log(log.name).status == "success" for log in listed)


def test_different_replies_are_an_error_unless_the_later_source_is_preferred(work):
    res = run("score", "ds", "lm-out", "logs", cwd=work)
    line = assert_one_line(res, "different replies", "lm-out/", "samples_", "logs/20", "--on-conflict last")
    assert LM_WRONG in line or INSPECT_WRONG in line
    assert not (work / "lcgen-scores").exists()
    res = run("score", "ds", "lm-out", "logs", "--on-conflict", "last", cwd=work)
    assert res.returncode == 0, res.stderr
    assert "overall: strict 87.5%" in res.stdout  # inspect's replies, the later source, won
    data = scores(work)
    assert [(c["variant"], c["length"], c["depth"]) for c in data["cells"] if c["strict"] == 0] == [
        ("single_needle", "2k", 0)]
    assert sum(s["replaced_earlier"] for s in data["sources"]) == 2  # both samples the two models disagree on
    assert sum(s["same_as_earlier"] for s in data["sources"]) == SAMPLES - 2 + 2  # + the .json log's repeats
    assert sum("replaced an earlier reply" in line for line in source_lines(res.stdout)) == 2


def test_globs_are_expanded_sorted(work):
    res = run("score", "ds", "lm-out/*/samples_*_threads_threads_*.jsonl",
              "lm-out/**/samples_*_single_needle_4k_*.jsonl", cwd=work)
    assert res.returncode == 0, res.stderr
    lines = source_lines(res.stdout)
    assert [line.split("samples_lcgen_needle_threads_")[1].split("_20")[0] for line in lines] == [
        "threads_2k", "threads_4k", "single_needle_4k"]
    assert f"{SAMPLES} samples in ds: 6 with a prediction, 2 without (scored 0)" in res.stdout
    assert "overall: strict 62.5%" in res.stdout  # 5 right of 8
    assert scores(work)["overall"]["strict"] == 5 / 8


def test_one_file_keeps_its_name_and_a_foreign_source_is_named(work):
    rows = rows_of(work / "ds")
    ours = work / "p.jsonl"
    ours.write_text("".join(json.dumps({"id": i, "prediction": "x"}) + "\n"
                            for i in (rows[0]["id"], "other-dataset/x/1k/d0/0", "other-dataset/x/1k/d0/1")))
    res = run("score", "ds", "p.jsonl", cwd=work)
    assert res.returncode == 0, res.stderr
    assert "3 predictions from p.jsonl (2 not in ds)" in res.stdout
    data = scores(work, "p.scores.json")
    assert data["predictions_not_in_dataset"] == 2 and data["missing_predictions"] == SAMPLES - 1
    foreign = work / "foreign.jsonl"
    foreign.write_text(json.dumps({"id": "other-dataset/x/1k/d0/0", "prediction": "x"}) + "\n")
    assert_one_line(run("score", "ds", "lm-out", "foreign.jsonl", cwd=work), "foreign.jsonl", "not in ds",
                    "another dataset")


def test_symlink_loops_end_and_each_file_is_read_once(work):
    copy = work / "copy"
    model = next((work / "lm-out").iterdir())
    (copy / "run").mkdir(parents=True)
    for f in model.iterdir():
        (copy / "run" / f.name).write_bytes(f.read_bytes())
    (copy / "run/loop").symlink_to("..", target_is_directory=True)
    (copy / "self").symlink_to(".", target_is_directory=True)
    (copy / "alias").symlink_to("run", target_is_directory=True)  # the same folder twice, not a loop
    res = run("score", "ds", "copy", "copy/**/*.jsonl", cwd=work)
    assert res.returncode == 0, res.stderr
    assert len(source_lines(res.stdout)) == 4  # each file read once, however many ways it is reached
    assert "overall: strict 87.5%" in res.stdout


def make_big(work: Path) -> str:
    big = work / "big"
    big.mkdir()
    for i in range(10_001):
        (big / f"f{i:05}").touch()
    return "big"


def make_deep(work: Path) -> str:
    deep = work / "deep"
    (deep / ("d/" * 12)).mkdir(parents=True)
    return "deep"


def make_no_logs(work: Path) -> str:
    """What a folder of other things holds: lm-eval's results file, inspect's manifest, notes."""
    folder = work / "nologs"
    folder.mkdir()
    for name in ("results_2026-01-01T00-00-00.json", "logs.json", "notes.txt", "eval-set.json"):
        (folder / name).write_text("{}")
    return "nologs"


ERRORS = [
    (lambda work: "missing.jsonl", ["missing.jsonl", "no such predictions file or folder"]),
    (lambda work: (work / "empty").mkdir() or "empty", ["empty", "no lm-eval samples_*.jsonl or inspect log"]),
    (make_no_logs, ["nologs", "no lm-eval samples_*.jsonl or inspect log", "4 files"]),
    (lambda work: "lm-out/*/samples_*_holistic_*.jsonl", ["lm-out/*/samples_*_holistic_*.jsonl", "matches nothing"]),
    (make_big, ["big", "more than 10,000"]),
    (make_deep, ["deep", "deeper than"]),
]


@pytest.mark.parametrize("make_arg, needles", ERRORS, ids=["missing", "empty", "no-logs", "glob", "big", "deep"])
def test_bad_sources_are_one_line(work, make_arg, needles):
    arg = make_arg(work)
    before = snapshot(work)
    assert_one_line(run("score", "ds", "lm-out", arg, cwd=work), *needles)
    assert snapshot(work) == before and not (work / "lcgen-scores").exists()


@pytest.mark.parametrize("out, cwd", [("lm-out/scores", "."), ("logs", "."), (None, "logs")])
def test_results_never_go_into_a_prediction_folder(work, out, cwd):
    before = {name: snapshot(work / name) for name in ("lm-out", "logs")}
    args = ["--out", out] if out else []
    where = work / cwd
    dataset, preds = os.path.relpath(work / "ds", where), os.path.relpath(work / "lm-out", where)
    (single,) = (work / "logs").glob("20*.json")  # an inspect log read without importing inspect
    res = run("score", dataset, preds, os.path.relpath(single, where), *args, cwd=where)
    assert_one_line(res, "--out", "holds predictions being scored")
    assert {name: snapshot(work / name) for name in ("lm-out", "logs")} == before
