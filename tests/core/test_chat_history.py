"""``--format chat-history``: the context as a conversation of many turns, exact in tokens of the rendered
conversation, needles as whole user turns at their depths, the question as the last user turn; validated by the
family's own oracle reading the turns, and caught by it when the conversation is tampered with."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from tokenizers import Tokenizer

from lcgen.make import MakeRequest, make
from lcgen.tests.tokenizer_models import model_folder
from lcgen.validate import check_row, validate

CASES = [("needles", "multi_retrieval", {}), ("ancestral-trace", "nth_ancestor", {}),
         ("ancestral-trace", "eldest_ancestor", {"lang": "zh"})]


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    return {f"{s}-{k}": model_folder(root, s, k) for s, k in (("llama3", "bpe"), ("gemma", "unigram"),
                                                             ("mistral", "bpe"), ("chatml", "unigram"))}


def rows_of(folder: Path) -> list[dict]:
    return [r for f in sorted(folder.glob("data/*/*.parquet")) for r in pq.read_table(f).to_pylist()]


def made(tmp_path: Path, family: str, variant: str, overrides: dict, **kw) -> Path:
    out = tmp_path / "ds"
    make(MakeRequest(family=family, variants=[variant], overrides=overrides, seed=4, format="chat-history", **kw),
         out, workers=1)
    return out


def check_conversation(row: dict) -> None:
    messages = row["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"] * (len(messages) // 2) + ["user"]
    assert row["question"] in messages[-1]["content"] and len(messages) == json.loads(row["meta"])["turns"]
    assert all(m["content"].strip() for m in messages)


@pytest.mark.parametrize("family,variant,overrides", CASES)
def test_a_transcript_without_a_template_is_exact_and_validates(tmp_path, family, variant, overrides):
    out = made(tmp_path, family, variant, overrides, lengths=[5_000], depths=[0.0, 50.0, 100.0])
    rows = rows_of(out)
    from lcgen.tokenizer import get_tokenizer

    enc = get_tokenizer("cl100k_base")._enc
    for row in rows:
        assert row["length"] == 5_000 == len(enc.encode(row["input"], allowed_special="all"))
        assert row["input"].startswith("User: ") and row["input"].endswith("\n\nAssistant:\n")
        check_conversation(row)
    reports, failed = validate(out)
    assert failed == 0, [f for r in reports.values() for f in r.failures]


@pytest.mark.parametrize("model", ["llama3-bpe", "gemma-unigram", "mistral-bpe", "chatml-unigram"])
@pytest.mark.parametrize("family,variant,overrides", CASES[:2])
def test_a_model_s_template_counts_the_whole_conversation(tmp_path, folders, model, family, variant, overrides):
    folder = folders[model]
    out = made(tmp_path, family, variant, overrides, lengths=[9_000], depths=[10.0, 90.0], tokenizer=str(folder),
               chat_template="auto")
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    for row in rows_of(out):
        assert row["length"] == 9_000 == len(tok.encode(row["input"], add_special_tokens=False).ids), row["id"]
        check_conversation(row)
    reports, failed = validate(out)
    assert failed == 0, [f for r in reports.values() for f in r.failures]


def test_needles_are_whole_user_turns_at_their_depths(tmp_path):
    out = made(tmp_path, "needles", "single_retrieval", {}, lengths=[20_000], depths=[0.0, 25.0, 50.0, 75.0, 100.0])
    positions = []
    for row in sorted(rows_of(out), key=lambda r: r["target_depth"]):
        users = [i for i, m in enumerate(row["messages"][2:-1]) if i % 2 == 0]
        holding = [i for i in users if row["answer"] in row["messages"][2 + i]["content"]]
        assert len(holding) == 1, row["id"]  # one user turn holds the needle, and no reply does
        assert not any(row["answer"] in m["content"] for m in row["messages"][3:-1:2])
        positions.append(holding[0] / max(len(row["messages"]) - 3, 1))
        assert abs(row["depth"][0] - row["target_depth"]) < 3.0
    assert positions == sorted(positions) and positions[0] == 0.0 and positions[-1] > 0.9


def test_a_tampered_conversation_fails_validation(tmp_path):
    out = made(tmp_path, "needles", "single_retrieval", {}, lengths=[4_000], depths=[50.0])
    (row,) = rows_of(out)
    from lcgen.validate import TokenizerBook

    chats = TokenizerBook(out, None).chats
    row["tokenizer_spec"] = "cl100k_base"
    assert check_row(dict(row), {}, chats)[0] == []
    edited = dict(row, messages=[dict(m) for m in row["messages"]])
    edited["messages"][4]["content"] = edited["messages"][4]["content"][::-1]
    assert "messages rendered with the recorded chat template differ from input" in check_row(edited, {}, chats)[0]
    holder = next(i for i, m in enumerate(row["messages"]) if row["answer"] in m["content"] and 1 < i < len(
        row["messages"]) - 1)
    gone = dict(row, messages=[m for i, m in enumerate(row["messages"]) if i not in (holder, holder + 1)])
    gone["input"] = _render(chats, gone["messages"])
    problems = check_row(gone, {}, chats)[0]
    assert problems and any("oracle" in p or "length" in p for p in problems), problems


def _render(chats: dict, messages: list[dict]) -> str:
    (chat,) = chats.values()
    return chat.render(messages)


def test_several_tokenizers_share_the_conversation_s_content(tmp_path, folders):
    out = made(tmp_path, "ancestral-trace", "eldest_ancestor", {}, lengths=[8_000], depths=[30.0],
               tokenizer=f"cl100k_base,{folders['gemma-unigram']}", chat_template="none")
    rows = rows_of(out)
    assert len(rows) == 2 and rows[0]["answer"] == rows[1]["answer"] and rows[0]["question"] == rows[1]["question"]
    needles = []
    for r in rows:  # the user turns the recorded needle offsets point at (a unit starts with its turn's marker)
        offsets = json.loads(r["meta"])["needle_offsets"]
        needles.append([m["content"] for m in r["messages"][2:-1:2]
                        if any(0 <= r["input"].find(m["content"], o) - o < 40 for o in offsets)])
    assert len(needles[0]) == len(json.loads(rows[0]["meta"])["needle_offsets"]) and needles[0] == needles[1]
    assert validate(out)[1] == 0


def test_chat_history_needs_a_family_with_a_haystack_and_a_length(tmp_path):
    lcgen = [sys.executable, "-c", "from lcgen.cli.main import main; main()"]
    for args, words in ((["make", "needle-threads", "--len", "2k", "--format", "chat-history"], "No such option"),
                        (["make", "ancestral-trace", "--needles", "8", "--format", "chat-history"], "needs --len")):
        res = subprocess.run([*lcgen, *args], cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert res.returncode == 2 and words in res.stderr and res.stderr.count("\n") == 1, res.stderr
    assert list(tmp_path.iterdir()) == []
