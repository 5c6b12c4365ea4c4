"""procedures/travel_planning: exact length and output within tolerance, the oracle agreeing and catching edited
inputs, the only valid itinerary proven by brute force, and the metric's partial scores at known points."""

from __future__ import annotations

import itertools
import json
import random
import re

import dataclasses

import pytest

from lcgen.errors import ParamError
from lcgen.generators import _proc_travel as travel
from lcgen.generators._proc_common import tolerance
from lcgen.validate import check_row
from lcgen.validators.metrics._proc_travel import travel_steps
from lcgen.validators.metrics.procedures import explain, score_reply
from lcgen.make import SampleSpec, build_sample
from lcgen.registry import families
from tests.generators.rows import make_row
from tests.tokenizer_models import train_unigram

V = "travel_planning"
FLIGHT = re.compile(r"^ - from (\w+) to (\w+)$", re.M)
CITY = re.compile(r"^- (\w+): (\d+) days(?:, fixed from Day (\d+) to Day (\d+))?", re.M)


def _row(length: int, output_len: int, seed: int = 0) -> dict:
    return make_row("procedures", V, length, 0.0, 0, seed, output_len=output_len)


@pytest.fixture(scope="module")
def row() -> dict:
    return _row(8_000, 2_000, seed=5)


def _trip(row: dict):
    """(cities as (name, days, first day or None), flights among them) read back with this test's own regexes."""
    cities = [(m[1], int(m[2]), int(m[3]) if m[3] else None) for m in CITY.finditer(row["question"])]
    names = {c[0] for c in cities}
    body = row["input"][row["input"].index("<Flights>\n"):row["input"].index("</Flights>")]
    flights = {(a, b) for a, b in FLIGHT.findall(body) if a in names and b in names}
    return cities, flights


def _valid(cities, flights) -> list[tuple[str, ...]]:
    """Every valid itinerary, by brute force over permutations."""
    out = []
    for order in itertools.permutations(cities):
        day, ok = 1, True
        for i, (name, days, first) in enumerate(order):
            if (first is not None and first != day) or (i and (order[i - 1][0], name) not in flights):
                ok = False
                break
            day += days - 1
        if ok:
            out.append(tuple(c[0] for c in order))
    return out


@pytest.mark.parametrize("length, output_len, seed", [(6_000, 2_000, 1), (8_000, 500, 2), (32_000, 8_000, 7)])
def test_exact_valid_and_within_tolerance(length, output_len, seed):
    r = _row(length, output_len, seed)
    assert r["length"] == r["target_length"] == length
    assert check_row(r, {})[0] == []
    meta = json.loads(r["meta"])
    assert meta["tokenizations"] == 1
    assert abs(meta["output_tokens"] - output_len) <= tolerance(output_len)
    assert r["answers"] == [r["answer"]] and r["answer"] not in r["question"]
    assert r["question"] in r["input"]


def test_same_seed_same_bytes():
    assert _row(6_000, 1_000, 4)["input"] == _row(6_000, 1_000, 4)["input"]


def test_the_itinerary_is_the_only_valid_one(row):
    cities, flights = _trip(row)
    meta = json.loads(row["meta"])
    assert _valid(cities, flights) == [tuple(meta["itinerary"])]
    plan = re.findall(r"(?:Arriving in \w+ and visit|Visit) (\w+) for", row["answer"].split("<Plan>")[1])
    assert plan == meta["itinerary"]


def test_generator_count_agrees_with_brute_force():
    rng = random.Random(11)
    names = [f"C{i}x" for i in range(7)]
    for _ in range(60):
        k = rng.randint(2, 6)
        cities, order, flights = travel._draw(rng, names, k)
        extra = [(a.name, b.name) for a in cities for b in cities if a is not b]
        flights = flights | set(rng.sample(extra, rng.randint(0, len(extra))))
        brute = _valid([(c.name, c.days, c.start) for c in cities], flights)
        assert travel.count_trips(cities, flights) == min(len(brute), 2)


def test_reference_scores_one(row):
    assert score_reply(row["answer"], row["answer"], row["answers"], V) == {"strict": 1.0, "partial": 1.0}
    assert explain(row["answer"], row["answer"], row["answers"], V) == ""


