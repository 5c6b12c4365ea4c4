"""``--tokenizer`` by Hub id from an HF cache that huggingface_hub itself wrote (downloaded once from the tests'
local Hub server), offline; the card and tokenizers.json naming repo, commit and hash; ``lcgen validate`` finding
it again with no flags; and each bad tokenizer or template input refused in one line through the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from tokenizers import Tokenizer

from lcgen.tests.hub_server import HubServer, client_env, serving
from lcgen.tests.tokenizer_models import broken_folders, cache_model, model_folder

LCGEN = [sys.executable, "-c", "from lcgen.cli.main import main; main()"]
TOKEN = "hf_modeltokenizertest"
OWNER = "lcgen-models"
NT = ["make", "needle-threads", "--variants", "single_needle", "--depths", "50", "--workers", "1"]


def run(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*LCGEN, *args], cwd=cwd, capture_output=True, text=True, env=env or dict(os.environ),
                          timeout=300)


def one_line(res: subprocess.CompletedProcess, *words: str) -> str:
    assert res.returncode == 2, res.stdout + res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


@pytest.fixture
def hub():
    yield from serving({TOKEN: OWNER})


def test_a_hub_id_resolves_offline_from_the_cache_and_validates(tmp_path, hub: HubServer):
    folder = model_folder(tmp_path / "src", "llama3", "bpe")
    repo = f"{OWNER}/tiny-llama"
    sha = cache_model(hub, repo, folder, tmp_path / "home", TOKEN)
    env = client_env(hub, tmp_path / "home") | {"HF_HUB_OFFLINE": "1"}
    before = len(hub.requests())
    work = tmp_path / "work"
    work.mkdir()
    res = run(*NT, "--len", "8k", "--tokenizer", repo, "--chat-template", "auto", "--out", "ds", cwd=work, env=env)
    assert res.returncode == 0, res.stderr
    (row,) = [r for f in (work / "ds").glob("data/*/*.parquet") for r in pq.read_table(f).to_pylist()]
    assert row["tokenizer"] == f"{repo}@{sha}" and row["length"] == 8_000
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    assert len(tok.encode(row["input"], add_special_tokens=False).ids) == 8_000
    card = (work / "ds" / "README.md").read_text()
    digest = json.loads((work / "ds" / "tokenizers.json").read_text())["tokenizers"][0]
    assert digest["repo"] == repo and digest["revision"] == sha and digest["kind"] == "hub"
    for needle in (f"Hub model `{repo}` at commit `{sha}`", f"sha256 `{digest['sha256']}`", "the tokenizer's own"):
        assert needle in card, needle
    res = run("validate", "ds", cwd=work, env=env)
    assert res.returncode == 0 and "all 1 samples passed" in res.stdout, res.stdout + res.stderr
    res = run(*NT, "--len", "2k", "--tokenizer", f"{repo}@{sha}", "--out", "pinned", cwd=work, env=env)
    assert res.returncode == 0, res.stderr
    assert hub.requests(before) == []  # offline: nothing reached even the local Hub
    one_line(run(*NT, "--len", "2k", "--tokenizer", f"{OWNER}/not-cached", cwd=work, env=env),
             "not in the local Hugging Face cache", "HF_HUB_OFFLINE=1")
    one_line(run(*NT, "--len", "2k", "--tokenizer", f"{repo}@{'0' * 40}", cwd=work, env=env),
             "not in the local Hugging Face cache")
    assert sorted(p.name for p in work.iterdir()) == ["ds", "pinned"]


def test_a_hub_id_online_downloads_the_tokenizer_files_only(tmp_path, hub: HubServer):
    folder = model_folder(tmp_path / "src", "gemma", "unigram")
    (folder / "model.safetensors").write_bytes(b"weights that must never be downloaded")
    repo = f"{OWNER}/tiny-gemma"
    cache_model(hub, repo, folder, tmp_path / "uploader", TOKEN)
    env = client_env(hub, tmp_path / "fresh", TOKEN)
    work = tmp_path / "work"
    work.mkdir()
    before = len(hub.requests())
    res = run(*NT, "--len", "3k", "--tokenizer", repo, "--chat-template", "auto", "--out", "ds", cwd=work, env=env)
    assert res.returncode == 0, res.stderr
    fetched = [path for _, path, status in hub.requests(before) if "/resolve/" in path and status < 400]
    assert fetched and not any("safetensors" in p for p in fetched), fetched
    assert TOKEN not in res.stderr + res.stdout + (work / "ds" / "README.md").read_text()
    one_line(run(*NT, "--len", "2k", "--tokenizer", f"{OWNER}/missing", cwd=work, env=env), "no model repo")


def test_bad_tokenizer_and_template_inputs_are_one_line_each(tmp_path, tiny_hf_tokenizer):
    broken = broken_folders(tmp_path / "broken")
    work = tmp_path / "work"
    work.mkdir()
    cases = [
        (["--tokenizer", str(broken["no_tokenizer_json"])], "has no tokenizer.json"),
        (["--tokenizer", str(broken["corrupt"])], "is not a valid tokenizer.json"),
        (["--tokenizer", str(broken["no_chat_template"]), "--chat-template", "auto"], "has no chat template"),
        (["--chat-template", "auto"], "cl100k_base has no chat template"),
        (["--chat-template", str(tmp_path / "nope.jinja")], "is not a file"),
        (["--reserve-output", "2000"], "leaves no prompt"),
        (["--tokenizer", "cl100k_base,cl100k_base"], "lists a tokenizer twice"),
        (["--tokenizer", "cl100k_base,"], "empty name"),
        (["--tokenizer", "not a name"], "unknown tokenizer"),
    ]
    bad = tmp_path / "bad.jinja"
    bad.write_text("{% for m in messages %}{{ m['content'] }")
    cases.append((["--chat-template", str(bad)], "not a valid Jinja template"))
    refusing = tmp_path / "refuse.jinja"
    refusing.write_text("{{ raise_exception('system role is required') }}")
    cases.append((["--chat-template", str(refusing)], "the template refuses these messages (system role is required)"))
    sneaky = tmp_path / "sneaky.jinja"
    sneaky.write_text("{{ messages.__class__.__mro__ }}{{ ''.__class__.__subclasses__() }}")
    cases.append((["--chat-template", str(sneaky)], "--chat-template"))
    for args, words in cases:
        one_line(run(*NT, "--len", "2k", *args, cwd=work), words)
    assert list(work.iterdir()) == []
    one_line(run("make", "holistic-queries", "--len", "2k", "--tokenizer", f"cl100k_base,{tiny_hf_tokenizer}",
                 cwd=work), "make one dataset each")
