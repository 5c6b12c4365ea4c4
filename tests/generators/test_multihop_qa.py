"""multihop-qa: graph-checked answers at every hop count, an oracle that catches shortcuts and broken chains, and the
LLM stages against a scripted OpenAI-compatible server on 127.0.0.1: each kind of bad reply rejected by the right
check and counted, HTTP trouble retried, reruns from the cache byte-identical, a killed run resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lcgen.errors import LcgenError
from lcgen.generators import _multihop_stages as stages
from lcgen.generators.multihop_qa import regenerate
from lcgen.make import MakeRequest, make
from lcgen.validate import check_row, validate
from tests.core.test_dataset import shipped_sha256s
from tests.generators.multihop_model import ScriptedModel, knowledge
from tests.generators.rows import make_row
from tests.openai_server import OpenAIServer

FAMILY, VARIANT = "multihop-qa", "multi_hop"


def _rows(folder: Path) -> list[dict]:
    return [r for f in sorted(folder.rglob("*.parquet")) for r in pq.read_table(f).to_pylist()]


def _rejected(folder: Path) -> dict[str, int]:
    """The card's table: check -> candidates rejected."""
    out = {}
    for line in (folder / "README.md").read_text().splitlines():
        parts = [p.strip() for p in line.strip("|").split("|")]
        if len(parts) == 3 and parts[0].startswith("`") and parts[2].isdigit():
            out[parts[0].strip("`")] = int(parts[2])
    return out


@pytest.mark.parametrize("hops", [2, 3, 4])
def test_template_questions_are_graph_checked(hops):
    for length, depth in ((1500, 100.0), (6000, 0.0), (20_000, 50.0)):
        row = make_row(FAMILY, VARIANT, length, depth, haystack="procedural", hops=hops, index=hops)
        assert row["length"] == length and check_row(row, {})[0] == []
        meta = json.loads(row["meta"])
        assert meta["question_source"] == "template" and len(meta["chain"]) == hops
        assert meta["chain"][-1]["value"] == row["answer"]
        for doc in meta["evidence"]:
            assert row["input"].count(" " + doc) == 1


def test_chat_history_records_only_the_evidence(tmp_path):
    """As conversation turns, distractor documents are turns like the filler: needle_offsets (and depth) hold the
    evidence alone, as in a plain prompt."""
    req = MakeRequest(family=FAMILY, lengths=[8000], seed=3, depths=[0.0, 100.0], format="chat-history",
                      haystack="procedural", overrides={"hops": 3})
    make(req, tmp_path / "out", workers=1)
    assert validate(tmp_path / "out")[1] == 0
    assert all(len(json.loads(r["meta"])["needle_offsets"]) == 3 for r in _rows(tmp_path / "out"))


def test_oracle_catches_a_shortcut_a_broken_hop_and_a_false_fact():
    row = make_row(FAMILY, VARIANT, 4000, 50.0, haystack="procedural", hops=3)
    meta = json.loads(row["meta"])
    chain = meta["chain"]
    bridge = chain[0]["value"]
    named = dict(row, question=row["question"][:-1] + f" ({bridge})?")
    named["input"] = row["input"].replace(row["question"], named["question"])
    assert any("names " + bridge in p for p in check_row(named, {})[0])
    # The second hop's fact stated about nobody: the chain breaks, and the oracle says where.
    doc = meta["evidence"][1]
    broken = dict(row, input=row["input"].replace(doc, doc.replace(chain[1]["subject"], "Nobody Atall")))
    assert any("hop 2" in p for p in check_row(broken, {})[0])
    # A distractor's fact changed: the context contradicts the graph.
    sw = regenerate_row(row)
    fact, sentence = next((f, t) for o in meta["distractor_documents"] for f, t in sw.documents[o].facts
                          if f.relation.value_type == "year")
    false = dict(row, input=row["input"].replace(sentence, sentence.replace(fact.text, str(int(fact.value) + 1))))
    assert any("the graph says" in p for p in check_row(false, {})[0])


def regenerate_row(row: dict):
    from lcgen.make import SampleSpec

    meta = json.loads(row["meta"])
    spec = SampleSpec(FAMILY, row["variant"], row["target_length"], row["target_depth"],
                      int(row["id"].rsplit("/", 1)[1]), row["seed"], "cl100k_base", meta["params"], "procedural")
    return regenerate(spec)


