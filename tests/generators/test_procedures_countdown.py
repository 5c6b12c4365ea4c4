"""procedures/countdown: exact samples the oracle re-solves, the metric on truncated and corrupted traces, the
oracle catching edited inputs, and one-line refusals."""

from __future__ import annotations

import dataclasses
import functools
import json
import re

import pytest

from lcgen.errors import ParamError
from lcgen.generators._proc_common import tolerance
from lcgen.make import SampleSpec, build_sample
from lcgen.registry import families
from lcgen.validate import check_row
from lcgen.validators.metrics._proc_countdown import countdown_steps
from lcgen.validators.metrics.procedures import explain, score_reply
from tests.generators.rows import make_row
from tests.tokenizer_models import train_unigram

V = "countdown"


@functools.lru_cache(maxsize=None)
def _row(length: int, output_len: int, seed: int = 0, numbers: int = 4) -> str:
    return json.dumps(make_row("procedures", V, length, 0.0, 0, seed, output_len=output_len, numbers=numbers))


def row(*args) -> dict:
    return json.loads(_row(*args))


def score(reply: str, answer: str) -> dict[str, float]:
    return score_reply(reply, answer, [answer], V)


@pytest.mark.parametrize("length, output_len, numbers", [(6000, 2000, 4), (8000, 500, 4), (12000, 4000, 4),
                                                         (6000, 1000, 6), (3000, 500, 3)])
def test_samples_validate_exactly_within_tolerance(length, output_len, numbers):
    r = row(length, output_len, 0, numbers)
    meta = json.loads(r["meta"])
    assert r["length"] == length and meta["tokenizations"] == 1
    assert check_row(r, {}) == ([], 0.0)
    assert abs(meta["output_tokens"] - output_len) <= tolerance(output_len)
    assert len(meta["given"]) == numbers and meta["numbers"] == numbers
    assert r["question"] in r["input"].split("</examples>")[1]


def test_seeded():
    assert row(6000, 2000, 0) == json.loads(json.dumps(make_row("procedures", V, 6000, 0.0, 0, 0, output_len=2000)))
    assert row(6000, 2000, 1)["input"] != row(6000, 2000, 0)["input"]


