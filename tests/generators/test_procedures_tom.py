"""procedures/theory_of_mind: exact length, the oracle agreeing and catching edited stories, the step metric's
partial scores at known points, clean name lists and narration, and one-line refusals (docs/procedures.md)."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from lcgen.errors import ParamError
from lcgen.generators import _proc_tom
from lcgen.generators._proc_common import tolerance
from lcgen.make import SampleSpec, build_sample
from lcgen.registry import families
from lcgen.validate import check_row
from lcgen.validators.metrics.procedures import explain, score_reply
from lcgen.validators.metrics._proc_tom import tom_steps
from tests.generators.rows import make_row
from tests.tokenizer_models import train_unigram

V = "theory_of_mind"


def _row(length=6000, output_len=2000, seed=0, **knobs):
    return make_row("procedures", V, length, 0.0, 0, seed, output_len=output_len, **knobs)


@pytest.fixture(scope="module")
def row():
    return _row()


@pytest.mark.parametrize("length, output_len, knobs", [
    (6000, 2000, {}),
    (8192, 500, {"agents": 3, "rooms": 3, "objects": 1}),
    (12000, 3000, {"agents": 6, "rooms": 6, "objects": 6}),
])
def test_exact_valid_and_on_output_target(length, output_len, knobs):
    row = _row(length, output_len, 3, **knobs)
    meta = json.loads(row["meta"])
    assert row["length"] == row["target_length"] == length
    assert meta["tokenizations"] == 1
    assert check_row(row, {})[0] == []
    assert abs(meta["output_tokens"] - output_len) <= tolerance(output_len)
    assert meta["steps"] + 2 == len(tom_steps(row["answer"]))
    assert row["answer"].startswith("<trace>\nStep 0: ") and row["answer"].endswith("\n</trace>")
    assert _row(length, output_len, 3, **knobs) == row


def test_the_reference_scores_one(row):
    a = row["answer"]
    assert score_reply(a, a, [a], V) == {"strict": 1.0, "partial": 1.0}
    assert explain(a, a, [a], V) == ""


def _score(reply, row):
    return score_reply(reply, row["answer"], row["answers"], V)


def test_partial_scores_at_known_points(row):
    lines = row["answer"].split("\n")  # <trace>, Step 0 .. Step S, Final answer, </trace>
    body = lines[1:-1]
    n = len(body)
    k = 7
    assert _score("\n".join(["<trace>", *body[:k]]), row) == {"strict": 0.0, "partial": k / n}  # truncated, no tag
    wrong = list(body)
    head, first, *rest = wrong[k].split("|")
    first = first.replace("does not see it", "SEES") if "does not" in first else first.replace("sees it", "SEES")
    wrong[k] = "|".join([head, first.replace("SEES", "does not see it" if "does not" not in body[k] else "sees it"),
                         *rest])
    assert wrong[k] != body[k]
    assert _score("\n".join(["<trace>", *wrong, "</trace>"]), row) == {"strict": 0.0, "partial": k / n}
    first_wrong = [body[0].replace("Step 0:", "Step 0: nothing"), *body[1:]]
    assert _score("\n".join(["<trace>", *first_wrong, "</trace>"]), row)["partial"] == 0.0
    messy = "Let me trace it.\n\n```\n<trace>\n" + "\n\n".join(f"-   **{x.upper()}**  " for x in body) + "\n```"
    assert _score(messy, row) == {"strict": 1.0, "partial": 1.0}
    extra = "\n".join(["<trace>", *body, "Step 999: nothing happens", "</trace>"])
    assert _score(extra, row) == {"strict": 0.0, "partial": 1.0}
    assert "after the whole trace" in explain(extra, row["answer"], row["answers"], V)
    none = "I think the object is in the basket."
    assert _score(none, row) == {"strict": 0.0, "partial": 0.0}
    assert "no trace" in explain(none, row["answer"], row["answers"], V)
    final_outside = "\n".join(["<trace>", *body[:-1], "</trace>", "", body[-1]])
    assert _score(final_outside, row) == {"strict": 1.0, "partial": 1.0}
    no_articles = row["answer"].replace(" the ", " ").replace("(", " ( ")
    assert _score(no_articles, row)["strict"] == 1.0


def test_a_story_restated_before_the_trace_is_not_the_trace(row):
    """Step lines in a preamble do not count once a <trace> block follows."""
    story = [line.strip() for line in row["input"].split("\n") if line.startswith(" Step ")]
    reply = "The story:\n" + "\n".join(story[:5]) + "\n\n" + row["answer"]
    assert _score(reply, row)["strict"] == 1.0


def _story_lines(row):
    """The step lines as they stand in the input: each starts with a space."""
    return [line for line in row["input"].split("\n") if re.match(r" Step \d+: ", line)]


def test_the_oracle_catches_edited_stories(row):
    lines = _story_lines(row)
    text = row["input"]
    # An illegal step: someone goes to the room they are in (Step 0's first person, to their own room).
    zero = re.match(r" Step 0: ([A-Z][a-z]+) is in the ([a-z]+)\.", lines[0])
    goes = next(x for x in lines[1:] if " goes to the " in x)
    k = int(goes.split(":")[0].split()[1])
    illegal = text.replace(goes, f" Step {k}: {zero[1]} goes to the {zero[2]}.") if k == 1 else None
    if illegal is None:  # insert it right after Step 0 instead, renumbering nothing: a numbering problem too
        illegal = text.replace(lines[0] + "\n", lines[0] + "\n" + f" Step 1: {zero[1]} goes to the {zero[2]}.\n")
    assert check_row(dict(row, input=illegal), {})[0]
    # A narration line that names a room.
    room = zero[2]
    named = text.replace("\n" + lines[1], f"\n A clock ticks in the {room}.\n" + lines[1], 1)
    assert any("narration line names" in p for p in check_row(dict(row, input=named), {})[0])
    # A step dropped: the numbering breaks.
    dropped = text.replace(lines[3] + "\n", "", 1)
    assert any("comes where step" in p for p in check_row(dict(row, input=dropped), {})[0])
    # An unreadable step line.
    garbled = text.replace(lines[2], lines[2].replace(" to the ", " towards the "), 1)
    assert any("cannot be read" in p for p in check_row(dict(row, input=garbled), {})[0])
    # A story line laid out without its leading space, and a close without one.
    flush = text.replace("\n" + lines[2], "\n" + lines[2].lstrip(), 1)
    assert any("exactly one space" in p for p in check_row(dict(row, input=flush), {})[0])
    tight = text.replace(" </story>", "</story>", 1)
    assert any("close does not start with a space" in p for p in check_row(dict(row, input=tight), {})[0])
    # A wrong reference answer.
    a = row["answer"].replace("sees it", "does not see it", 1)
    assert "oracle answer differs from `answer`" in check_row(dict(row, answer=a, answers=[a]), {})[0]


def test_a_legal_but_different_story_changes_the_answer(row):
    """A carry of the asked object turned into the carrier going alone: the story stays readable, the trace
    changes (or a later step becomes illegal), and the oracle says so."""
    meta = json.loads(row["meta"])
    carry = re.compile(rf"( Step \d+: [A-Z][a-z]+) takes the {meta['asked_object']} to the ([a-z]+) and puts it in "
                       r"the [a-z]+\.")
    m = next(m for line in _story_lines(row) if (m := carry.fullmatch(line)))
    edited = row["input"].replace(m[0], f"{m[1]} goes to the {m[2]}.")
    problems = check_row(dict(row, input=edited), {})[0]
    assert "oracle answer differs from `answer`" in problems or any(p.startswith("step ") for p in problems)


def test_name_lists_and_narration_are_clean():
    lists = _proc_tom.names()
    names = [n for kind in ("agents", "rooms", "containers", "objects") for n in lists[kind]]
    example = ["Pat", "Sam", "lamp", "tray", "porch", "den"]  # the prompt's format example
    low = [n.casefold() for n in names + example]
    assert len(set(low)) == len(low)
    assert all(a == b or a not in b for a in low for b in low)
    assert len(lists["agents"]) >= 6 and len(lists["rooms"]) >= 6 and len(lists["objects"]) >= 6
    assert len(lists["containers"]) >= 12
    pieces = _proc_tom.filler_pieces()
    for phrase in [x for kind in ("frame", "event", "place", "when") for x in pieces[kind]]:
        assert not any(n in phrase.casefold() for n in low), phrase
        assert "step" not in phrase.casefold()
    import random
    narration = _proc_tom.Narration(random.Random(1))
    for line in narration.draw_many(200):
        assert line.endswith("\n") and line[0] == " " and line[1].isupper() and not line.startswith(" Step")


def test_beliefs_diverge_and_both_outcomes_occur():
    outcomes, unseen = set(), []
    for seed in range(8):
        meta = json.loads(_row(4000, 800, seed)["meta"])
        outcomes.add(meta["final_belief"])
        unseen.append(meta["unseen_moves"])
    assert {"true", "false"} <= outcomes
    assert max(unseen) >= 3


def test_impossible_output_and_input_lengths_are_refused_in_one_line():
    with pytest.raises(ParamError, match=r"^--output-len: .*--agents") as err:
        _row(3000, 100, agents=6)
    assert "\n" not in str(err.value)
    with pytest.raises(ParamError, match=r"^--len: ") as err:
        _row(2100, 8000)
    assert "\n" not in str(err.value)


def test_exact_and_valid_with_a_sentencepiece_like_tokenizer(tmp_path):
    """A Unigram with a Metaspace dummy prefix (as Llama 2, Mistral and Gemma use): every story line and the close
    start with a space, so each counts alone as in context and the sample is exact in one tokenization."""
    path = str(train_unigram(tmp_path / "uni"))
    fam = families.get("procedures")
    params = dataclasses.asdict(fam.params(**{**fam.variants[V], "output_len": 800, "agents": 3}))
    row = build_sample(SampleSpec("procedures", V, 5000, 0.0, 0, 5, path, params))
    row["tokenizer_spec"] = path
    meta = json.loads(row["meta"])
    assert row["length"] == row["target_length"] == 5000
    assert meta["tokenizations"] == 1
    assert abs(meta["output_tokens"] - 800) <= tolerance(800)
    assert check_row(row, {})[0] == []