def test_partial_scores_at_known_points(row):
    answer = row["answer"]
    gold = travel_steps(answer)
    n = len(gold)
    lines = answer.split("\n")
    steps_at = [i for i, line in enumerate(lines) if line.strip() and not line.startswith(("<", "</"))]
    assert len(steps_at) == n
    k = n // 3

    def score(text):
        return score_reply(text, answer, row["answers"], V)

    truncated = "\n".join(lines[: steps_at[k - 1] + 1])  # k steps, no closing tags
    assert score(truncated) == {"strict": 0.0, "partial": k / n}
    assert f"stops after {k} of {n}" in explain(truncated, answer, row["answers"], V)
    corrupted = list(lines)
    corrupted[steps_at[k]] = corrupted[steps_at[k]].replace("Day", "Day 1", 1) + " x"
    assert score("\n".join(corrupted)) == {"strict": 0.0, "partial": k / n}
    first = list(lines)
    first[steps_at[0]] = "Read the trip."
    assert score("\n".join(first)) == {"strict": 0.0, "partial": 0.0}
    loose = "Sure, here is the plan.\n\n```\n" + "\n".join(
        line if line.startswith("<") else "  " + line.replace(" ", "   ") + "  \n" for line in lines) + "```\n"
    assert score(loose) == {"strict": 1.0, "partial": 1.0}
    extra = answer.replace("</Plan>", "**Day 9:** Fly from Nowhere to Elsewhere.\n</Plan>")
    assert score(extra) == {"strict": 0.0, "partial": 1.0}
    assert score("I cannot plan this trip.") == {"strict": 0.0, "partial": 0.0}
    assert "no <Solving Procedure>" in explain("I cannot plan this trip.", answer, row["answers"], V)


def test_the_oracle_catches_edited_inputs(row):
    cities, flights = _trip(row)
    meta = json.loads(row["meta"])
    it = meta["itinerary"]
    text = row["input"]
    # a flight of the itinerary removed (replaced by its reverse): another answer or no valid trip
    a, b = it[0], it[1]
    edited = text.replace(f" - from {a} to {b}\n", f" - from {b} to {a}\n", 1)
    assert edited != text
    problems = check_row(dict(row, input=edited), {})[0]
    assert any("itinerary" in p or "differs" in p for p in problems), problems
    # a line that is not a flight
    line = FLIGHT.search(text[text.index("<Flights>"):]).group(0)
    problems = check_row(dict(row, input=text.replace(line, line.replace("- from", "- fly from"), 1)), {})[0]
    assert any("unreadable line" in p for p in problems), problems
    # a line without its leading space (the layout every line keeps, so it counts alone as in the list)
    problems = check_row(dict(row, input=text.replace(line, line.lstrip(" "), 1)), {})[0]
    assert any("unreadable line" in p for p in problems), problems


def test_a_second_itinerary_is_caught():
    """Another order that keeps the fixed dates, its missing flights written over filler lines: two valid trips."""
    r = _row(8_000, 1_500, 6)
    cities, flights = _trip(r)
    it = tuple(json.loads(r["meta"])["itinerary"])
    other = next(tuple(c[0] for c in order) for order in itertools.permutations(cities)
                 if tuple(c[0] for c in order) != it and _valid(order, {(a[0], b[0]) for a, b in
                                                                        zip(order, order[1:])}))
    missing = [(a, b) for a, b in zip(other, other[1:]) if (a, b) not in flights]
    text = r["input"]
    names = {c[0] for c in cities}
    filler = [m.group(0) for m in FLIGHT.finditer(text[text.index("<Flights>"):])
              if not (m[1] in names and m[2] in names) and (m[1], m[2]) not in missing]
    for line, (a, b) in zip(filler, missing):
        text = text.replace(line + "\n", f" - from {a} to {b}\n", 1)
    assert len(_valid(cities, flights | set(missing))) >= 2
    problems = check_row(dict(r, input=text), {})[0]
    assert any("more than one itinerary" in p for p in problems), problems


def test_impossible_lengths_are_refused_in_one_line():
    with pytest.raises(ParamError, match=r"^--output-len: .*\n?$") as err:
        _row(8_000, 100)
    assert "\n" not in str(err.value)
    with pytest.raises(ParamError, match=r"^--len: ") as err:
        _row(2_000, 500)
    assert "\n" not in str(err.value)


def test_exact_with_a_sentencepiece_like_tokenizer(tmp_path):
    """A Unigram with a Metaspace pre-tokenizer prepends "▁" to a text that starts with a word; every flight line
    and the close start with a space, so each counts alone as in context and one tokenization is exact."""
    path = str(train_unigram(tmp_path))
    fam = families.get("procedures")
    params = dataclasses.asdict(fam.params(**{**fam.variants[V], "output_len": 1_500}))
    row = build_sample(SampleSpec("procedures", V, 8_000, 0.0, 0, 3, path, params, None, False))
    row["tokenizer_spec"] = path
    assert row["length"] == row["target_length"] == 8_000
    assert check_row(row, {})[0] == []
    meta = json.loads(row["meta"])
    assert meta["tokenizations"] == 1
    assert abs(meta["output_tokens"] - 1_500) <= tolerance(1_500)
