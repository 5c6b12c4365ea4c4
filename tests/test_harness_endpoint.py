"""The harness commands in a dataset's card, run as printed with the real ``lm_eval`` and ``inspect`` CLIs against a
local OpenAI-compatible server (``tests/openai_server.py``, 127.0.0.1 only).

Checked here: every prompt arrives whole and byte-equal to its ``input``, the scores are exact (the server answers
one sample wrongly on purpose), and an errored inspect run, which still exits 0, is found by the card's check.
The lm-eval behaviours the card warns about (cutting prompts with a tokenizer backend and the default
``max_length``, the message list sent as a prompt) are shown through lm-eval's own model classes.
``docs/harnesses.md`` shows the commands of this same dataset; a test checks they are the card's, character for
character. A release published to a local Hub-compatible server gets a card whose download line, run as printed,
fetches task files that read the repo at its tag.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
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

from lcgen.harness import gen_budget, lm_eval_max_length, split_sizes
from lcgen.make import MakeRequest, make
from lcgen.tests.openai_server import UNKNOWN, OpenAIServer

pytest.importorskip("lm_eval")
pytest.importorskip("inspect_ai")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ROOT = Path(__file__).resolve().parent.parent
LCGEN = [sys.executable, "-c", "from lcgen.cli.main import main; main()"]
# docs/harnesses.md shows the card of exactly this dataset
MAKE = ["needle-threads", "--len", "2k,4k", "--variants", "single_needle", "--depths", "50", "--samples", "2"]
GROUP = "lcgen_needle_threads"
SPLITS = [("single_needle", "2k"), ("single_needle", "4k")]
MODEL = "test-model"
WRONG = "not the answer"


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """The working directory of every run; the dataset is ``nt`` inside it, made through the CLI."""
    work = tmp_path_factory.mktemp("endpoint")
    res = subprocess.run([*LCGEN, "make", *MAKE, "--out", str(work / "nt")], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    return work


def rows(work: Path) -> dict[str, list[dict]]:
    return {split: pq.read_table(sorted((work / "nt").glob(f"data/{config}/{split}-*.parquet"))[0]).to_pylist()
            for config, split in SPLITS}


@pytest.fixture()
def server(work):
    """Answers every sample right but the first of 2k, so strict = partial = 0.5 on 2k and 1.0 on 4k."""
    by_split = rows(work)
    replies = {r["input"]: r["answer"] for split_rows in by_split.values() for r in split_rows}
    replies[by_split["2k"][0]["input"]] = WRONG
    with OpenAIServer(replies, model=MODEL) as stub:
        yield stub


def run_blocks(card: str) -> list[str]:
    """The ```bash blocks of the card's "Run it" section."""
    section = card[card.index("\n## Run it\n"):]
    section = section[: section.index("\n## ", 1)]
    return re.findall(r"^```bash\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL)


def fill(block: str, stub: OpenAIServer) -> str:
    return (block.replace("<dataset>", "nt").replace("<base-url>", stub.url).replace("<model>", MODEL)
            .replace("<api-key>", "test-key"))


