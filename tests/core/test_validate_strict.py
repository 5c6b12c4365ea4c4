"""The validator fails what is wrong: a large needle's own size excuses no depth error, a needle that is the last
unit is not subtracted twice, and a sample short of its target fails."""

from __future__ import annotations

import types

import numpy as np
import pytest

from lcgen.tokenizer import get_tokenizer
from lcgen.validate import _anchor_error, check_row
from tests.generators.rows import make_row

FILLER = [f" Item {i} is here." for i in range(40)]  # 5 tokens each
NEEDLE = " " + "The vault code sits in the north tower behind the old clock. " * 40  # ~520 tokens


def _depth_error(needle_at: int, target: float | None) -> tuple[float, float]:
    """Error and allowance of a large needle after ``needle_at`` filler units; ``target`` None: where it is."""
    units = FILLER[:needle_at] + [NEEDLE] + FILLER[needle_at:]
    text = "".join(units)
    offsets = np.cumsum([0] + [len(u) for u in units[:-1]]).tolist()
    index = get_tokenizer("cl100k_base").index(text)
    needle_offset = offsets[needle_at]
    got = types.SimpleNamespace(unit_offsets=offsets, anchor=0)
    if target is None:
        target = 100.0 * index.token_at(needle_offset) / index.n_tokens
    return _anchor_error(index, got, index.tokens_at([needle_offset]), 0, index.n_tokens, target)


def test_a_large_needle_at_the_wrong_depth_fails():
    error, allowed = _depth_error(needle_at=8, target=0.0)  # eight filler units (~5 points) late
    assert error > allowed  # the old allowance (one unit *including* the needle: 10 points) let it pass
    assert allowed < 1.0


@pytest.mark.parametrize("needle_at, target", [(0, 0.0), (len(FILLER), 100.0), (20, None)])
def test_a_large_needle_where_asked_passes(needle_at, target):
    error, allowed = _depth_error(needle_at, target)
    assert error <= allowed, (error, allowed)  # the needle as last unit was subtracted twice: a 90-point error


def test_a_short_sample_fails():
    row = make_row("needle-threads", "single_needle", 2000, 50.0)
    row["target_length"] += 7
    problems, _ = check_row(row, {})
    assert any("7 tokens short of target" in p for p in problems), problems


def test_a_declared_source_is_regenerated_from_the_recorded_request(monkeypatch):
    """A family that declares ``source`` gets it rebuilt from what the row records: the very spec it was made from."""
    import dataclasses

    from lcgen.make import build_sample
    from lcgen.registry import families
    from lcgen.validate import oracle_input

    spec = families.get("needle-threads")
    monkeypatch.setitem(families._items, "needle-threads", dataclasses.replace(spec, source=lambda s: s))
    row = make_row("needle-threads", "threads", 2000, 30.0, index=3, seed=9)
    regenerated = oracle_input(row).source
    assert regenerated.id == row["id"] and regenerated.seed == 9
    assert {k: v for k, v in build_sample(regenerated).items() if k != "tokenizer_spec"} == {
        k: v for k, v in row.items() if k != "tokenizer_spec"}
    problems, _ = check_row(row, {})
    assert problems == []
