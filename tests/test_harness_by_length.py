"""The by-length lm-eval layout (a family declaring ``lm_eval_tasks``, as ruler does: one task per config over every
length, one metric per length, the answer prefix as ``gen_prefix``), run for real and offline under lm-eval.

Two datasets: a real small ruler one (when the family is installed), and needle-threads registered again with
``lm_eval_tasks`` and a plan that adds ``answer_prefix``/``tokens_to_generate`` to one variant's meta, which covers
what ruler does not: a variant without a prefix or a budget, one the mapping does not name, and several splits per
config read through the loader. One ``lm_eval --model dummy`` run covers both groups; an oracle model (in-process)
checks every prompt is ``input`` + the prefix and every length scores 1.0; the Hub variant of the files is loaded
from a local Hub-compatible server.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lcgen import registry
from lcgen.dataset import iter_splits
from lcgen.harness import (SplitSizes, gen_budget, length_tasks, relocated_files, rewrite_dataset_path, run_section,
                           split_sizes, write_harness_files)
from lcgen.make import MakeRequest, make

pytest.importorskip("lm_eval")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ROOT = Path(__file__).resolve().parent.parent
LCGEN = [sys.executable, "-c", "from lcgen.cli.main import main; main()"]
OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_DATASETS_DISABLE_PROGRESS_BARS": "1"}

FAKE = "needle-threads"
FAKE_GROUP = "lcgen_needle_threads"
FAKE_MAP = {"threads": "nt_threads"}  # multiple_needles is not named: it gets lcgen_needle_threads_multiple_needles
FAKE_TASKS = {"threads": "lcgen_nt_threads", "multiple_needles": "lcgen_needle_threads_multiple_needles"}
PREFIX = "Answer:"  # the threads rows' meta.answer_prefix (multiple_needles rows have none)
BUDGET = 40  # the threads rows' meta.tokens_to_generate
OTHER = {"2000": "3000", "3000": "2000"}  # a sample's length -> the other length's metric

# lm-eval 0.4.13's own ruler group (lm_eval/tasks/ruler/ruler.yaml), in its order
RULER_ORDER = ["niah_single_1", "niah_single_2", "niah_single_3", "niah_multikey_1", "niah_multikey_2",
               "niah_multikey_3", "niah_multiquery", "niah_multivalue", "ruler_vt", "ruler_cwe", "ruler_fwe",
               "ruler_qa_squad", "ruler_qa_hotpot"]
# RULER's generation budget per task (meta.tokens_to_generate); lm-eval's ruler YAMLs set the same max_gen_toks
RULER_BUDGET = {"niah": 128, "vt": 30, "cwe": 120, "fwe": 50, "qa": 32}
RULER_VARIANTS = ["niah_single_1", "niah_single_2", "niah_single_3", "niah_multikey_1", "niah_multikey_2",
                  "niah_multikey_3", "niah_multivalue", "niah_multiquery", "vt", "cwe", "fwe", "qa_1", "qa_2"]  # all


def _with_prefix(plan):
    """needle-threads' plan, with a RULER-like answer prefix and generation budget in the threads rows' meta."""

    @functools.wraps(plan)  # make() reads the plan's signature
    def wrapped(params, variant, depth, rng, **extra):
        sp = plan(params, variant, depth, rng, **extra)
        if variant == "threads":
            sp = dataclasses.replace(sp, meta={**sp.meta, "answer_prefix": PREFIX, "tokens_to_generate": BUDGET})
        return sp

    return wrapped


@pytest.fixture(scope="module")
def fake_family():
    """needle-threads registered again with ``lm_eval_tasks`` (and the prefixed plan) for this module."""
    spec = registry.families.get(FAKE)
    fake = dataclasses.replace(spec, lm_eval_tasks=FAKE_MAP, plan=_with_prefix(spec.plan))
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(registry.families._items, FAKE, fake)
        yield fake


@pytest.fixture(scope="module")
def datasets_dir(tmp_path_factory) -> Path:
    """The parent folder of both datasets (one ``--include_path`` for both groups)."""
    return tmp_path_factory.mktemp("by-length")


@pytest.fixture(scope="module")
def fake(fake_family, datasets_dir) -> Path:
    out = datasets_dir / "nt"
    make(MakeRequest(family=FAKE, lengths=[2000, 3000], depths=[10.0, 90.0], variants=list(FAKE_TASKS)), out)
    return out


@pytest.fixture(scope="module")
def ruler(datasets_dir) -> Path | None:
    """A small ruler dataset, or None when the family is not installed."""
    if "ruler" not in registry.families:
        return None
    out = datasets_dir / "ruler"
    make(MakeRequest(family="ruler", lengths=[2000, 3000], depths=[50.0], variants=RULER_VARIANTS, seed=1), out)
    return out


def rows_of(folder: Path, config: str) -> list[dict]:
    """Every row of one config, in split (card) order: the order of the task's test set."""
    return [r for c, _, files, _ in iter_splits(folder) if c == config for f in files
            for r in pq.read_table(f).to_pylist()]