def sh(work: Path, block: str, **env: str) -> subprocess.CompletedProcess:
    """One card block through bash, offline, with lm_eval, inspect and hf from this interpreter's environment."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
           "HF_DATASETS_CACHE": str(work / "hf-datasets"), "XDG_CACHE_HOME": str(work / "cache"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}", **env}
    return subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=work, env=env, capture_output=True,
                          text=True, timeout=300)


def card_blocks(work: Path) -> list[str]:
    blocks = run_blocks((work / "nt" / "README.md").read_text())
    assert len(blocks) == 3  # lm-eval completions, lm-eval chat, inspect
    return blocks


def lm_eval_results(out: Path) -> dict[str, tuple[float, float]]:
    (results_file,) = out.glob("**/results_*.json")
    results = json.loads(results_file.read_text())
    return {task: (r["strict,none"], r["partial,none"]) for task, r in results["results"].items()}


EXPECTED = {GROUP: (0.75, 0.75), f"{GROUP}_single_needle_2k": (0.5, 0.5), f"{GROUP}_single_needle_4k": (1.0, 1.0)}


def test_card_numbers_and_docs_commands(work):
    by_split = rows(work)
    longest = {split: max(len(r["input"].encode()) for r in rs) for split, rs in by_split.items()}
    budget = {split: gen_budget(max(len(r["answer"].encode()) for r in rs)) for split, rs in by_split.items()}
    max_length = max(longest[s] + 1 + budget[s] + 1 for s in longest)
    assert lm_eval_max_length([split_sizes(work / "nt", c, s) for c, s in SPLITS]) == max_length
    completions, chat, inspect = card_blocks(work)
    assert f",tokenizer_backend=None,max_length={max_length} " in completions
    assert "--apply_chat_template" in chat and "max_length" not in chat
    assert "for run in single_needle/2k single_needle/4k; do" in inspect
    docs = (ROOT / "docs" / "harnesses.md").read_text()
    for block in (completions, chat, inspect):
        assert f"```bash\n{block}```" in docs, f"docs/harnesses.md lacks the card's block:\n{block}"


def test_published_card_downloads_the_release_then_runs_the_same_commands(work):
    """``lcgen publish`` to a local Hub-compatible server; the published card's download line, run as printed,
    fetches task files that read the repo at the tag, and its other blocks are the folder card's."""
    from lcgen.tests.hub_server import HubServer

    hub = HubServer({"hf_test_token": "lcgen-test"}).start()
    try:
        home = work / "hub-home"
        env = {"HF_ENDPOINT": hub.url, "HF_HUB_OFFLINE": "0", "HF_HOME": str(home / "hf"), "HF_HUB_DISABLE_XET": "1",
               "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_DISABLE_UPDATE_CHECK": "1", "HF_TOKEN": "hf_test_token",
               "HTTP_PROXY": hub.url, "HTTPS_PROXY": hub.url, "NO_PROXY": "127.0.0.1,localhost"}
        res = subprocess.run([*LCGEN, "publish", "nt", "--repo", "lcgen-test/nt", "--version", "1.0.0"], cwd=work,
                             env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr
        published = run_blocks(hub.files_at("lcgen-test/nt", "v1.0.0")["README.md"].decode())
        assert published[0] == "hf download lcgen-test/nt --repo-type dataset --revision v1.0.0 --local-dir <dataset>\n"
        assert published[1:] == card_blocks(work)
        res = sh(work, published[0].replace("<dataset>", "downloaded"), **env)
        assert res.returncode == 0, res.stderr[-3000:]
        assert hub.state.outside == [] and hub.state.errors == []
    finally:
        hub.stop()
    base = (work / "downloaded" / "harness" / "lm_eval" / f"_{GROUP}_base.yaml").read_text()
    assert 'dataset_path: "lcgen-test/nt"' in base and 'revision: "v1.0.0"' in base
    assert 'DATASET_PATH: str | None = "lcgen-test/nt"' in (work / "downloaded/harness/inspect_task.py").read_text()


def check_arrivals(stub: OpenAIServer, work: Path, path: str, prompt_of) -> None:
    """Exactly one request per sample reached ``path``, each with the whole prompt, greedy, with the task's budget."""
    inputs = sorted(r["input"] for rs in rows(work).values() for r in rs)
    assert [r.path for r in stub.requests] == [path] * len(inputs)  # no /tokenizer_info probe, no /v1/models
    assert sorted(prompt_of(r.body) for r in stub.requests) == inputs
    assert stub.unknown == []
    budget = {gen_budget(max(len(r["answer"].encode()) for r in rs)) for rs in rows(work).values()}
    for r in stub.requests:
        assert r.body["model"] == MODEL and r.body["temperature"] == 0.0 and r.body["max_tokens"] in budget


def test_lm_eval_completions_as_printed(work, server):
    completions = card_blocks(work)[0]
    res = sh(work, fill(completions, server))
    assert res.returncode == 0, res.stderr[-3000:]
    check_arrivals(server, work, "/v1/completions", lambda body: body["prompt"])
    assert lm_eval_results(work / "results" / "completions") == EXPECTED


def test_lm_eval_chat_as_printed(work, server):
    chat = card_blocks(work)[1]
    res = sh(work, fill(chat, server))
    assert res.returncode == 0, res.stderr[-3000:]

    def user_text(body: dict) -> str:
        (message,) = body["messages"]
        assert message["role"] == "user"
        return message["content"]

    check_arrivals(server, work, "/v1/chat/completions", user_text)
    assert lm_eval_results(work / "results" / "chat") == EXPECTED


@pytest.fixture(scope="module")
def tiktoken_cache(tmp_path_factory) -> Path:
    """tiktoken's o200k_base file (what lm-eval's tiktoken backend loads for gpt-4o), from the bpe-openai wheel."""
    import tiktoken_ext.openai_public as openai_public

    url = re.search(r"https://\S+/o200k_base\.tiktoken", Path(openai_public.__file__).read_text()).group(0)
    cache = tmp_path_factory.mktemp("tiktoken")
    data = gzip.decompress((resources.files("bpe_openai") / "data" / "o200k_base.tiktoken.gz").read_bytes())
    (cache / hashlib.sha1(url.encode()).hexdigest()).write_bytes(data)
    return cache


def test_lm_eval_cuts_prompts_only_through_a_tokenizer(work, tiktoken_cache, monkeypatch):
    """What the card says about ``max_length`` and ``--apply_chat_template``, through lm-eval's own API models."""
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tiktoken_cache))
    import tiktoken
    from lm_eval.api.instance import Instance
    from lm_eval.models.openai_completions import LocalChatCompletion, LocalCompletionsAPI

    four_k = rows(work)["4k"]
    budget = gen_budget(max(len(r["answer"].encode()) for r in four_k))
    gen_kwargs = {"until": [], "max_gen_toks": budget, "do_sample": False, "temperature": 0.0}
    encoding = tiktoken.get_encoding("o200k_base")
    longest = max(len(encoding.encode(r["input"])) for r in four_k)
    card_max_length = lm_eval_max_length([split_sizes(work / "nt", c, s) for c, s in SPLITS])

    def arrived(lm_class, prompts, **model_args) -> list:
        with OpenAIServer({r["input"]: r["answer"] for r in four_k}, decode=encoding.decode) as stub:
            path = "/chat/completions" if lm_class is LocalChatCompletion else "/completions"
            lm = lm_class(base_url=stub.url + path, **model_args)
            requests = [Instance("generate_until", {}, (p, dict(gen_kwargs)), i) for i, p in enumerate(prompts)]
            replies = lm.generate_until(requests, disable_tqdm=True)
            assert replies.count(UNKNOWN) == len(stub.unknown)  # a prompt the server does not know scores 0
            return [r.body for r in stub.model_requests()]

    inputs = [r["input"] for r in four_k]
    as_text = [b["prompt"] for b in arrived(LocalCompletionsAPI, inputs, model=MODEL, tokenizer_backend=None)]
    assert sorted(as_text) == sorted(inputs)  # no tokenizer: sent whole even with the default max_length of 2048

    def sent_through_tiktoken(**model_args) -> list[str]:
        bodies = arrived(LocalCompletionsAPI, inputs, model="gpt-4o", tokenizer_backend="tiktoken", **model_args)
        return [encoding.decode(b["prompt"][0]) for b in bodies]  # one prompt of token ids per request

    cut = sent_through_tiktoken()  # the default max_length: 2048 - 1 - max_gen_toks tokens are kept, silently
    assert all(p not in inputs and any(i.endswith(p) for i in inputs) for p in cut)
    assert all(len(p) < 0.6 * min(map(len, inputs)) for p in cut)  # about half of each 4k prompt
    assert sorted(sent_through_tiktoken(max_length=card_max_length)) == sorted(inputs)
    assert sorted(sent_through_tiktoken(max_length=longest + budget + 1)) == sorted(inputs)  # the exact bound...
    assert sorted(sent_through_tiktoken(max_length=longest + budget)) != sorted(inputs)  # ...one less cuts

    # --apply_chat_template on local-completions without an HF tokenizer: the message list goes where the text belongs
    lm = LocalCompletionsAPI(base_url="http://127.0.0.1:9/v1/completions", model=MODEL, tokenizer_backend=None)
    chats = [lm.apply_chat_template([{"role": "user", "content": i}]) for i in inputs]
    bodies = arrived(LocalCompletionsAPI, chats, model=MODEL, tokenizer_backend=None)
    assert sorted(json.dumps(b["prompt"]) for b in bodies) == sorted(
        json.dumps([{"role": "user", "content": i}]) for i in inputs)
    # local-chat-completions without --apply_chat_template refuses plain text
    with pytest.raises(AssertionError, match="apply_chat_template"):
        arrived(LocalChatCompletion, inputs[:1], model=MODEL, max_retries=1)


