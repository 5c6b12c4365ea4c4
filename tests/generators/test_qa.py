"""qa: exact length with the evidence at its depths, confusing facts that never answer, keyword replacement that
leaves no original behind, the oracle catching each kind of corrupted sample, and the metric (docs/qa.md)."""

from __future__ import annotations

import json

import pytest

from lcgen.validate import check_row
from lcgen.validators.metrics.qa import score_reply
from tests.generators.rows import make_row


def _row(variant: str, length: int = 3_000, seed: int = 0, **knobs) -> dict:
    return make_row("qa", variant, length, 30.0, 0, seed, "procedural", **knobs)


@pytest.mark.parametrize("variant", ["single_fact", "multi_fact"])
def test_exact_and_solved(variant):
    row = _row(variant, confusing_facts=5)
    assert row["length"] == 3_000 and check_row(row, {})[0] == []
    meta = json.loads(row["meta"])
    assert len(meta["chain"]) == (1 if variant == "single_fact" else 2)
    assert all(e in row["input"] for e in meta["evidence"])
    assert meta["chain"][-1]["value"] == row["answer"]


def test_confusing_facts_look_like_the_evidence_and_never_answer_it():
    row = _row("multi_fact", 5_000, seed=3, confusing_facts=40)  # more than the world holds: strangers too
    assert check_row(row, {})[0] == []
    meta = json.loads(row["meta"])
    asked = {(c["subject"], c["relation"]) for c in meta["chain"]}
    confusers = meta["confusing_facts"]
    assert len(confusers) == 40 and {c["kind"] for c in confusers} == {"other_subject", "other_attribute"}
    relations = {c["relation"] for c in meta["chain"]}
    assert sum(c["relation"] in relations for c in confusers) >= 20  # mostly the asked relations, other subjects
    for c in confusers:
        assert c["sentence"] in row["input"] and (c["subject"], c["relation"]) not in asked
        assert c["value"] != row["answer"]


def test_the_oracle_catches_a_second_statement_of_the_asked_fact():
    row = _row("single_fact", seed=1, confusing_facts=2)
    meta = json.loads(row["meta"])
    evidence = meta["evidence"][0]
    twice = row["input"].replace("<article>", "<article> " + evidence, 1)
    assert any("state the" in p for p in check_row(dict(row, input=twice), {})[0])
    gone = row["input"].replace(" " + evidence, "", 1)
    assert any("oracle could not solve" in p for p in check_row(dict(row, input=gone), {})[0])


def test_replaced_keywords_leave_no_original():
    row = _row("multi_fact", seed=2, confusing_facts=6, replace_keywords=True)
    assert check_row(row, {})[0] == []
    mapping = json.loads(row["meta"])["keyword_map"]
    assert mapping and all(k not in row["input"] and k not in row["question"] for k in mapping)
    assert all(v in row["input"] for v in mapping.values())
    original, new = sorted(mapping.items())[0]
    left = row["input"].replace(new, original, 1)
    assert f"replaced keyword {original!r} is still in input" in check_row(dict(row, input=left), {})[0]
    assert _row("multi_fact", seed=2, confusing_facts=6, replace_keywords=True) == row


@pytest.mark.parametrize("reply, answers, strict, partial", [
    ("Answer: Brackford.", ["Brackford"], 1, 1),
    ("It was Brackford, I believe", ["Brackford"], 0, 0.5),
    ("Dunley", ["Brackford"], 0, 0),
    ("39248", ["39,248", "39248"], 1, 1),  # LV-Eval scores only the first gold answer
    ("", ["Brackford"], 0, 0),
])
def test_metric(reply, answers, strict, partial):
    got = score_reply(reply, answers[0], answers, "single_fact")
    assert got["strict"] == strict and got["partial"] == pytest.approx(partial)
