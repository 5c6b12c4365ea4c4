"""Where a holistic-queries sample's relevant rows come from and where they go: --relevant or --density of them,
measured in tokens, laid out by --position."""

from __future__ import annotations

import random

from lcgen.assemble import Needle, text_order
from lcgen.errors import ParamError
from lcgen.sizing import Frame, take

from ._holistic_query import Query
from ._tables import DOMAINS, TABLES
from ._tables_text import sentence
from ._tables_values import new_row, random_value

DEFAULT_RELEVANT = 8  # when neither --relevant nor --density is given
BOTH_TOLERANCE = 0.2  # --relevant and --density together must agree within 20 % of the density (or one step)
CTX_OPEN, CTX_CLOSE = "<records>", " </records>"


class Unfit(ParamError):
    """A refusal that depends on this draw's query and rows (their token counts): the family tries other draws
    before it gives the user this one."""


def density_tolerance(requested: float, both: bool, step_tokens: int, context_tokens: int) -> float:
    """Allowed |measured - requested| density: one step of relevant rows (a row; a joined row and its fan-out),
    and with --relevant given too, 20 % of the request (the user cannot know the rows' exact token counts)."""
    one = step_tokens / max(context_tokens, 1)
    return max(one, BOTH_TOLERANCE * requested) if both else one


def relevant_stream(q: Query, rng, pools, keys):
    """Relevant rows, one step at a time (a row; for join a joined row and its fan-out): every prefix is a valid
    relevant set, so a density picks a prefix."""
    dom = DOMAINS[q.domain]
    t = TABLES[q.table]
    seen: set[int] = set()  # extreme: values of the column taken so far (one row holds the extreme)
    i = 0
    while True:
        if q.variant == "join":
            dim = new_row(dom.dim, pools, keys, rng, true=q.joined())
            facts = [new_row(t, pools, keys, rng, fixed={t.fk: dim[dom.dim.key]}, true=q.own())
                     for _ in range(q.fanout)] if dim else [None]
            step = [(dom.dim.name, dim)] + [(t.name, f) for f in facts]
        else:
            fixed = {q.group: q.groups[i] if i < len(q.groups) else rng.choice(q.groups)} if q.group else None
            row = new_row(t, pools, keys, rng, fixed=fixed, true=q.own())
            if row is not None and q.variant == "extreme":
                col = t.col(q.column)
                for _ in range(1000):
                    if row[col.name] not in seen:
                        break
                    row[col.name] = random_value(col, pools, rng)
                else:
                    row = None
                if row is not None:
                    seen.add(row[col.name])
            step = [(t.name, row)]
        if any(r is None for _, r in step):
            raise ParamError(f"--relevant/--density: the {q.domain} tables have no more distinct rows after {i} "
                             "relevant ones; ask for fewer relevant rows or use another --domain")
        yield step
        i += 1


