"""Plan-time sizing (lcgen.sizing): the frame agrees with what the engine builds, blocks are the prefix a count or a
budget asks for, and the fitter turns a small filler budget into one the filler can make, or says it cannot."""

from __future__ import annotations

import random

import pytest

from lcgen.assemble import Needle, Plan, assemble
from lcgen.errors import ParamError
from lcgen.sizing import SMALL_BUDGET, Fitter, Frame, Group, OneSize, frame, take
from lcgen.tokenizer import get_tokenizer


class Words:
    """A stand-in tokenizer: one token per word, so sizes in these tests are visible in the text."""

    name = "words"

    def counts(self, texts):
        return [len(t.split()) for t in texts]


def words(n: int, tag: str = "w") -> str:
    return " " + " ".join([tag] * n)


class Sized:
    """Filler whose units take a seeded size in [lo, hi] words; counts its draws."""

    def __init__(self, lo: int, hi: int, seed: int = 0):
        self.rng, self.lo, self.hi, self.drawn = random.Random(seed), lo, hi, 0

    def draw(self) -> str:
        self.drawn += 1
        return words(self.rng.randint(self.lo, self.hi), "f")


def steps_of(sizes):
    """A stream of one-needle steps of the given sizes; counts how far it was read."""
    read = [0]

    def stream():
        for i, n in enumerate(sizes):
            read[0] += 1
            yield i, [words(n)]

    return stream(), read


def flat(room: int = 10_000) -> Frame:
    return Frame(Words(), room, 0, 0, room)


@pytest.mark.parametrize("head, ctx_open, ctx_close, tail", [
    ("Rows:\n", "<records>", " </records>", "\nQuestion: which?"),
    ("Read this.", "", "", " Answer:"),
    ("Context:\n\n", "[", " ]", "\n\nQ"),
])
@pytest.mark.parametrize("target", [300, 1000])
def test_frame_is_what_the_engine_measures(head, ctx_open, ctx_close, tail, target):
    tok = get_tokenizer("cl100k_base")
    fr = frame(tok, target, head, tail, ctx_open, ctx_close)
    rng = random.Random(target)
    needles = [Needle(f" Row {rng.randint(0, 999)} holds the value {rng.randint(0, 99)}.", d) for d in (0, 50, 100)]

    class Filler:
        def draw(self):
            return f" Filler {rng.randint(0, 9999)} says {'so ' * rng.randint(1, 6)}much."

    built = assemble(tok, target, Plan(head, tail, ctx_open, ctx_close, needles, Filler()))
    assert built.length == target
    assert built.context_tokens == fr.context
    assert fr.room == target - tok.count(head + ctx_open) - tok.count(ctx_close + tail)
    assert fr.share(0.25) == 0.25 * fr.context


def test_take_a_count_of_steps():
    stream, read = steps_of([3, 5, 4, 6] * 40)
    block = take(flat(), stream, steps=5)
    assert block.items == [0, 1, 2, 3, 4] and block.step_tokens() == [3, 5, 4, 6, 3] and block.tokens == 21
    assert block.units[1] == [words(5)] and read[0] == 5


@pytest.mark.parametrize("budget, kept", [(10, 2), (11, 3), (2, 1), (1.4, 1), (14.9, 3), (15, 3), (16.5, 4)])
def test_take_the_prefix_closest_to_a_budget(budget, kept):
    """Prefix sums 3, 8, 12, 18: a tie keeps the shorter prefix; at least one step."""
    stream, read = steps_of([3, 5, 4, 6] * 40)
    block = take(flat(), stream, tokens=budget)
    assert len(block.items) == kept
    assert read[0] == 16  # drawn in batches of 16, the same on every machine


def test_take_keeps_the_least_a_query_needs():
    stream, _ = steps_of([3, 5, 4, 6] * 40)
    assert len(take(flat(), stream, tokens=1, least=3).items) == 3


def test_take_stops_past_the_room():
    stream, read = steps_of([5] * 1000)
    block = take(flat(room=42), stream, steps=500)
    assert block.tokens > 42 and read[0] == 64  # the first batch already overflows; no more is drawn


def group(sizes, alternatives, window=None, ideal=None) -> Group:
    units = [words(n, f"n{i}") for i, n in enumerate(sizes)]
    return Group(units, list(sizes), lambda i: [words(n, f"n{i}") for n in alternatives[i]], window, ideal)


def test_a_large_budget_is_left_alone_and_draws_nothing():
    filler = Sized(28, 39)
    needles = group([30, 31], [[30, 33], [31, 28]])
    fitted = Fitter(flat(room=61 + SMALL_BUDGET * 31), filler).fit([needles])
    assert fitted.filler is filler and fitted.counts == [[30, 31]] and filler.drawn == 0


def test_a_small_budget_is_fitted_by_rephrasing():
    """80 tokens from units of 28-39 (two make at most 78, three at least 84): one needle is rephrased so the rest is
    a whole number of one common size, and the filler then gives only that size."""
    fr = flat(room=30 + 31 + 80)
    fitted = Fitter(fr, Sized(28, 39)).fit([group([30, 31], [[30, 26, 33], [31, 35]])])
    assert fitted is not None
    rest = fr.room - sum(fitted.counts[0])
    size = fitted.filler.size
    assert 28 <= size <= 39 and rest % size == 0 and rest > 0
    assert sum(a != b for a, b in zip(fitted.counts[0], [30, 31])) == 1  # the fewest needles rephrased
    assert all(len(u.split()) == size for u in fitted.filler.draw_many(10))
    assert [len(u.split()) for u in fitted.units[0]] == fitted.counts[0]


def test_the_window_limits_rephrasing_and_the_ideal_breaks_ties():
    fr = flat(room=30 + 31 + 80)
    frozen = Fitter(fr, Sized(28, 39)).fit([group([30, 31], [[30, 26, 33], [31, 35]], window=(61, 61))])
    assert frozen is None  # no change allowed and 80 is no multiple of a common size
    near = Fitter(fr, Sized(28, 39)).fit([group([30, 31], [[30, 26, 33], [31, 35]], window=(57, 65), ideal=65)])
    assert near is not None and sum(near.counts[0]) == 65  # 35 instead of 31 (rest 76 = 2 x 38) beats 26 (rest 84)


def test_one_size_is_bounded():
    class NeverThree:
        def draw(self):
            return words(2)

    with pytest.raises(ParamError, match="filler units drawn gave too few of 3 tokens") as err:
        OneSize(NeverThree(), Words(), 3, []).draw_many(1)
    assert "\n" not in str(err.value)
