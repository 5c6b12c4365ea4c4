"""The last few distractor tokens of a holistic-queries sample: what the family asks of the engine's fitter.

When the family's own rows (the relevant ones; for join also the rows only the joined-table condition excludes)
leave the filler fewer tokens than a handful of distractor rows take, :class:`lcgen.sizing.Fitter` rephrases a few
of them (every table has three phrasings of different lengths) until the rest is a whole number of distractors. The
family sets the limits (the relevant rows' total stays within the density's tolerance), drops excluded groups when
they do not fit, and refuses in one line, saying what would work, when nothing does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lcgen.assemble import UnitSource
from lcgen.sizing import SMALL_BUDGET, Fitter, Frame, Group

from ._holistic_distractors import Distractors
from ._holistic_layout import Unfit, density_tolerance
from ._holistic_query import Query
from ._tables import TABLES
from ._tables_text import phrasings


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
    filler: UnitSource


def fit_rows(p, q: Query, relevant: list[Row], filler: Distractors, fr: Frame, sizes: list[int]) -> Fit:
    """The family's rows and the filler source, fitted so the filler's budget is one the engine can fill exactly;
    for join with rows only the joined-table condition excludes (as many groups as matching joined rows, in at
    most half the filler's budget, fewer if the fit needs it). Refused in one line when nothing fits."""
    room, context, length = fr.room, fr.context, fr.target
    have = sum(r.tokens for r in relevant)
    groups = _excluded_groups(filler, fr, len(sizes), (room - have) // 2) if q.variant == "join" else []
    window, ideal = _window(p, have, max(step_tokens(relevant, sizes)), max(r.tokens for r in relevant), context)
    fitter = Fitter(fr, filler)
    for kept in range(len(groups), -1, -1):
        extra = [r for g in groups[:kept] for r in g]
        fitted = fitter.fit([_group(relevant, window, ideal), _group(extra)])
        if fitted is not None:
            return Fit(_rows(relevant, fitted.units[0], fitted.counts[0]), _rows(extra, fitted.units[1],
                       fitted.counts[1]), fitted.filler)
    (smallest, largest), budget = fitter.span(), room - have
    sizes_seen = f"distractor rows here take {smallest}{f' to {largest}' if largest > smallest else ''} tokens"
    free = room - SMALL_BUDGET * max(largest, max(r.tokens for r in relevant))  # rows' tokens needing no fit
    room_for = f"(room for {SMALL_BUDGET} distractor rows) or a longer --len"
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


def _excluded_groups(filler: Distractors, fr: Frame, groups: int, room: int) -> list[list[Row]]:
    """Join: up to ``groups`` groups of rows only the joined-table condition excludes, in at most ``room`` tokens."""
    out = []
    for group in filler.excluded(groups):
        units = [filler.render(name, row) for name, row in group]
        rows = [Row(name, row, u, n) for (name, row), u, n in zip(group, units, fr.counts(units))]
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


def _group(rows: list[Row], window: tuple[int, int] | None = None, ideal: float | None = None) -> Group:
    return Group([r.unit for r in rows], [r.tokens for r in rows],
                 lambda i: [" " + t for t in phrasings(TABLES[rows[i].table], rows[i].values)], window, ideal)


def _rows(rows: list[Row], units: list[str], counts: list[int]) -> list[Row]:
    return [Row(r.table, r.values, u, n) for r, u, n in zip(rows, units, counts)]
