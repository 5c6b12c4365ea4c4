"""needle-threads: every variant agrees with its independent oracle; the validator catches broken samples."""

from __future__ import annotations

import json
import re

import pytest

from lcgen.registry import families
from lcgen.validate import check_row
from tests.generators import rows

FAM = families.get("needle-threads")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def make_row(variant: str, length: int = 6000, depth: float = 50.0, index: int = 0, **knobs) -> dict:
    return rows.make_row("needle-threads", variant, length, depth, index, 11, **knobs)


GRID = [
    (variant, depth, knobs)
    for variant in FAM.variant_names()
    for depth in (0.0, 33.0, 100.0)
    for knobs in (
        [{"placement": "random"}, {"placement": "clustered", "needles": 7}]
        if variant in ("multiple_needles", "conditional_needles")
        else [{"direction": d} for d in ("forward", "backward", "random")]
        if "threads" in variant
        else [{}]
    )
]


@pytest.mark.parametrize("variant, depth, knobs", GRID)
def test_oracle_agrees(variant, depth, knobs):
    for index in range(2):
        row = make_row(variant, depth=depth, index=index, **knobs)
        problems, _ = check_row(row, {})
        assert problems == [], (row["id"], knobs, problems)


def test_answers_have_the_promised_shape():
    single = make_row("single_needle")
    assert UUID.fullmatch(single["answer"]) and single["answers"] == [single["answer"]]
    multi = make_row("multiple_needles", needles=4)
    assert json.loads(multi["answer"]) == multi["answers"] and len(multi["answers"]) == 4
    multi_t = make_row("multi_threads", threads=4)
    assert len(multi_t["answers"]) == 4
    branched = make_row("branched_threads", branches=5)
    assert len(branched["answers"]) == 5 and all(k in branched["input"] for k in branched["answers"])
    for row in (single, multi, multi_t, branched):
        assert row["input"].endswith(row["question"] + "\n")


def test_threads_follow_direction():
    for direction, descending in (("forward", False), ("backward", True)):
        row = make_row("threads", length=20_000, depth=50.0, direction=direction, thread_length=6)
        offsets = json.loads(row["meta"])["needle_offsets"]
        assert len(offsets) == 6 and offsets == sorted(offsets, reverse=descending), (direction, offsets)


def test_clustered_needles_are_consecutive():
    row = make_row("multiple_needles", length=20_000, needles=6, placement="clustered")
    offsets = sorted(json.loads(row["meta"])["needle_offsets"])
    lines = row["input"][offsets[0]:].splitlines()[:6]
    keys = json.loads(row["meta"])["keys"]
    assert [line.split('"')[1] for line in lines] == keys


def test_marker_appears_only_in_marked_keys():
    row = make_row("conditional_needles", needles=6, marker="&")
    start = row["input"].index("\n{\n")
    end = row["input"].index("\n}", start)
    assert row["input"][start:end].count("&") == 6


def test_uuids_are_unique_and_rfc4122():
    row = make_row("single_needle", length=30_000)
    context = row["input"][: row["input"].index("\n}") + 2]
    found = UUID.findall(context)
    assert len(found) > 500 and len(set(found)) == len(found)


@pytest.mark.parametrize(
    "tamper, message",
    [
        (lambda r: r.update(answer="00000000-0000-4000-8000-000000000000"), "oracle answer differs"),
        (lambda r: r.update(length=r["length"] - 1), "tokens"),
        (lambda r: r.update(depth=[d + 1.0 for d in r["depth"]]), "depths differ"),
        (lambda r: r.update(question=r["question"] + " " + r["answer"], input=r["input"] + r["answer"]), "leaks"),
        (lambda r: r.update(target_depth=0.0), "off target"),
        (lambda r: r.update(input=r["input"].replace(r["answer"], r["answer"][::-1])), "differs"),
    ],
)
def test_validator_catches_tampering(tamper, message):
    row = make_row("single_needle", length=8000)
    tamper(row)
    problems, _ = check_row(row, {})
    assert any(message in p for p in problems), problems


def test_duplicate_key_is_caught():
    row = make_row("single_needle", length=4000)
    lines = row["input"].split("\n")
    i = next(i for i, line in enumerate(lines) if line.startswith('  "'))
    lines.insert(i + 1, lines[i])
    row["input"] = "\n".join(lines)
    problems, _ = check_row(row, {})
    assert any("duplicate" in p or "repeat" in p for p in problems), problems


def test_same_spec_same_row_other_seed_other_row():
    assert make_row("threads") == make_row("threads")
    assert make_row("threads", index=1)["input"] != make_row("threads")["input"]
