"""procedures/path_traversal: samples validate at several lengths, the metric scores truncated and corrupted traces
as stated, the oracle catches hand-corrupted worlds, and impossible sizes are refused in one line."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from lcgen.errors import ParamError
from lcgen.generators._proc_common import tolerance
from lcgen.make import SampleSpec, build_sample
from lcgen.registry import families
from lcgen.validate import check_row
from lcgen.validators._proc_path import count_simple_paths
from lcgen.validators.metrics._proc_path import path_steps
from lcgen.validators.metrics.procedures import explain, score_reply
from tests.generators.rows import make_row
from tests.tokenizer_models import train_unigram

VARIANT = "path_traversal"
_LINE = re.compile(r"^ ([A-Z][a-z]+) is [a-z ]+\. You can travel from \1 to ([A-Z][a-z]+) by ([a-z]+)\.$", re.M)


def _row(length: int, output_len: int, seed: int = 3, index: int = 0) -> dict:
    return make_row("procedures", VARIANT, length, 0.0, index, seed, output_len=output_len)


@pytest.fixture(scope="module")
def row() -> dict:
    return _row(6000, 2000)


def _score(reply: str, answer: str) -> tuple[float, float, str]:
    got = score_reply(reply, answer, [answer], VARIANT)
    return got["strict"], got["partial"], explain(reply, answer, [answer], VARIANT)


def _lines(answer: str) -> list[str]:
    return answer.splitlines()[1:-1]


def _wrap(lines: list[str]) -> str:
    return "<Route>\n" + "\n".join(lines) + "\n</Route>"


@pytest.mark.parametrize("length, output_len", [(6000, 2000), (32000, 8000), (8000, 500)])
def test_samples_validate_exact_and_on_target(length, output_len):
    row = _row(length, output_len, seed=length)
    meta = json.loads(row["meta"])
    assert check_row(row, {})[0] == []
    assert row["length"] == length and meta["tokenizations"] == 1
    assert abs(meta["output_tokens"] - output_len) <= meta["output_tolerance"]
    assert meta["hops"] == len(_lines(row["answer"]))
    assert row["question"] in row["input"] and row["answer"] not in row["input"]


def test_world_is_one_way_out_of_every_city_and_the_route_unique(row):
    meta = json.loads(row["meta"])
    world = _LINE.findall(row["input"])
    assert len(world) == row["input"].count("You can travel from ")  # every sentence is a city line
    sources = [a for a, _, _ in world]
    assert len(sources) == len(set(sources)) and {b for _, b, _ in world} <= set(sources)
    assert {t for _, _, t in world} == {"bus", "train", "plane", "ferry"}
    # Only route and off-route needle cities are destinations: no city connects to a (discardable) filler city.
    assert len({b for _, b, _ in world}) <= meta["route_cities"] + meta["off_route_needles"]
    out = {a: (b, t) for a, b, t in world}
    src, dst = meta["source"], meta["destination"]
    assert out[dst][0] != src or meta["hops"] == 1  # the destination has a way out too (LongProc's is a sink)
    city, steps, seen = src, [], {src}
    while city != dst:
        nxt, transit = out[city]
        assert nxt not in seen
        steps.append(f"From {city}, take a {transit} to {nxt}.")
        seen.add(nxt)
        city = nxt
    assert _wrap(steps) == row["answer"]


def test_same_seed_same_bytes_other_seed_other_world():
    assert _row(6000, 1000, seed=5) == _row(6000, 1000, seed=5)
    assert _row(6000, 1000, seed=5)["input"] != _row(6000, 1000, seed=6)["input"]


def test_metric_on_reference_truncations_and_corruptions(row):
    answer = row["answer"]
    lines = _lines(answer)
    n, k = len(lines), len(lines) // 3
    assert isinstance(path_steps(answer), list) and len(path_steps(answer)) == n
    assert _score(answer, answer) == (1.0, 1.0, "")
    # Truncated after k of n steps, with and without the closing tag (a cut-off generation).
    assert _score(_wrap(lines[:k]), answer)[:2] == (0.0, k / n)
    assert _score("<Route>\n" + "\n".join(lines[:k]), answer)[:2] == (0.0, k / n)
    assert "stops after" in _score(_wrap(lines[:k]), answer)[2]
    # Cut in the middle of step k + 1: that step is wrong.
    assert _score("<Route>\n" + "\n".join(lines[:k]) + "\n" + lines[k][:12], answer)[:2] == (0.0, k / n)
    # Step k + 1 corrupted (another transit), the rest right.
    bad = lines[k].replace(" take a ", " take a night ")
    strict, partial, why = _score(_wrap(lines[:k] + [bad] + lines[k + 1:]), answer)
    assert (strict, partial) == (0.0, k / n) and f"step {k + 1} of {n} is wrong" in why
    # Wrong first step: 0 (LongProc credits 1/n).
    assert _score(_wrap(["From Nowhere, take a bus to Elsewhere."] + lines[1:]), answer)[:2] == (0.0, 0.0)
    # A skipped step: everything after it is off by one.
    assert _score(_wrap(lines[:k] + lines[k + 1:]), answer)[:2] == (0.0, k / n)
    # Extra steps after the whole route: strict 0, partial 1.
    strict, partial, why = _score(_wrap(lines + ["From X, take a bus to Y."]), answer)
    assert (strict, partial) == (0.0, 1.0) and "after the whole trace" in why


def test_metric_tolerates_format_noise_not_content(row):
    answer = row["answer"]
    lines = _lines(answer)
    noisy = ("Sure. I follow the one connection out of each city, writing it between <Route> and </Route>.\n\n"
             "```\n<route>\n\n" + "\n\n".join("  " + " ".join(line.split(" ")).replace(" take", "   take") + "  "
                                               for line in lines) + "\n</ROUTE>\n```\nDone.")
    assert _score(noisy, answer) == (1.0, 1.0, "")
    # Case and a trailing period are not content.
    assert _score(_wrap([line.lower().rstrip(".") for line in lines]), answer)[:2] == (1.0, 1.0)
    # The last block counts: the prompt's example echoed first does no harm.
    example = "<Route>\nFrom A, take a train to B.\n</Route>\n"
    assert _score(example + answer, answer)[:2] == (1.0, 1.0)
    # A list marker or a missing comma is a wrong step.
    assert _score(_wrap(["- " + line for line in lines]), answer)[:2] == (0.0, 0.0)
    assert _score(_wrap([lines[0].replace(",", "", 1)] + lines[1:]), answer)[:2] == (0.0, 0.0)


def test_metric_without_a_trace_gives_zero_with_a_reason(row):
    answer = row["answer"]
    for reply, reason in [("", "no <Route> block"), ("\n".join(_lines(answer)), "no <Route> block"),
                          ("<Route>\n\n</Route>", "empty"), (None, "")]:
        strict, partial, why = _score(reply, answer)
        assert (strict, partial) == (0.0, 0.0) and why and reason in why


def _problems(row: dict, old: str, new: str) -> list[str]:
    assert old in row["input"]
    return check_row({**row, "input": row["input"].replace(old, new, 1)}, {})[0]


def test_oracle_catches_corrupted_worlds(row):
    meta = json.loads(row["meta"])
    src, dst = meta["source"], meta["destination"]
    text = row["input"]
    first = re.search(rf"^ {src} is [a-z ]+\. You can travel from {src} to ([A-Z][a-z]+) by ([a-z]+)\.$", text, re.M)
    # A second connection out of the source, straight to the destination: a second route.
    extra = f" {src} is a lively city. You can travel from {src} to {dst} by bus.\n"
    problems = _problems(row, "<World>\n", "<World>\n" + extra)
    assert any("listed more than once" in p for p in problems)
    assert any("2 outgoing connections" in p for p in problems)
    assert any("more than one route" in p for p in problems)
    # The source's line edited to lead straight to the destination: a different answer.
    edited = first.group(0).replace(f"to {first.group(1)} by", f"to {dst} by")
    assert "oracle answer differs from `answer`" in _problems(row, first.group(0), edited)
    # A connection to a city that is not listed, and a line that does not parse.
    assert any("not a listed city" in p for p in _problems(row, f"to {first.group(1)} by", "to Zzyzx by"))
    assert any("unparsable line" in p for p in _problems(row, first.group(0), first.group(0).replace(
        "You can travel", "You may travel")))
    # A city connecting to itself.
    assert any("connects to itself" in p for p in _problems(row, f"to {first.group(1)} by", f"to {src} by"))
    # The layout: every line and the close start with exactly one space.
    for old, new in ((first.group(0), first.group(0)[1:]), (first.group(0), " " + first.group(0))):
        assert any("does not start with exactly one space" in p for p in _problems(row, old, new))
    assert any("does not follow one space" in p for p in _problems(row, " </World>", "</World>"))


def test_simple_path_count_sees_a_second_route():
    one = {"A": ["B"], "B": ["C"], "C": ["A"]}
    assert count_simple_paths(one, "A", "C") == 1
    two = {"A": ["B", "D"], "B": ["C"], "D": ["C"], "C": ["A"]}
    assert count_simple_paths(two, "A", "C") == 2


def test_impossible_sizes_are_refused_in_one_line():
    with pytest.raises(ParamError, match=r"^--len: .*too short for a route of .* hops") as err:
        _row(3000, 2000)
    assert "\n" not in str(err.value)
    with pytest.raises(ParamError, match=r"^--len: "):
        _row(20000, 16000)


def test_exact_with_a_sentencepiece_like_tokenizer(tmp_path):
    """A Unigram with a Metaspace pre-tokenizer prepends "▁" to a text that starts with a word; every city line and
    the close start with a space, so each counts alone as in context and one tokenization is exact."""
    path = str(train_unigram(tmp_path))
    fam = families.get("procedures")
    params = dataclasses.asdict(fam.params(**{**fam.variants[VARIANT], "output_len": 1_000}))
    row = build_sample(SampleSpec("procedures", VARIANT, 8_000, 0.0, 0, 3, path, params, None, False))
    row["tokenizer_spec"] = path
    assert row["length"] == row["target_length"] == 8_000
    assert check_row(row, {})[0] == []
    meta = json.loads(row["meta"])
    assert meta["tokenizations"] == 1
    assert abs(meta["output_tokens"] - 1_000) <= tolerance(1_000)