def test_include_path_takes_a_parent_folder_not_a_colon_list(work, tmp_path):
    from lm_eval.tasks import TaskManager

    other = tmp_path / "sets" / "needles"
    other.parent.mkdir()
    make(MakeRequest(family="needles", lengths=[2000], variants=["single_retrieval"], depths=[50.0]), other)
    shutil.copytree(work / "nt", tmp_path / "sets" / "nt")
    both = f"{work / 'nt' / 'harness' / 'lm_eval'}:{other / 'harness' / 'lm_eval'}"
    wanted = {GROUP, "lcgen_needles"}
    assert wanted.isdisjoint(TaskManager(include_path=both, include_defaults=False).all_tasks)
    assert wanted <= set(TaskManager(include_path=str(tmp_path / "sets"), include_defaults=False).all_tasks)


@pytest.mark.skipif(importlib.util.find_spec("openai") is None,
                    reason="inspect's openai-api provider needs the openai package (pip install openai)")
def test_inspect_as_printed_finds_the_errored_run(work, server):
    """The card's inspect block with the server refusing the 4k prompts: the 2k run scores exactly, the 4k run
    errors, every ``inspect eval`` exits 0, and the block's last command lists the errored log alone."""
    from inspect_ai.log import read_eval_log

    by_split = rows(work)
    server.refuse = {r["input"] for r in by_split["4k"]}
    runs, check = fill(card_blocks(work)[2], server).rstrip("\n").rsplit("\n", 1)
    assert check.startswith("inspect log list --status error")
    res = sh(work, runs)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    logs = {read_eval_log(str(p), header_only=True).eval.task_args["split"]: p for p in (work / "logs").glob("*")}
    assert sorted(logs) == ["2k", "4k"]
    good, bad = (read_eval_log(str(logs[s]), header_only=True) for s in ("2k", "4k"))
    assert good.status == "success" and good.results.completed_samples == 2
    assert {s.name: s.metrics["mean"].value for s in good.results.scores} == {"strict": 0.5, "partial": 0.5}
    assert bad.status == "error" and "400" in bad.error.message
    listed = sh(work, check)
    assert listed.returncode == 0 and listed.stdout.split() == [str(logs["4k"].relative_to(work))]

    def user_text(body: dict) -> str:
        (message,) = body["messages"]
        return message["content"]

    assert {r.path for r in server.requests} == {"/v1/chat/completions"}  # no /v1/responses, no /v1/models
    arrived = [user_text(r.body) for r in server.requests]
    assert sorted(p for p in arrived if p not in server.refuse) == sorted(r["input"] for r in by_split["2k"])
    assert set(arrived) & server.refuse and set(arrived) <= server.replies.keys()  # whole prompts only
    budget = {gen_budget(max(len(r["answer"].encode()) for r in rs)) for rs in by_split.values()}
    for r in server.requests:
        assert r.body["model"] == MODEL and r.body["temperature"] == 0.0 and r.body["max_tokens"] in budget