def test_replies_are_read_and_answers_compared_strictly():
    assert stages.parse_json('Sure! ```json\n[{"question": "q"}]\n``` done') == [{"question": "q"}]
    assert stages.parse_json("Here: {'question': 'q'}") is None
    assert stages.same_answer("In 1962.", "1962") and stages.same_answer("12400", "12,400")
    assert not stages.same_answer("1962 or 1963", "1962") and not stages.same_answer("UNKNOWN", "Unknown Town")
    assert not stages.same_answer("Ashford", "Ashfordby")


def _request(srv: OpenAIServer, cache: Path | None, **knobs) -> MakeRequest:
    return MakeRequest(family=FAMILY, lengths=[3000], seed=5, samples=knobs.pop("samples", 1),
                       depths=knobs.pop("depths", [50.0]), haystack="procedural", overrides=knobs,
                       llm=f"openai:{srv.url}#test",
                       llm_options={"cache_dir": cache, "timeout": 0.3, "retries": 3, "backoff": 0.01})


def _knowing(req: MakeRequest, faults: dict[str, float], **kw) -> ScriptedModel:
    return ScriptedModel(faults, know=knowledge([regenerate(s) for s in req.specs()]), **kw)


@pytest.mark.parametrize("fault, check", [
    ("malformed", "malformed"), ("refusal", "refused"), ("bad_quote", "quote_verbatim"), ("leak", "closed_book"),
    ("unanswerable", "answerable"), ("shortcut", "shortcut"),
])
def test_each_bad_reply_is_rejected_by_its_check(tmp_path, fault, check):
    """A model that misbehaves on every prompt of one kind: every candidate is rejected by that check (and counted
    once each), the samples fall back to lcgen's question, and the dataset still validates."""
    srv = OpenAIServer({})
    with srv:
        req = _request(srv, None, candidates=2)
        srv.respond = _knowing(req, {fault: 1.0})
        make(req, tmp_path / "out", workers=1)
    rejected = _rejected(tmp_path / "out")
    assert rejected[check] >= 2 and validate(tmp_path / "out")[1] == 0
    assert {k: v for k, v in rejected.items() if v and k != check} == {}
    (row,) = _rows(tmp_path / "out")
    meta = json.loads(row["meta"])
    assert meta["question_source"] == "template" and meta["rejected_candidates"] == {check: 2}


def test_stages_with_every_fault_at_once_retry_count_and_rerun_identically(tmp_path):
    srv = OpenAIServer({})
    faults = {"malformed": 0.1, "refusal": 0.1, "bad_quote": 0.1, "leak": 0.5, "unanswerable": 0.1,
              "shortcut": 0.15, "guess": 1.0, "http429": 0.1, "http500": 0.05, "timeout": 0.03}
    with srv:
        req = _request(srv, tmp_path / "cache", samples=2, depths=[0.0, 50.0, 100.0])
        srv.respond = _knowing(req, faults, timeout_delay=0.6)
        make(req, tmp_path / "a", workers=2)
        sent = len(srv.model_requests())
        stats = req.llm_client().stats
        assert stats["retries"] > 0
        again = _request(srv, tmp_path / "cache", samples=2, depths=[0.0, 50.0, 100.0])
        make(again, tmp_path / "b", workers=1)
        assert len(srv.model_requests()) == sent, "a rerun sends nothing: every reply is in the cache"
    assert shipped_sha256s(tmp_path / "a") == shipped_sha256s(tmp_path / "b")
    reports, failed = validate(tmp_path / "a")
    assert failed == 0, [r.failures for r in reports.values()]
    rejected = _rejected(tmp_path / "a")
    assert sum(rejected.values()) >= 10, rejected  # each kind alone is pinned to its check above
    rows = _rows(tmp_path / "a")
    for row in rows:
        meta = json.loads(row["meta"])
        from_model = row["question"].startswith("Question: What is the ")
        assert from_model == (meta["question_source"] == "llm")
        assert meta["llm"] == {"backend": "openai", "model": "test", "sampling": meta["llm"]["sampling"]}
        assert set(meta["prompt_templates"]) == {"single_hop", "merge", "answer", "closed_book"}
    assert any(json.loads(r["meta"])["question_source"] == "llm" for r in rows)
    assert "127.0.0.1" not in (tmp_path / "a" / "README.md").read_text()


def test_lucky_guesses_are_caught_by_the_drop_one_check(tmp_path):
    """A model that, missing a document, answers with the first fact of the asked relation it sees: the look-alike
    beside each hop makes that guess wrong half the time, and the drop-one check rejects the lucky rest."""
    srv = OpenAIServer({})
    with srv:
        req = _request(srv, None, samples=2, depths=[0.0, 50.0, 100.0])
        srv.respond = ScriptedModel({"guess": 1.0})
        make(req, tmp_path / "out", workers=1)
    assert _rejected(tmp_path / "out")["hops_necessary"] > 0 and validate(tmp_path / "out")[1] == 0