def test_answer_is_the_first_solution_and_adds_up():
    """The trace ends at the only "equals" line; no earlier final result is the target; the solution's equations
    use the numbers still there and end at the target."""
    r = row(6000, 2000, 0)
    meta, answer = json.loads(r["meta"]), r["answer"]
    target, lines = meta["target"], answer.split("\n")
    assert lines[0] == "# Search Procedure" and lines[-1] == "</Solution>"
    hit = [i for i, ln in enumerate(lines) if ln.rstrip().endswith(f"equals {target}.")]
    assert hit == [lines.index("Now we have found the target.") - 1]
    assert not any(re.search(rf"= {target}, not {target}\.$", ln) for ln in lines)
    pool = list(meta["given"])
    for eq in lines[lines.index("<Solution>") + 1:-1]:
        a, op, b, c = re.fullmatch(r"(\d+) ([-+*/]) (\d+) = (\d+)", eq).groups()
        a, b, c = int(a), int(b), int(c)
        assert a >= b and c == {"+": a + b, "-": a - b, "*": a * b, "/": a // b if a % b == 0 else -1}[op]
        pool.remove(a)
        pool.remove(b)
        pool.insert(0, c)
    assert pool == [target]


def test_metric_on_the_reference():
    answer = row(6000, 2000, 0)["answer"]
    assert score(answer, answer) == {"strict": 1.0, "partial": 1.0}
    steps = countdown_steps(answer)
    assert isinstance(steps, list) and len(steps) == len(answer.split("\n")) - 3  # header and the two tags


def test_metric_partial_scores():
    answer = row(6000, 2000, 0)["answer"]
    lines = answer.split("\n")
    n = len(countdown_steps(answer))
    k = n // 2
    truncated = "\n".join(lines[:1 + k])  # the header, then k steps
    assert score(truncated, answer) == {"strict": 0.0, "partial": k / n}
    assert "stops after" in explain(truncated, answer, [answer], V)
    corrupted = list(lines)
    corrupted[1 + k] = re.sub(r"\d+", lambda m: str(int(m.group()) + 1), corrupted[1 + k], count=1)
    assert score("\n".join(corrupted), answer) == {"strict": 0.0, "partial": k / n}
    assert f"step {k + 1} of {n} is wrong" in explain("\n".join(corrupted), answer, [answer], V)
    wrong_first = answer.replace("Start with [", "Start with [1, ", 1)
    assert score(wrong_first, answer) == {"strict": 0.0, "partial": 0.0}
    messy = "Sure, here is the search.\n\n```\n" + "\n\n".join("  " + ln.replace(" ", "   ") + "  " for ln in lines)
    assert score(messy + "\n```\nDone.", answer) == {"strict": 1.0, "partial": 1.0}
    assert score(answer[: -len("\n</Solution>")], answer)["strict"] == 1.0  # a missing closing tag is tolerated
    extra = answer.replace("</Solution>", "1 + 1 = 2\n</Solution>")
    assert score(extra, answer) == {"strict": 0.0, "partial": 1.0}
    for reply in ("I cannot do this.", "", "# Search Procedure\n"):
        assert score(reply, answer) == {"strict": 0.0, "partial": 0.0}
        assert explain(reply, answer, [answer], V)


def test_metric_reads_equations_without_evaluating_them():
    answer = row(6000, 2000, 0)["answer"]
    eqs = answer.split("<Solution>")[1]
    assert countdown_steps("# Search Procedure\n<Solution>\n40 \u00d7 2 = 80\n__import__('os')\n")[:2] == \
        ["40 * 2 = 80", "unreadable equation: __import__('os')"]
    spaced = answer.replace(eqs, re.sub(r" ", "", eqs))
    assert score(spaced, answer)["strict"] == 1.0


def _problems(r: dict) -> list[str]:
    return check_row(r, {})[0]


def test_oracle_catches_a_changed_target():
    r = row(6000, 2000, 0)
    target = json.loads(r["meta"])["target"]
    question = r["question"].replace(f"target is {target}.", f"target is {target + 1}.")
    r["input"], r["question"] = r["input"].replace(r["question"], question), question
    assert "oracle answer differs from `answer`" in _problems(r)


def test_oracle_catches_an_edited_example_and_the_asked_numbers():
    r = row(6000, 2000, 0)
    text = r["input"]
    body = text[text.index("<examples>"):]
    m = re.search(r"\|- Try (\d+) \+ (\d+) = (\d+), now", body)
    edited = body[:m.start(3)] + str(int(m.group(3)) + 2) + body[m.end(3):]
    r1 = dict(r, input=text[:text.index("<examples>")] + edited)
    assert any("is not the right trace" in p for p in _problems(r1))
    given = json.loads(r["meta"])["given"]
    first = re.search(r"Example: [^\n]*?(\[[\d, ]+\])", body)
    swapped = body[:first.start(1)] + "[" + ", ".join(map(str, given)) + "]" + body[first.end(1):]
    r2 = dict(r, input=text[:text.index("<examples>")] + swapped)
    assert any("has the asked numbers" in p for p in _problems(r2))
    r3 = dict(r, input=text.replace("|- Try 25 * 25 = 625, equals 625.", "|- Try 25 * 25 = 625, not 625.", 1))
    assert any("worked example 1" in p for p in _problems(r3))


def test_refusals_are_one_line():
    with pytest.raises(ParamError, match=r"^--output-len: .*--numbers 3.*raise --numbers$"):
        make_row("procedures", V, 6000, 0.0, 0, 0, output_len=2000, numbers=3)
    with pytest.raises(ParamError, match=r"^--len: 1,000 tokens is too short") as exc:
        make_row("procedures", V, 1000, 0.0, 0, 0, output_len=500)
    assert "\n" not in str(exc.value)


def test_exact_with_a_sentencepiece_like_tokenizer(tmp_path):
    """A Unigram with a Metaspace dummy prefix (as Llama 2, Mistral, Gemma) counts every example and the close alone
    as in context, since each begins with a space: exact in one tokenization. An example without its space is
    refused by the oracle."""
    path = str(train_unigram(tmp_path / "uni"))
    fam = families.get("procedures")
    params = dataclasses.asdict(fam.params(**{**fam.variants[V], "output_len": 1000}))
    r = build_sample(SampleSpec("procedures", V, 6000, 0.0, 0, 3, path, params, None, False))
    r["tokenizer_spec"] = path
    meta = json.loads(r["meta"])
    assert r["length"] == 6000 and meta["tokenizations"] == 1
    assert abs(meta["output_tokens"] - 1000) <= tolerance(1000)
    assert check_row(r, {}) == ([], 0.0)
    text = r["input"]
    assert "<examples>\n\n Example" in text and "</Solution>\n\n </examples>\n\n" in text
    bare = dict(r, input=text.replace("\n\n Example", "\n\nExample", 1))
    assert any("is not a solved example" in p for p in _problems(bare))