def relevant_rows(p, q: Query, rng, pools, keys, fr: Frame):
    """The relevant steps (the block's items; its units and counts per step): --relevant of them, or the prefix
    whose tokens come closest to --density of the context (taken by the engine, :func:`lcgen.sizing.take`)."""
    step = q.fanout + 1 if q.variant == "join" else 1
    least = len(q.groups) if q.group else step
    render_rng = random.Random(rng.getrandbits(64))
    stream = ((s, [" " + sentence(TABLES[name], r, render_rng) for name, r in s])
              for s in relevant_stream(q, rng, pools, keys))
    target = fr.share(p.density)
    want = (p.relevant or (0 if p.density else -(-DEFAULT_RELEVANT // step) * step)) // step
    block = take(fr, stream, steps=want, tokens=target, least=least // step)
    total, largest_step, room, context = block.tokens, max(block.step_tokens()), fr.room, fr.context
    if total > room:
        what = f"--relevant: {p.relevant} rows" if p.relevant else f"--density: {p.density:g}"
        raise Unfit(f"{what} would take more than the {room:,} tokens the context has room for; use a longer --len")
    measured = total / context
    if p.density and not p.relevant:  # the closest prefix: within half a step, one step if the query's minimum rules
        first_step = block.step_tokens()[0]
        if target < first_step / 2:
            raise ParamError(f"--density: {p.density:g} of the {context:,}-token context is {target:,.0f} tokens, "
                             f"less than half of the {first_step} tokens one relevant "
                             f"{'joined row with its fan-out' if q.variant == 'join' else 'row'} takes")
        if abs(total - target) > largest_step + 1e-9:
            raise ParamError(f"--density: {p.density:g} of the {context:,}-token context is {target:,.0f} tokens, "
                             f"but the fewest relevant rows this query needs take {total:,}")
    if p.density and p.relevant:
        tol = density_tolerance(p.density, True, largest_step, context)
        if abs(measured - p.density) > tol + 1e-12:
            raise ParamError(f"--relevant {p.relevant} and --density {p.density:g} disagree: those rows take "
                             f"{measured:.1%} of the {context:,}-token context (allowed {p.density - tol:.1%}-"
                             f"{p.density + tol:.1%}); give only one of them")
    return block


def place(position: str, depth: float, units: list[str], counts: list[int], context: int, order: list[int],
          extra: list[str] = (), rng: random.Random | None = None) -> list[Needle]:
    """Needles in text order, with target depths (percent of the context's tokens before the row): the relevant
    ``units`` (``order``: a shuffle of them, the text order of rows planned at the same depth), then the ``extra``
    units the family must also place (join: rows only the joined-table condition excludes), spread over the
    context outside the relevant rows' blocks (one at a random point of each of as many equal stretches, so that
    they never crowd the relevant rows off their depths), in an order drawn by ``rng``. The relevant rows come
    first, so ``depth[:relevant]`` are theirs."""
    n = len(units)
    share = sum(counts) / context
    if position == "uniform":
        depths = [depth + i * 100.0 / n for i in range(n)]
        depths = [d - 100.0 if d > 100.0 else d for d in depths]
        spans = [(0.0, 100.0)]
    elif position == "bimodal":
        half = (n + 1) // 2
        depths = [0.0] * half + [100.0] * (n - half)
        first = 100.0 * sum(counts[j] for j in order[:half]) / context
        spans = [(0.0, first)] + ([(100.0 - (100.0 * share - first), 100.0)] if n > half else [])
    else:
        start = {"begin": 0.0, "middle": 50.0 * (1.0 - share), "end": 100.0}[position]
        depths = [start] * n
        low = min(start, 100.0 * (1.0 - share))
        spans = [(low, low + 100.0 * share)]
    if not any(lo - 1e-9 <= depth <= hi + 1e-9 for lo, hi in spans):
        where = " and ".join(f"{lo:.1f}-{hi:.1f}%" for lo, hi in spans)
        raise ParamError(f"--depths: {depth:g} is outside the {where} of the context where --position {position} "
                         "puts the relevant rows; pick depths there or use --position uniform")
    needles = [Needle(units[order[i]], depths[i], order=i) for i in range(n)]
    gaps = _outside(position, spans)
    spread = [_depth_in(gaps, (k + rng.random()) / len(extra)) for k in range(len(extra))]
    if extra:
        rng.shuffle(spread)
    others = [Needle(u, d, order=n + k) for k, (u, d) in enumerate(zip(extra, spread))]
    return [needles[i] for i in text_order(needles)] + [others[i] for i in text_order(others)]


def _outside(position: str, spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Where the context is free of relevant blocks (all of it for uniform); a point beside the block when none is."""
    if position == "uniform":
        return [(0.0, 100.0)]
    edges = [0.0] + [x for lo, hi in spans for x in (lo, hi)] + [100.0]
    gaps = [(edges[i], edges[i + 1]) for i in range(0, len(edges), 2) if edges[i + 1] > edges[i]]
    if gaps:
        return gaps
    beside = spans[0][0] if position == "end" else spans[0][1]
    return [(beside, beside)]


def _depth_in(gaps: list[tuple[float, float]], at: float) -> float:
    """The depth ``at`` (0-1) of the way through ``gaps`` taken end to end."""
    x = at * sum(hi - lo for lo, hi in gaps)
    for lo, hi in gaps:
        if x <= hi - lo:
            return lo + x
        x -= hi - lo
    return gaps[-1][1]
