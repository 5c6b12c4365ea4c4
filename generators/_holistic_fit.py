"""The last few distractor tokens of a holistic-queries sample, fitted by the family.

When the family's own rows (the relevant ones; for join also the rows only the joined-table condition excludes)
leave the filler fewer tokens than a handful of distractor rows take, the number left is often no sum the
distractors make: 80 tokens from rows of 28 to 39 tokens (two make at most 78, three at least 84), or 12 tokens
when the shortest row takes 25. The engine would then refuse the length (or, before it could tell, fall short).
So for a small filler budget the family learns the distractors' common sizes from a probe, rephrases a few of its
own rows (every table has three phrasings of different lengths) until the rest is a whole number of distractors
of one common size, and has the filler drawn from that size only; or, when no rephrasing within the density's
tolerance gets there, the family refuses the sample in one line.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from ._holistic_distractors import Distractors, OneSizeFiller
from ._holistic_layout import Unfit, density_tolerance
from ._holistic_query import Query
from ._tables import TABLES
from ._tables_text import phrasings

SMALL_BUDGET_ROWS = 4  # a filler budget under this many of the family's largest rows is fitted here
_PROBE = 256  # distractor rows drawn to learn their sizes
_COMMON = 6  # a size seen this many times in the probe (about 2 %) is common enough to draw from
_REPHRASABLE = 64  # the family's rows (from the first) whose phrasing the fit may change


@dataclass
class Row:
    """One of the family's rows in the context: its table, values, unit of text and token count."""

    table: str
    values: dict
    unit: str
    tokens: int


@dataclass
class Fit:
    """The family's rows as they go into the plan, and the source the engine draws the rest of the context from."""

    relevant: list[Row]
    extra: list[Row]  # join: the rows only the joined-table condition excludes, and the joined rows they point to
    filler: Distractors | OneSizeFiller