def test_near_duplicates_are_refused_across_the_dataset(tmp_path, monkeypatch):
    """With a threshold low enough that the model's questions about different entities collide, later samples move
    on to their next candidate (counted as near_duplicate); validate's own check (at the documented threshold) still
    passes."""
    monkeypatch.setattr(stages, "NearDuplicates", lambda: stages_near(0.4))
    srv = OpenAIServer({})
    with srv:
        req = _request(srv, None, samples=4)
        srv.respond = _knowing(req, {})
        make(req, tmp_path / "out", workers=1)
    assert _rejected(tmp_path / "out")["near_duplicate"] > 0
    moved = [json.loads(r["meta"]) for r in _rows(tmp_path / "out")]
    assert any(m["rejected_candidates"] == {"near_duplicate": 1} and m["candidate"] == 1 for m in moved)
    assert validate(tmp_path / "out")[1] == 0


def stages_near(threshold: float):
    from lcgen.similarity import NearDuplicates

    return NearDuplicates(threshold)


def test_a_broken_server_and_an_all_rejecting_run_stop_in_one_line(tmp_path):
    srv = OpenAIServer({})
    with srv:
        req = _request(srv, None)
        srv.respond = ScriptedModel({"down": 1.0})
        with pytest.raises(LcgenError, match=r"HTTP 500 after 4 attempts"):
            make(req, tmp_path / "down", workers=1)
        req = _request(srv, None, fallback="error", candidates=1)
        srv.respond = ScriptedModel({"refusal": 1.0})
        with pytest.raises(LcgenError, match="every candidate question .* rejected .* refused"):
            make(req, tmp_path / "refused", workers=1)
    assert not (tmp_path / "down").exists() and not (tmp_path / "refused").exists()


def _fact_corpus(folder: Path, seed: int = 11) -> Path:
    """A files: corpus of plain sentences a reader can check: one large world's facts, three entities a file."""
    import random

    from lcgen.generators._world import KINDS, build_world, verbalize

    rng = random.Random(seed)
    world = build_world(rng, people=48, towns=30, companies=20, regions=8)
    names = [e.name for k in KINDS for e in world.of_kind(k)]
    rng.shuffle(names)
    folder.mkdir(parents=True)
    for i in range(0, len(names), 3):
        text = " ".join(verbalize(f, rng) for n in names[i:i + 3] for f in world.facts(n))
        (folder / f"doc{i:03d}.txt").write_text(text + "\n")
    return folder


def _corpus_request(srv: OpenAIServer, corpus: Path, **knobs) -> MakeRequest:
    return MakeRequest(family=FAMILY, lengths=[3000], seed=7, samples=2, depths=[0.0, 50.0, 100.0],
                       haystack=f"files:{corpus}", overrides={"documents": "haystack", "distractors": 4,
                                                              **{"corpus_documents": 12, **knobs}},
                       llm=f"openai:{srv.url}#test", llm_options={"cache_dir": None, "timeout": 0.3,
                                                                 "backoff": 0.01})


def test_corpus_documents_facts_proposed_by_the_model_checked_and_validated(tmp_path):
    """--documents haystack: the model proposes each fact with a quote; reworded quotes and malformed replies are
    counted and dropped, chains link through named answers, and validate checks the recorded claims against the
    text (a tampered answer is found)."""
    corpus = _fact_corpus(tmp_path / "corpus")
    srv = OpenAIServer({})
    with srv:
        req = _corpus_request(srv, corpus, hops=3, corpus_documents=30)
        srv.respond = ScriptedModel({"bad_quote": 0.2, "malformed": 0.1})
        make(req, tmp_path / "out", workers=1)
    reports, failed = validate(tmp_path / "out")
    assert failed == 0, [r.failures for r in reports.values()]
    rejected = _rejected(tmp_path / "out")
    assert rejected["quote_verbatim"] > 0 and rejected["malformed"] > 0
    rows = _rows(tmp_path / "out")
    assert "chunks of the haystack corpus" in (tmp_path / "out" / "README.md").read_text()
    row = rows[0]
    meta = json.loads(row["meta"])
    claims = meta["claims"]
    assert len(claims["chunks"]) == 3 and claims["hops"][-1]["answer"] == row["answer"]
    for k in range(1, 3):
        assert claims["hops"][k - 1]["answer"] in claims["hops"][k]["question"]
    row["tokenizer_spec"] = "cl100k_base"
    assert check_row(row, {})[0] == []
    last = meta["evidence"][-1]
    tampered = dict(row, input=row["input"].replace(last, last.replace(row["answer"], "Elsewhere Town")))
    assert check_row(tampered, {})[0]


