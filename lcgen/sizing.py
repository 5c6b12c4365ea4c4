"""Sizing at plan time, so a family never counts tokens itself.

The engine (:mod:`lcgen.assemble`) fills whatever room the needles leave with filler units. Some families size
their needles by the context: a share of it (holistic-queries' ``--density``), a token budget, or as many needles as
fit. Those sizes are needed before the plan exists, and they must be measured the way the engine measures. So:

- :func:`frame` says what a target length leaves for the context: the room for needles and filler, and the
  context's tokens as the finished text measures them (where the prompt touches the context, a token may straddle).
- :func:`take` takes a block of needles from a stream of *steps* (a step is a few needles that belong together,
  such as a joined row and its fan-out): a given number of steps, or the prefix whose tokens come closest to a
  budget. Every prefix of the stream must be a valid block.
- :class:`Fitter`: when the needles leave the filler only a few units' worth of tokens, that number is often no
  sum the units make (80 tokens from units of 28-39 tokens: two make at most 78, three at least 84), and the engine
  would refuse the length. The fitter rephrases a few needles (a family offers equivalent phrasings) within the
  limits the family sets, until the rest is a whole number of units of one common size, and has the filler drawn
  from that size only; or says it cannot, so the family can try another draw before refusing.

Needles are counted each on its own, as :func:`lcgen.assemble.assemble` counts them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .assemble import UnitSource, draw_units
from .errors import ParamError

if TYPE_CHECKING:
    from .tokenizer import Tokenizer

SMALL_BUDGET = 4  # a filler budget under this many of the largest needle is fitted by the Fitter
_PROBE = 256  # filler units drawn to learn their sizes
_COMMON = 6  # a size seen this many times in the probe (about 2 %) is common enough to draw from
_REPHRASABLE = 64  # needles (from the first of each group) whose phrasing the fit may change
_ONE_SIZE_BATCH = 256
_MAX_ONE_SIZE_DRAWS = 40 * _ONE_SIZE_BATCH  # a size is used only when common (2 % or more): hundreds would come


@dataclass(frozen=True)
class Frame:
    """What a target length leaves for a prompt's context, in tokens of the sample's tokenizer."""

    tok: Tokenizer
    target: int
    lead: int  # head and context opening, counted together
    trail: int  # context closing and tail, counted together
    context: int  # the context's tokens as the finished text measures them

    @property
    def room(self) -> int:
        """Tokens for needles and filler together."""
        return self.target - self.lead - self.trail

    def share(self, fraction: float) -> float:
        """``fraction`` of the context, in tokens."""
        return fraction * self.context

    def counts(self, needles: Sequence[str]) -> list[int]:
        """Each needle's tokens, counted alone as the engine counts it."""
        return self.tok.counts(list(needles))


def frame(tok: Tokenizer, target: int, head: str, tail: str, ctx_open: str, ctx_close: str,
          unit: str = " Mock.") -> Frame:
    """The frame of a prompt ``head + ctx_open + <context> + ctx_close + tail`` at ``target`` tokens.

    The context is measured as :func:`lcgen.assemble.assemble` measures it, from the token holding its first
    character to the one holding the character after it, on a text whose context is one ``unit`` like its own.
    """
    place = getattr(tok, "place", None)  # a chat template's text around the prompt (lcgen.chat.Wrapped)
    if place is not None:
        head, tail = place(head, tail)
    lead, trail = tok.counts([head + ctx_open, ctx_close + tail])
    mock = head + ctx_open + unit + ctx_close + tail
    index = tok.index(mock)
    first, last = index.tokens_at([len(head), len(mock) - len(tail)]).tolist()
    return Frame(tok, target, lead, trail, target - first - (index.n_tokens - last))


@dataclass
class Block:
    """The steps :func:`take` took: each step's payload (as the stream gave it), needles and their tokens."""

    items: list[Any] = field(default_factory=list)
    units: list[list[str]] = field(default_factory=list)
    counts: list[list[int]] = field(default_factory=list)

    @property
    def tokens(self) -> int:
        return sum(map(sum, self.counts))

    def step_tokens(self) -> list[int]:
        return [sum(c) for c in self.counts]