def configs_of(folder: Path) -> list[str]:
    return list(dict.fromkeys(c for c, _, _, _ in iter_splits(folder)))


def lm_eval_yaml(path: Path) -> dict:
    """A task YAML as lm-eval reads it (``!function`` left unresolved, ``include`` merged)."""
    from lm_eval.tasks._yaml_loader import load_yaml

    return load_yaml(path, resolve_func=False)


def load_utils(folder: Path):
    """The dataset's ``harness/lm_eval/utils.py``, imported by path."""
    path = folder / "harness/lm_eval/utils.py"
    spec = importlib.util.spec_from_file_location(f"utils_{hashlib.sha1(str(path).encode()).hexdigest()}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def prompt_of(row: dict) -> str:
    """What lm-eval sends for a row: ``input``, then the answer prefix (a space between unless either has one)."""
    prefix = json.loads(row["meta"]).get("answer_prefix") or ""
    if not prefix:
        return row["input"]
    space = "" if row["input"][-1:].isspace() or prefix[0].isspace() else " "
    return row["input"] + space + prefix


@pytest.fixture()
def env(tmp_path, monkeypatch) -> dict[str, str]:
    """Offline, with datasets' cache in the test's own folder."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf-datasets"))
    return {**os.environ, **OFFLINE, "XDG_CACHE_HOME": str(tmp_path / "cache"),
            "HF_DATASETS_CACHE": str(tmp_path / "hf-datasets")}


def test_files_written(fake, fake_family, tmp_path):
    lm = fake / "harness/lm_eval"
    tasks = list(FAKE_TASKS.values())
    assert sorted(p.name for p in lm.iterdir()) == sorted(
        [f"_{FAKE_GROUP}_base.yaml", f"{FAKE_GROUP}.yaml", "utils.py", *(f"{t}.yaml" for t in tasks)])
    for config, task in FAKE_TASKS.items():
        cfg = lm_eval_yaml(lm / f"{task}.yaml")
        rows = rows_of(fake, config)
        assert cfg["task"] == task and cfg["test_split"] == "test" and cfg["output_type"] == "generate_until"
        assert cfg["custom_dataset"].endswith("utils.load_local") and "dataset_path" not in cfg
        assert cfg["doc_to_text"] == "{{input}}" and cfg["gen_prefix"] == "{{gen_prefix}}"
        assert cfg["target_delimiter"] == " " and cfg["process_results"].endswith("utils.process_results")
        assert [m["metric"] for m in cfg["metric_list"]] == ["2000", "3000"]
        assert all(m["aggregation"].endswith("utils.aggregate_metrics") and m["higher_is_better"] is True
                   for m in cfg["metric_list"])
        budget = BUDGET if config == "threads" else gen_budget(max(len(r["answer"].encode()) for r in rows))
        assert cfg["generation_kwargs"] == {"do_sample": False, "temperature": 0.0, "max_gen_toks": budget,
                                            "until": []}
        assert cfg["metadata"]["lcgen_config"] == config
    group = lm_eval_yaml(lm / f"{FAKE_GROUP}.yaml")
    assert group["group"] == FAKE_GROUP and group["task"] == tasks
    assert group["aggregate_metric_list"] == [{"metric": "2000", "weight_by_size": False},
                                              {"metric": "3000", "weight_by_size": False}]

    # the inspect task file and the metric are the default layout's, byte for byte
    plain = tmp_path / "plain"
    shutil.copytree(fake, plain, ignore=shutil.ignore_patterns("harness", "__pycache__"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(registry.families._items, FAKE, dataclasses.replace(fake_family, lm_eval_tasks=None))
        write_harness_files(plain, FAKE, [(c, s) for c, s, _, _ in iter_splits(plain)])
    for rel in ("harness/inspect_task.py", "lcgen_metrics.py"):
        assert (plain / rel).read_bytes() == (fake / rel).read_bytes()

    res = subprocess.run([shutil.which("ruff") or "ruff", "check", "--no-cache", "--config",
                          str(ROOT / "pyproject.toml"), str(fake / "harness")], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_card_names_the_tasks_and_sizes_max_length(fake, fake_family):
    """The card make wrote (its "Run it" section rendered again once the rows' facts are known) is the section
    rendered from the folder, with the by-length task names and budgets and a max_length that counts the prefix."""
    sizes = [split_sizes(fake, c, s) for c, s, _, _ in iter_splits(fake)]
    section = run_section(sizes, FAKE).strip()
    card = (fake / "README.md").read_text()
    assert section in card
    longest_answer = max(len(r["answer"].encode()) for r in rows_of(fake, "multiple_needles"))
    budgets = {"threads": BUDGET, "multiple_needles": gen_budget(longest_answer)}
    listed = ", ".join(f"`{FAKE_TASKS[c]}` (`max_gen_toks` {budgets[c]})" for c in FAKE_TASKS)
    assert f"- `--tasks` takes the group or any one task (each covers every length of its config): {listed}." in card
    assert f"--tasks {FAKE_GROUP} " in card and "named by the length in tokens (`2000`, `3000`)" in card
    longest = max(len(r["input"].encode()) + (len(PREFIX) + 1 if c == "threads" else 0) + 1 + budgets[c] + 1
                  for c in FAKE_TASKS for r in rows_of(fake, c))
    assert f"tokenizer_backend=None,max_length={longest} " in card
    assert "_2k`" not in card.split("## Run it")[1].split("**inspect_ai**")[0]  # no per-split lm-eval task names


def test_loader_process_results_and_aggregation(fake, env):
    utils = load_utils(fake)
    for config in FAKE_TASKS:
        rows = rows_of(fake, config)
        test = utils.load_local(lcgen_config=config, version="x", lcgen_version="y")  # lm-eval passes metadata
        assert list(test) == ["test"]
        docs = test["test"].to_list()
        assert [d["id"] for d in docs] == [r["id"] for r in rows] and len(rows) == 4  # 2 lengths x 2 depths
        assert [d["target_length"] for d in docs] == [d["max_length"] for d in docs] == [2000, 2000, 3000, 3000]
        assert {d["gen_prefix"] for d in docs} == {PREFIX if config == "threads" else ""}
        for doc in docs:
            own = str(doc["target_length"])
            assert utils.process_results(doc, [doc["answer"]]) == {own: 1.0, OTHER[own]: -1.0}
            assert utils.process_results(doc, ["not it"]) == {own: 0.0, OTHER[own]: -1.0}
    assert utils.aggregate_metrics([1.0, -1.0, 0.5, -1.0]) == 0.75
    assert utils.aggregate_metrics([-1.0, -1.0]) == -1.0
    with pytest.raises(ValueError, match="not in these task files"):
        utils.load_local(lcgen_config="nope")


def test_reserved_output_counts_in_the_length(fake_family, tmp_path, env):
    """With ``--reserve-output`` the prompt is shorter than the length asked for; the metric is named by the length
    asked for (lm-eval's ruler names the whole sequence, prompt and reply), as in the card."""
    out = tmp_path / "reserved"
    make(MakeRequest(family=FAKE, lengths=[2000], depths=[50.0], variants=["threads"], reserve_output=100), out)
    cfg = lm_eval_yaml(out / "harness/lm_eval/lcgen_nt_threads.yaml")
    assert [m["metric"] for m in cfg["metric_list"]] == ["2000"]
    (doc,) = load_utils(out).load_local(lcgen_config="threads")["test"].to_list()
    assert (doc["target_length"], doc["max_length"]) == (1900, 2000)
    assert load_utils(out).process_results(doc, [doc["answer"]]) == {"2000": 1.0}
    assert "named by the length in tokens (`2000`)" in (out / "README.md").read_text()


def test_group_order_follows_lm_evals_own_group():
    """Tasks named after lm-eval's ruler tasks are listed in its group's order, whatever the card order; others
    after them in card order (the family's declaration order need not be lm-eval's)."""
    mapping = {"qa_2": "ruler_qa_hotpot", "niah_multivalue": "niah_multivalue", "other": None,
               "niah_multiquery": "niah_multiquery", "vt": "ruler_vt", "niah_single_1": "niah_single_1"}
    sizes = [SplitSizes(v, "2k", 1, 3, 10, v, 2000, None, 0) for v in mapping]
    spec = dataclasses.replace(registry.families.get(FAKE), lm_eval_tasks={k: v for k, v in mapping.items() if v})
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(registry.families._items, FAKE, spec)
        names = [t.task for t in length_tasks(FAKE, sizes)]
    assert names == ["lcgen_niah_single_1", "lcgen_niah_multiquery", "lcgen_niah_multivalue", "lcgen_ruler_vt",
                     "lcgen_ruler_qa_hotpot", "lcgen_needle_threads_other"]
    if "ruler" in registry.families:  # the ruler family declares lm-eval's names for all 13 tasks
        declared = registry.families.get("ruler").lm_eval_tasks
        assert sorted(declared.values()) == sorted(RULER_ORDER)
        sizes = [SplitSizes(v, "2k", 1, 3, 10, v, 2000, None, 0) for v in reversed(list(declared))]
        assert [t.task for t in length_tasks("ruler", sizes)] == [f"lcgen_{n}" for n in RULER_ORDER]


def test_ruler_files_mirror_lm_evals_ruler(ruler):
    if ruler is None:
        pytest.skip("the ruler family is not installed")
    lm = ruler / "harness/lm_eval"
    declared = registry.families.get("ruler").lm_eval_tasks
    assert lm_eval_yaml(lm / "lcgen_ruler.yaml")["task"] == [f"lcgen_{n}" for n in RULER_ORDER]
    for variant in RULER_VARIANTS:
        cfg = lm_eval_yaml(lm / f"lcgen_{declared[variant]}.yaml")
        budget = RULER_BUDGET[variant.split("_")[0]]
        assert cfg["generation_kwargs"] == {"do_sample": False, "temperature": 0.0, "max_gen_toks": budget,
                                            "until": []}
        assert [m["metric"] for m in cfg["metric_list"]] == ["2000", "3000"]
        assert all(json.loads(r["meta"])["answer_prefix"] for r in rows_of(ruler, variant))
    card = (ruler / "README.md").read_text()
    assert run_section([split_sizes(ruler, c, s) for c, s, _, _ in iter_splits(ruler)], "ruler").strip() in card


def test_lm_eval_cli_dummy_runs_every_task(fake, ruler, datasets_dir, tmp_path, env):
    """``lm_eval --model dummy`` over both groups at once, from an unrelated working directory."""
    expected = {FAKE_GROUP: {t: c for c, t in FAKE_TASKS.items()}}
    folders = {FAKE_GROUP: fake}
    if ruler is not None:
        declared = registry.families.get("ruler").lm_eval_tasks
        expected["lcgen_ruler"] = {f"lcgen_{declared[c]}": c for c in configs_of(ruler)}
        folders["lcgen_ruler"] = ruler
    res = subprocess.run([sys.executable, "-m", "lm_eval", "--model", "dummy", "--tasks", ",".join(expected),
                          "--include_path", str(datasets_dir), "--output_path", str(tmp_path / "out"),
                          "--log_samples"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    (results_file,) = tmp_path.glob("out/**/results_*.json")
    results = json.loads(results_file.read_text())
    keys = {"2000,none", "2000_stderr,none", "3000,none", "3000_stderr,none"}
    for group, tasks in expected.items():
        total = 0
        for task, config in tasks.items():
            rows = rows_of(folders[group], config)
            total += len(rows)
            assert results["n-samples"][task] == {"original": len(rows), "effective": len(rows)}
            assert keys <= set(results["results"][task]) and "strict,none" not in results["results"][task]
            assert results["results"][task]["2000,none"] == results["results"][task]["3000,none"] == 0.0  # "lol"
            (samples_file,) = tmp_path.glob(f"out/**/samples_{task}_*.jsonl")
            samples = [json.loads(line) for line in samples_file.read_text().splitlines()]
            assert sorted(s["doc"]["id"] for s in samples) == sorted(r["id"] for r in rows)
            by_id = {r["id"]: r for r in rows}
            for s in samples:
                row = by_id[s["doc"]["id"]]
                assert s["arguments"]["gen_args_0"]["arg_0"] == prompt_of(row)
                own = str(row["target_length"])
                assert s[own] == 0.0 and s[OTHER[own]] == -1.0
        assert results["groups"][group]["2000,none"] == results["groups"][group]["3000,none"] == 0.0
        assert results["groups"][group]["sample_count"] == {"2000,none": total, "3000,none": total}
    assert set(results["results"]) == {t for tasks in expected.values() for t in tasks} | set(expected)


def run_oracle(include_path: Path, groups: list[str], answers: dict[str, str]) -> dict:
    """lm-eval's Python API with a model that answers each prompt correctly (and fails on an unknown prompt)."""
    from lm_eval import simple_evaluate
    from lm_eval.api.model import LM
    from lm_eval.tasks import TaskManager

    class Oracle(LM):
        def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:
            return [answers[r.arguments[0]] for r in requests]  # the prompt must be input + prefix, verbatim

        def loglikelihood(self, requests, disable_tqdm: bool = False):
            raise NotImplementedError

        def loglikelihood_rolling(self, requests, disable_tqdm: bool = False):
            raise NotImplementedError

    manager = TaskManager(include_path=str(include_path), include_defaults=False)
    return simple_evaluate(model=Oracle(), tasks=groups, task_manager=manager, bootstrap_iters=0)


def check_oracle(out: dict, group: str, tasks: list[str]) -> None:
    for name in [*tasks, group]:
        assert out["results"][name]["2000,none"] == out["results"][name]["3000,none"] == 1.0, name


def test_lm_eval_oracle_scores_one_from_a_moved_folder(fake, ruler, tmp_path, env, monkeypatch):
    moved = tmp_path / "elsewhere"
    shutil.copytree(fake, moved / "nt")
    groups, tasks = [FAKE_GROUP], list(FAKE_TASKS.values())
    answers = {prompt_of(r): r["answer"] for c in FAKE_TASKS for r in rows_of(fake, c)}
    if ruler is not None:
        shutil.copytree(ruler, moved / "ruler")
        declared = registry.families.get("ruler").lm_eval_tasks
        groups.append("lcgen_ruler")
        tasks += [f"lcgen_{declared[c]}" for c in configs_of(ruler)]
        answers |= {prompt_of(r): r["answer"] for c in configs_of(ruler) for r in rows_of(ruler, c)}
    monkeypatch.chdir(tmp_path)
    out = run_oracle(moved, groups, answers)
    check_oracle(out, FAKE_GROUP, list(FAKE_TASKS.values()))
    if ruler is not None:
        check_oracle(out, "lcgen_ruler", tasks[len(FAKE_TASKS):])


def test_rewrite_dataset_path(fake, tmp_path, env, monkeypatch):
    copy = tmp_path / "copy"
    shutil.copytree(fake, copy, ignore=shutil.ignore_patterns("__pycache__"))
    original = {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    base = copy / f"harness/lm_eval/_{FAKE_GROUP}_base.yaml"
    texts = relocated_files(copy, "org/name", revision="v1.0")  # what publish uploads; the folder stays as it is
    assert {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()} == original
    assert list(texts) == [base.relative_to(copy).as_posix(), "harness/inspect_task.py"]

    assert rewrite_dataset_path(copy, "org/name", revision="v1.0") == list(texts)
    cfg = lm_eval_yaml(base)
    assert cfg["custom_dataset"].endswith("utils.load_hub") and "dataset_path" not in cfg
    assert cfg["dataset_kwargs"] == {"lcgen_dataset_path": "org/name", "lcgen_revision": "v1.0"}
    assert 'DATASET_PATH: str | None = "org/name"' in (copy / "harness/inspect_task.py").read_text()
    assert "lcgen_revision" not in relocated_files(copy, "org/name")[base.relative_to(copy).as_posix()]

    # utils.load_hub through lm-eval's dataset_kwargs (datasets.load_dataset(path, config, revision=...), the
    # route a repo id takes, short of the network): point it at the original folder
    rewrite_dataset_path(copy, fake)
    assert lm_eval_yaml(base)["dataset_kwargs"] == {"lcgen_dataset_path": str(fake.resolve())}
    monkeypatch.chdir(tmp_path)
    out = run_oracle(copy / "harness/lm_eval", [FAKE_GROUP],
                     {prompt_of(r): r["answer"] for c in FAKE_TASKS for r in rows_of(fake, c)})
    check_oracle(out, FAKE_GROUP, list(FAKE_TASKS.values()))

    rewrite_dataset_path(copy, None)
    assert {p: p.read_bytes() for p in copy.rglob("*") if p.is_file() and "__pycache__" not in p.parts} == original


HUB_LOAD = r"""
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("utils", sys.argv[1])
utils = importlib.util.module_from_spec(spec)
spec.loader.exec_module(utils)
out = {}
for config in json.loads(sys.argv[4]):
    docs = utils.load_hub(lcgen_config=config, lcgen_dataset_path=sys.argv[2], lcgen_revision=sys.argv[3])["test"]
    out[config] = [[d["id"], d["gen_prefix"], utils.process_results(d, [d["answer"]])] for d in docs]
print(json.dumps(out))
"""


def test_hub_variant_loads_the_published_release(fake, tmp_path):
    """``lcgen publish`` to a local Hub-compatible server; the uploaded base YAML points ``utils.load_hub`` at the
    repo and tag, which reads every split of a config from there through the real ``datasets`` client."""
    from lcgen.tests.hub_server import client_env, serving

    repo, token = "lcgen-test/nt-by-length", "hf_test_token"
    for hub in serving({token: "lcgen-test"}):
        env = client_env(hub, tmp_path / "home", token)
        res = subprocess.run([*LCGEN, "publish", str(fake), "--repo", repo, "--version", "1.0.0"], env=env,
                             capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr
        files = hub.files_at(repo, "v1.0.0")
        rel = f"harness/lm_eval/_{FAKE_GROUP}_base.yaml"
        assert files[rel].decode() == relocated_files(fake, repo, "v1.0.0")[rel]
        downloaded = tmp_path / "downloaded"  # the folder with the release's harness files
        shutil.copytree(fake, downloaded, ignore=shutil.ignore_patterns("harness"))
        for path, data in files.items():
            if path.startswith("harness/"):
                (downloaded / path).parent.mkdir(parents=True, exist_ok=True)
                (downloaded / path).write_bytes(data)
        res = subprocess.run([sys.executable, "-c", HUB_LOAD, str(downloaded / "harness/lm_eval/utils.py"), repo,
                              "v1.0.0", json.dumps(list(FAKE_TASKS))], env=env, capture_output=True, text=True,
                             timeout=120)
        assert res.returncode == 0, res.stderr[-3000:]
        assert hub.state.outside == [] and hub.state.errors == []
    got = json.loads(res.stdout)
    for config in FAKE_TASKS:
        rows = rows_of(fake, config)
        assert [g[0] for g in got[config]] == [r["id"] for r in rows]
        assert {g[1] for g in got[config]} == {PREFIX if config == "threads" else ""}
        assert all(g[2][str(r["target_length"])] == 1.0 for g, r in zip(got[config], rows))