def test_corpus_documents_need_a_model(tmp_path):
    corpus = _fact_corpus(tmp_path / "corpus")
    req = MakeRequest(family=FAMILY, lengths=[3000], depths=[50.0], haystack=f"files:{corpus}",
                      overrides={"documents": "haystack"})
    with pytest.raises(LcgenError, match="give --llm"):
        make(req, tmp_path / "out", workers=1)
    assert not (tmp_path / "out").exists()


def _lcgen(*args: str, env: dict | None = None, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "lcgen.cli.main", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})}, **kw)


def test_cli_makes_validates_reruns_from_cache_and_resumes_after_a_kill(tmp_path):
    """The issue's acceptance run: 32k with the loopback server, validated; a rerun is free and identical; a run
    killed halfway resumes from the cache to the same bytes; the key is never printed or written."""
    key = "sk-lcgen-test-key-0123456789"
    env = {"OPENAI_API_KEY": key}
    srv = OpenAIServer({})
    with srv:
        srv.respond = ScriptedModel({}, delay=0.02)
        common = ["make", FAMILY, "--len", "32k", "--llm", f"openai:{srv.url}#test", "--seed", "7"]
        first = _lcgen(*common, "--llm-cache", str(tmp_path / "c1"), "--out", str(tmp_path / "a"), env=env)
        out, err = first.communicate(timeout=120)
        assert first.returncode == 0, err
        total = len(srv.model_requests())
        check = _lcgen("validate", str(tmp_path / "a"))
        assert check.wait(timeout=120) == 0, check.communicate()
        rerun = _lcgen(*common, "--llm-cache", str(tmp_path / "c1"), "--out", str(tmp_path / "b"), env=env)
        assert rerun.wait(timeout=120) == 0
        assert len(srv.model_requests()) == total
        # Killed halfway (SIGKILL: no clean-up at all), then run again with the same cache.
        before = len(srv.model_requests())
        slow = _lcgen(*common, "--llm-cache", str(tmp_path / "c2"), "--llm-concurrency", "1", "--out",
                      str(tmp_path / "c"), env=env)
        deadline = time.monotonic() + 60
        while len(srv.model_requests()) - before < total // 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        slow.send_signal(signal.SIGKILL)
        slow.wait(timeout=30)
        assert not (tmp_path / "c").exists()
        done_before = len(srv.model_requests()) - before
        resumed = _lcgen(*common, "--llm-cache", str(tmp_path / "c2"), "--out", str(tmp_path / "c"), env=env)
        assert resumed.wait(timeout=120) == 0, resumed.communicate()
        resent = len(srv.model_requests()) - before - done_before
        assert 0 < resent < total
        assert all(r.headers.get("authorization") == f"Bearer {key}" for r in srv.model_requests())
    assert shipped_sha256s(tmp_path / "a") == shipped_sha256s(tmp_path / "b") == shipped_sha256s(tmp_path / "c")
    card = (tmp_path / "a" / "README.md").read_text()
    assert "## How the questions were made" in card and "--llm 'openai:URL#test'" in card and "127.0.0.1" not in card
    assert key not in out + err and not any(key.encode() in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


def test_cli_bad_backend_strings_and_unreachable_servers_are_one_line(tmp_path):
    cases = [
        (["--llm", "gpt4"], "--llm: 'gpt4' is not openai:URL#MODEL, vllm:MODEL or none"),
        (["--llm", "openai:http://127.0.0.1:9/v1"], "names no model"),
        (["--llm", "openai:http://127.0.0.1:9/v1#m", "--llm-retries", "1"], "cannot reach http://127.0.0.1:9/v1"),
    ]
    for args, message in cases:
        run = _lcgen("make", FAMILY, "--len", "4k", "--depths", "50", "--llm-cache", "none",
                     "--out", str(tmp_path / "x"), *args)
        out, err = run.communicate(timeout=60)
        lines = [line for line in err.splitlines() if line.strip() and "%|" not in line]
        assert run.returncode != 0 and len(lines) == 1 and message in lines[0], err
        assert "Traceback" not in err and not (tmp_path / "x").exists()
    other = _lcgen("make", "needles", "--len", "4k", "--llm", "openai:http://127.0.0.1:9/v1#m")
    _, err = other.communicate(timeout=60)
    assert other.returncode == 2 and "No such option '--llm'" in err