def take(fr: Frame, stream: Iterator[tuple[Any, Sequence[str]]], *, steps: int = 0, tokens: float = 0.0,
         least: int = 1) -> Block:
    """A block from ``stream`` (pairs of a payload and its needles): ``steps`` steps, or with ``steps`` 0 the
    prefix of at least ``least`` steps whose tokens come closest to ``tokens`` (a tie keeps the shorter).

    Drawing stops once the block takes more than the frame's room; the caller refuses such a block. Steps are
    drawn in batches (16, or up to 64 of a given count), so a stream that draws from a seeded generator is advanced
    by the same amount on every machine.
    """
    block = Block()
    total = 0

    def done() -> bool:
        if steps:
            return len(block.items) >= steps
        return total >= tokens and len(block.items) >= least

    while not done() and total <= fr.room:
        batch = [next(stream) for _ in range(min(64, steps - len(block.items)) if steps else 16)]
        flat = fr.counts([u for _, units in batch for u in units])
        at = 0
        for item, units in batch:
            counts, at = flat[at:at + len(units)], at + len(units)
            block.items.append(item)
            block.units.append(list(units))
            block.counts.append(counts)
            total += sum(counts)
            if done():
                break
    if not steps and len(block.items) > least:  # the prefix closest to the budget
        below = total - sum(block.counts[-1])
        if abs(below - tokens) <= abs(total - tokens):
            for part in (block.items, block.units, block.counts):
                part.pop()
    return block


@dataclass
class Group:
    """Needles the fitter may rephrase, and the limits on their total tokens.

    ``phrasings(i)``: every phrasing of needle ``i`` (its own among them or not; only the first ``_REPHRASABLE``
    needles are asked). ``window``: the allowed total of the group's tokens (None: within twice the largest needle
    of where it is); ``ideal``: the total to stay closest to (None: any).
    """

    units: list[str]
    counts: list[int]
    phrasings: Callable[[int], Sequence[str]]
    window: tuple[int, int] | None = None
    ideal: float | None = None


@dataclass
class Fitted:
    """The groups' needles as they go into the plan (rephrased or not), and the filler to draw from."""

    units: list[list[str]]
    counts: list[list[int]]
    filler: UnitSource


class Fitter:
    """Fits a small filler budget by rephrasing needles (see the module's docstring); one probe of the filler's
    sizes, drawn when first needed, serves every fit of a sample."""

    def __init__(self, fr: Frame, filler: UnitSource):
        self.frame, self.filler = fr, filler
        self._units: list[str] | None = None
        self._counts: list[int] = []

    def fit(self, groups: Sequence[Group]) -> Fitted | None:
        """Needles and a filler that together fill the frame's room exactly, or None when no rephrasing within the
        groups' windows makes the rest a whole number of common units. A budget of ``SMALL_BUDGET`` times the
        largest needle or more is left to the engine untouched (and no probe is drawn)."""
        budget = self.frame.room - sum(sum(g.counts) for g in groups)
        largest = max((c for g in groups for c in g.counts), default=0)
        if budget >= SMALL_BUDGET * largest:
            return Fitted([list(g.units) for g in groups], [list(g.counts) for g in groups], self.filler)
        common = self.common()
        spread = 2 * largest
        options = [self._options(g) for g in groups]
        changes = []
        for g, opts in zip(groups, options):
            have = sum(g.counts)
            lo, hi = (g.window[0] - have, g.window[1] - have) if g.window is not None else (-spread, spread)
            changes.append(list(_changes(opts, lo, hi, spread).items()))
        best = None
        for combo in _product(changes):
            deltas = [d for d, _ in combo]
            size = _one_size(budget - sum(deltas), common)
            if size is None:
                continue
            off = sum(abs(sum(g.counts) + d - g.ideal) for g, d in zip(groups, deltas) if g.ideal is not None)
            key = (sum(n for _, (n, _) in combo), off, -common.get(size, 0), *deltas)
            if best is None or key < best[0]:
                best = (key, [picks for _, (_, picks) in combo], size)
        if best is None:
            return None
        _, picks, size = best
        units, counts = [], []
        for g, opts, pick in zip(groups, options, picks):
            u, c = list(g.units), list(g.counts)
            for i, j in enumerate(pick):
                if j:
                    u[i], c[i] = opts[i][j]
            units.append(u)
            counts.append(c)
        return Fitted(units, counts, OneSize(self.filler, self.frame.tok, size, self.of_size(size)))

    def _draw(self) -> None:
        if self._units is None:
            self._units = draw_units(self.filler, _PROBE)
            self._counts = self.frame.tok.counts(self._units)

    def common(self) -> dict[int, int]:
        """Filler sizes seen at least ``_COMMON`` times in the probe, with how often."""
        self._draw()
        return {s: n for s, n in sorted(Counter(self._counts).items()) if n >= _COMMON and s > 0}

    def span(self) -> tuple[int, int]:
        """The smallest and largest common filler size (of any size seen, when none is common)."""
        self._draw()
        sizes = list(self.common()) or self._counts
        return min(sizes), max(sizes)

    def of_size(self, size: int) -> list[str]:
        self._draw()
        return [u for u, c in zip(self._units, self._counts) if c == size]

    def _options(self, g: Group) -> list[list[tuple[str, int]]]:
        """For each rephrasable needle, its phrasings with their tokens (its own first)."""
        out = []
        for i, (unit, count) in enumerate(zip(g.units[:_REPHRASABLE], g.counts)):
            others = [u for u in g.phrasings(i) if u != unit]
            out.append(list(zip([unit] + others, [count] + self.frame.tok.counts(others))))
        return out


