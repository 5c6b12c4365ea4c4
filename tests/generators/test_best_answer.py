"""best-answer: exact length with labelled candidates, an oracle that catches every crafted corruption, a metric
that reads the stated label (not Ada-LEval's highest one), and a correct candidate no longer than its rivals."""

from __future__ import annotations

import itertools
import json
import random
import re

import pytest

from lcgen.errors import ParamError
from lcgen.generators._world import KINDS, build_world
from lcgen.generators.best_answer import BestAnswerParams, _check
from lcgen.registry import oracles
from lcgen.validate import check_row, oracle_input
from lcgen.validators.metrics.best_answer import score_reply
from tests.generators.rows import make_row


def _span(row: dict, label: int) -> tuple[int, int]:
    """Character span of candidate A<label>'s text (after "A<label>: ", before its blank line)."""
    start = row["input"].index(f"\n A{label}: ") + len(f"\n A{label}: ")
    return start, row["input"].index("\n\n", start)


def _body(row: dict, label: int) -> str:
    start, end = _span(row, label)
    return row["input"][start:end]


def _with_body(row: dict, label: int, body: str) -> dict:
    start, end = _span(row, label)
    return {**row, "input": row["input"][:start] + body + row["input"][end:]}


@pytest.mark.parametrize("length, depth", [(2000, 0.0), (2000, 40.0), (8000, 100.0), (8000, 75.0)])
def test_exact_length_one_tokenization_and_the_oracle_agrees(length, depth):
    row = make_row("best-answer", "single", length, depth)
    meta = json.loads(row["meta"])
    assert row["length"] == row["target_length"] == length
    assert meta["tokenizations"] == 1
    assert check_row(row, {})[0] == []
    n = meta["candidates"]
    assert n == len(re.findall(r"(?m)^ A\d+: ", row["input"])) > 10 and len(row["depth"]) == 1  # the correct one
    assert row["answer"] == f"A{meta['gold_index']}"
    if depth == 0.0:
        assert row["answer"] == "A1"
    if depth == 100.0:
        assert row["answer"] == f"A{n}"
    assert len({_body(row, j) for j in range(1, n + 1)}) == n  # no two candidates alike
    assert set(meta["kinds"]) - {"correct"} <= {"wrong_entity", "wrong_subject", "wrong_number", "wrong_value",
                                                 "wrong_relation", "different_question"}


def test_candidates_without_len_are_the_context_and_depth_picks_the_label():
    row = make_row("best-answer", "single", None, 50.0, candidates=7)
    meta = json.loads(row["meta"])
    assert meta["candidates"] == 7 and row["id"].split("/")[2] == "n7"
    assert row["answer"] == "A4"  # 1 + round(0.5 * 6)
    assert check_row(row, {})[0] == []


def test_oracle_catches_a_distractor_made_true_and_the_correct_one_made_false():
    row = make_row("best-answer", "single", 3000, 50.0, ask="person_birth_year")
    meta = json.loads(row["meta"])
    truth, gold = meta["answer_value"], meta["gold_index"]
    j = meta["kinds"].index("wrong_number") + 1  # its year belongs to nothing in the world: it occurs only there
    wrong = meta["claims"][j - 1][2]
    made_true = _with_body(row, j, _body(row, j).replace(wrong, truth))
    assert any(p.startswith("2 candidates are correct") for p in check_row(made_true, {})[0])
    made_false = _with_body(row, gold, _body(row, gold).replace(truth, wrong))
    assert "no candidate is correct" in check_row(made_false, {})[0]


def test_oracle_catches_a_duplicate_a_moved_answer_and_a_false_support():
    row = make_row("best-answer", "single", 3000, 50.0)
    meta = json.loads(row["meta"])
    gold, n = meta["gold_index"], meta["candidates"]
    other = 1 if gold != 1 else 2
    duplicate = _with_body(row, n if n != gold else n - 1, _body(row, other))
    assert any("repeats the text of" in p for p in check_row(duplicate, {})[0])
    swapped = _with_body(_with_body(row, gold, _body(row, 1)), 1, _body(row, gold))
    assert any("but depth 50 puts it at" in p for p in check_row(swapped, {})[0])
    # A true support sentence turned false: the candidate is wrong in a way no recorded kind describes.
    j, year = next((j, m.group(0)) for j in range(1, n + 1) if meta["kinds"][j - 1] == "different_question"
                   for m in [re.search(r"\b\d{4}\b", _body(row, j))] if m)  # a year (counts have commas)
    broken = _with_body(row, j, _body(row, j).replace(year, "1111", 1))
    got = oracles.get("best-answer")(oracle_input(broken))
    assert got.measured["distractor_counts"].get("unexplained") == 1