def fit_rows(p, q: Query, relevant: list[Row], filler: Distractors, tok, length: int, room: int, context: int,
             sizes: list[int]) -> Fit:
    """The family's rows and the filler source, fitted so the filler's budget is one the engine can fill exactly;
    for join with rows only the joined-table condition excludes (as many groups as matching joined rows, in at
    most half the filler's budget, fewer if the fit needs it). Refused in one line when nothing fits."""
    have = sum(r.tokens for r in relevant)
    groups = _excluded_groups(filler, tok, len(sizes), (room - have) // 2) if q.variant == "join" else []
    window, ideal = _window(p, have, max(step_tokens(relevant, sizes)), max(r.tokens for r in relevant), context)
    probe = Probe(filler, tok)
    for kept in range(len(groups), -1, -1):
        fitted = _fit_budget(room, relevant, [r for g in groups[:kept] for r in g], window, ideal, probe, tok)
        if fitted is not None:
            return fitted
    (smallest, largest), budget = probe.span(), room - have
    sizes_seen = f"distractor rows here take {smallest}{f' to {largest}' if largest > smallest else ''} tokens"
    free = room - SMALL_BUDGET_ROWS * max(largest, max(r.tokens for r in relevant))  # rows' tokens needing no fit
    room_for = f"(room for {SMALL_BUDGET_ROWS} distractor rows) or a longer --len"
    if p.density:
        bound = math.floor(100 * free / context) / 100
        use = f"use --density at most {bound:.2f} {room_for}" if bound > 0 else "use a longer --len"
        raise Unfit(f"--density: {p.density:g} of this sample's {context:,}-token context at --len {length:,} leaves "
                    f"{budget:,} tokens for distractor rows, and no whole number of them makes that ({sizes_seen}), "
                    f"even with rows rephrased; {use}")
    steps = step_tokens(relevant, sizes)
    fitting = sum(sizes[:max(k for k in range(len(steps) + 1) if sum(steps[:k]) <= max(free, 0))])
    use = f"use at most {fitting} relevant rows {room_for}" if fitting else "use a longer --len"
    what = (f"--relevant: {p.relevant} rows take" if p.relevant
            else f"--len: {length:,}: the {len(relevant)} relevant rows take")
    raise Unfit(f"{what} {have:,} of the {room:,} tokens left for rows, and no whole number of distractor rows makes "
                f"the {budget:,} after them ({sizes_seen}), even with rows rephrased; {use}")


def step_tokens(relevant: list[Row], sizes: list[int]) -> list[int]:
    """Tokens of each step of relevant rows (a row; for join a joined row and its fan-out)."""
    out, i = [], 0
    for n in sizes:
        out.append(sum(r.tokens for r in relevant[i:i + n]))
        i += n
    return out


def _excluded_groups(filler: Distractors, tok, groups: int, room: int) -> list[list[Row]]:
    """Join: up to ``groups`` groups of rows only the joined-table condition excludes, in at most ``room`` tokens."""
    out = []
    for group in filler.excluded(groups):
        units = [filler.render(name, row) for name, row in group]
        rows = [Row(name, row, u, n) for (name, row), u, n in zip(group, units, tok.counts(units))]
        room -= sum(r.tokens for r in rows)
        if room < 0:
            break
        out.append(rows)
    return out


def _window(p, have: int, largest_step: int, largest_row: int, context: int) -> tuple[tuple[int, int], float]:
    """The relevant rows' allowed total and the total to aim at: with --density alone, within half a step of the
    target (or as close as the rows already are); with --relevant alone, a row either way; with both, also within
    the tolerance they were checked against."""
    target = p.density * context
    if p.density and not p.relevant:
        reach = max(abs(have - target), largest_step / 2)
        return (math.ceil(target - reach), math.floor(target + reach)), target
    lo, hi = have - largest_row, have + largest_row
    if p.density:
        tol = density_tolerance(p.density, True, largest_step, context)
        lo = max(lo, math.ceil((p.density - tol) * context))
        hi = min(hi, math.floor((p.density + tol) * context))
    return (lo, hi), have


class Probe:
    """The distractors' sizes, learned from one probe drawn when first asked for."""

    def __init__(self, filler: Distractors, tok):
        self.filler, self.tok = filler, tok
        self._units: list[str] | None = None
        self._counts: list[int] = []

    def _draw(self) -> None:
        if self._units is None:
            self._units = self.filler.draw_many(_PROBE)
            self._counts = self.tok.counts(self._units)

    def common(self) -> dict[int, int]:
        """Sizes seen at least ``_COMMON`` times, with how often."""
        self._draw()
        return {s: n for s, n in sorted(Counter(self._counts).items()) if n >= _COMMON and s > 0}

    def span(self) -> tuple[int, int]:
        """The smallest and largest common size (of any size seen, when none is common)."""
        self._draw()
        sizes = list(self.common()) or self._counts
        return min(sizes), max(sizes)

    def of_size(self, size: int) -> list[str]:
        self._draw()
        return [u for u, c in zip(self._units, self._counts) if c == size]


def _fit_budget(room: int, relevant: list[Row], extra: list[Row], window: tuple[int, int], ideal: float,
                probe: Probe, tok) -> Fit | None:
    """The family's rows and a filler that together fill ``room`` tokens exactly, or None.

    ``window``: the relevant rows' allowed total (the density's tolerance); ``ideal``: the total to stay closest
    to. A budget of ``SMALL_BUDGET_ROWS`` rows or more is left to the engine's usual mix, untouched.
    """
    have = sum(r.tokens for r in relevant)
    budget = room - have - sum(r.tokens for r in extra)
    largest = max(r.tokens for r in relevant + extra)
    if budget >= SMALL_BUDGET_ROWS * largest:
        return Fit(relevant, extra, probe.filler)
    common = probe.common()
    spread = 2 * largest
    rel_options = _options(relevant, tok)
    extra_options = _options(extra, tok)
    rel_changes = _changes(rel_options, window[0] - have, window[1] - have, spread)
    extra_changes = _changes(extra_options, -spread, spread, spread)
    best = None
    for d_rel, (n_rel, pick_rel) in rel_changes.items():
        for d_extra, (n_extra, pick_extra) in extra_changes.items():
            left = budget - d_rel - d_extra
            size = _one_size(left, common)
            if size is None:
                continue
            key = (n_rel + n_extra, abs(have + d_rel - ideal), -common.get(size, 0), d_rel, d_extra)
            if best is None or key < best[0]:
                best = (key, pick_rel, pick_extra, size)
    if best is None:
        return None
    _, pick_rel, pick_extra, size = best
    relevant = _rephrased(relevant, rel_options, pick_rel)
    extra = _rephrased(extra, extra_options, pick_extra)
    return Fit(relevant, extra, OneSizeFiller(probe.filler, tok, size, probe.of_size(size)))


def _one_size(left: int, common: dict[int, int]) -> int | None:
    """The most common distractor size a whole number (one or more) of which makes ``left`` tokens, or None."""
    if left <= 0:  # at least one distractor: needles are placed between filler rows, whose size is the allowance
        return None
    fitting = [s for s in common if left % s == 0]
    return max(fitting, key=lambda s: (common[s], s)) if fitting else None


def _options(rows: list[Row], tok) -> list[list[tuple[str, int]]]:
    """For each rephrasable row, its units in every phrasing with their token counts (its own phrasing first)."""
    out = []
    for row in rows[:_REPHRASABLE]:
        units = [" " + s for s in phrasings(TABLES[row.table], row.values)]
        others = [u for u in units if u != row.unit]
        out.append(list(zip([row.unit] + others, [row.tokens] + tok.counts(others))))
    return out


def _changes(options: list[list[tuple[str, int]]], lo: int, hi: int, spread: int) -> dict[int, tuple[int, tuple]]:
    """Total token changes in [lo, hi] that rephrasing makes -> (fewest rows rephrased, the phrasing per row).

    Partial sums may stray ``spread`` tokens outside the range on the way (enough for the few rows a small
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


def _rephrased(rows: list[Row], options: list[list[tuple[str, int]]], picks: tuple) -> list[Row]:
    out = list(rows)
    for i, j in enumerate(picks):
        if j:
            unit, tokens = options[i][j]
            out[i] = Row(rows[i].table, rows[i].values, unit, tokens)
    return out