def _product(changes: list[list[tuple[int, tuple[int, tuple]]]]) -> Iterator[tuple]:
    """Every combination of one change per group."""
    if not changes:
        yield ()
        return
    for first in changes[0]:
        for rest in _product(changes[1:]):
            yield (first, *rest)


def _one_size(left: int, common: dict[int, int]) -> int | None:
    """The most common filler size a whole number (one or more) of which makes ``left`` tokens, or None."""
    if left <= 0:  # at least one unit: needles are placed between filler units, whose size is the depth allowance
        return None
    fitting = [s for s in common if left % s == 0]
    return max(fitting, key=lambda s: (common[s], s)) if fitting else None


def _changes(options: list[list[tuple[str, int]]], lo: int, hi: int, spread: int) -> dict[int, tuple[int, tuple]]:
    """Total token changes in [lo, hi] that rephrasing makes -> (fewest needles rephrased, the phrasing of each).

    Partial sums may stray ``spread`` tokens outside the range on the way (enough for the few needles a small
    budget needs)."""
    if lo > hi:
        return {}
    states: dict[int, tuple[int, tuple]] = {0: (0, ())}
    for opts in options:
        nxt: dict[int, tuple[int, tuple]] = {}
        for delta, (changed, picks) in states.items():
            for j, (_, tokens) in enumerate(opts):
                d = delta + tokens - opts[0][1]
                if not lo - spread <= d <= hi + spread:
                    continue
                cand = (changed + (j > 0), picks + (j,))
                if d not in nxt or cand[0] < nxt[d][0]:
                    nxt[d] = cand
        states = nxt
    return {d: v for d, v in states.items() if lo <= d <= hi}


class OneSize:
    """Filler units of one token count only, for a budget that is a whole number of them: any exact-length fill
    then closes it, whatever sizes it would otherwise wait for."""

    def __init__(self, source: UnitSource, tok: Tokenizer, size: int, ready: list[str]):
        self.source, self.tok, self.size = source, tok, size
        self.ready = list(ready)  # units of this size already drawn and counted
        self.drawn = 0
        self.what = getattr(source, "what", None)

    def draw(self) -> str:
        return self.draw_many(1)[0]

    def draw_many(self, n: int) -> list[str]:
        while len(self.ready) < n:
            if self.drawn >= _MAX_ONE_SIZE_DRAWS:
                raise ParamError(f"--len: {self.drawn:,} filler units drawn gave too few of {self.size} tokens to "
                                 "fill this sample's last tokens; use another --len")
            batch = draw_units(self.source, _ONE_SIZE_BATCH)
            self.drawn += len(batch)
            self.ready += [u for u, c in zip(batch, self.tok.counts(batch)) if c == self.size]
        out, self.ready = self.ready[:n], self.ready[n:]
        return out