@pytest.mark.parametrize("reply, strict, partial", [
    ("Answer: A3", 1, 1),
    ("A3", 1, 1),
    ("**Answer: A3**", 1, 1),
    ("A5 contradicts the sheet.\nAnswer: A3", 1, 1),
    ("Answer: A5\nOn reflection the answer is A3.", 0, 1),  # the last statement wins
    ("A3 is better than A5", 0, 0),  # Ada-LEval reads A5; two labels, none stated: no answer
    ("A5 is wrong; the answer is A3.", 0, 1),  # Ada-LEval reads A5
    ("I pick A3, as A3 matches the sheet.", 0, 1),  # one label, named twice
    ("A3 is right, see A12 for a near miss", 0, 0),  # Ada-LEval reads A12
    ("3", 0, 1),  # a bare number alone
    ("Answer: 3", 0, 0),  # a number after "Answer:" is not a label
    ("Python 3.10 says A3", 0, 1),  # the digits of 3.10 are not read (Ada-LEval's fallback noise)
    ("A30", 0, 0),  # not A3
    ("Answer: A30", 0, 0),  # out of range or not, it is not A3
    ("The answer is A3\nAnswer: A5", 0, 0),
    ("THE ANSWER IS A3", 0, 1),  # "answer" in any case; the label's A upper case
    ("the answer is a3", 0, 0),
    ("Answer: A03", 0, 0),
    ("", 0, 0),
])
def test_metric_reads_the_stated_label(reply, strict, partial):
    assert score_reply(reply, "A3", ["A3"], "single") == {"strict": strict, "partial": partial}


def test_correct_candidate_is_the_longest_about_as_often_as_chance():
    """Loose: 120 samples of 4 candidates (chance 25%, Ada-LEval's gold is the longest 40% of the time)."""
    longest, ranks = 0, 0.0
    for i in range(120):
        row = make_row("best-answer", "single", None, 25.0 * (i % 5), i, 4, candidates=4)
        # Measured on the text itself, not on what the generator recorded about it.
        sizes = [len(body) for body in re.findall(r"(?m)^ A\d+: (.*)$", row["input"])]
        gold = sizes[int(row["answer"][1:]) - 1]
        longest += gold == max(sizes)
        ranks += sum(size < gold for size in sizes) / (len(sizes) - 1)
    assert 0.13 <= longest / 120 <= 0.37
    assert 0.38 <= ranks / 120 <= 0.62


def test_knobs_that_contradict_are_refused():
    for knobs, lengths, message in [
        ({}, [None], "--candidates: give the number"),
        ({"candidates": 5}, [2000], "--candidates: with --len"),
        ({"candidates": 1}, [None], "--candidates: 1 leaves"),
        ({"ask": "person_profession", "distractors": "wrong_number"}, [2000], "--distractors: none of"),
        ({"distractors": "wrong_entity,bogus"}, [2000], "--distractors: bogus"),
    ]:
        with pytest.raises(ParamError, match=re.escape(message)):
            _check(BestAnswerParams(**knobs), "single", lengths)
    with pytest.raises(ParamError, match="--len: 300 tokens is too short"):
        make_row("best-answer", "single", 300, 0.0)


def test_world_names_are_unique_and_never_part_of_another_and_numbers_distinct():
    world = build_world(random.Random(5))
    names = [e.name for kind in KINDS for e in world.of_kind(kind)] + world.regions
    assert not [(a, b) for a, b in itertools.permutations(names, 2) if a.lower() in b.lower()]
    years = [p.birth_year for p in world.people.values()] + [t.founded for t in world.towns.values()] + \
        [c.founded for c in world.companies.values()]
    counts = [t.population for t in world.towns.values()] + [c.employees for c in world.companies.values()]
    assert len(set(years)) == len(years) and len(set(counts)) == len(counts)
    for c in world.companies.values():
        assert c.founded - world.people[c.founder].birth_year >= 22
        assert world.people[c.founder].employer == c.name


def test_a_sentencepiece_tokenizer_with_its_chat_template_is_exact(tmp_path):
    """Every candidate starts with a space, so a SentencePiece-like tokenizer counts it alone as in context."""
    from lcgen.make import MakeRequest, make
    from lcgen.tests.tokenizer_models import model_folder
    from lcgen.validate import validate

    folder = model_folder(tmp_path / "models", "gemma", "unigram")
    out = tmp_path / "ds"
    make(MakeRequest(family="best-answer", lengths=[3_000], seed=4, depths=[30.0], tokenizer=str(folder),
                     chat_template="auto"), out, workers=1)
    assert validate(out)[1] == 0
