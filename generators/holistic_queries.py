"""Holistic queries: database operations (selection, aggregation, extremes, grouping, joins) over verbalized rows.

After HoloBench (Maekawa, Iso, Bhutani, arXiv 2410.11996, ICLR 2025), without its bugs: every row of a small
seeded database (``generators/_tables.py``: company, retail, aviation and wine domains) is one sentence; the rows
the query needs (the *relevant* rows, the needles) sit among *distractor* rows that provably cannot change the
answer: rows of the queried table that fail a condition, belong to a group not asked about or join nothing, and
rows of the domain's other tables. Every key is unique, so no row repeats.

Knobs mean what they say, in tokens of the sample's tokenizer: ``--len`` is the whole prompt; ``--relevant`` is
the number of relevant rows and ``--density`` the share of the context's tokens they take (one of them, or both if
they agree within :func:`density_tolerance`); ``--position`` places them by token depth (uniform: evenly spaced
with one at the sample's depth; begin/middle/end: one block at the start, centred on 50 % or at the end; bimodal:
half a block at each end). The gold answer is the query's SQL run by polars over exactly the relevant rows in the
context; the oracle in ``lcgen.validators.holistic_queries`` re-reads every row and the question and re-runs the
query in sqlite3 over all rows of the context, distractors included.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from lcgen.assemble import CONTEXT_SLOT, Needle, Plan, SamplePlan, split_prompt, text_order
from lcgen.errors import ParamError, missing_dependency
from lcgen.frames import render_frame
from lcgen.params import FamilyParams, param
from lcgen.registry import family
from lcgen.render import render

from ._tables import (
    DOMAINS,
    TABLES,
    TEMPLATES,
    Keys,
    Pools,
    Table,
    condition_frames,
    holds,
    keyed_lines,
    random_value,
    render_value,
    satisfying,
    sentence,
)

AGGREGATES = {"aggregation": ("count", "sum", "avg"), "extreme": ("max", "min"),
              "group_by": ("count", "sum", "avg", "max", "min")}
DEFAULT_RELEVANT = 8  # when neither --relevant nor --density is given
BOTH_TOLERANCE = 0.2  # --relevant and --density together must agree within 20 % of the density (or one step)
CTX_OPEN, CTX_CLOSE = "<records>", " </records>"
_ATTEMPTS = 64
_ROW_TOKENS_GUESS = 30  # only to pick an extreme's column with room for distinct values


@dataclass(frozen=True, kw_only=True)
class HolisticQueriesParams(FamilyParams):
    """Knobs of the holistic-queries family."""

    relevant: int = param(0, help="Rows that affect the answer (0: as many as --density asks for, or 8 without it).",
                          min=0, max=200_000)
    density: float = param(0.0, help="Share of the context's tokens taken by the relevant rows (0: whatever "
                           "--relevant rows take).", min=0.0, max=0.95)
    position: Literal["uniform", "begin", "middle", "end", "bimodal"] = param(
        "uniform", help="Where relevant rows sit by token depth: evenly spaced from the sample's depth, one block at "
        "the start, centred on 50%, at the end, or half a block at each end.")
    predicates: int = param(1, help="Conditions in the query (join: the first is on the joined table).", min=0, max=3)
    aggregate: Literal["random", "count", "sum", "avg", "max", "min"] = param(
        "random", help="aggregation: count/sum/avg; extreme: max/min; group_by: any (random: drawn per sample).",
        variants=("aggregation", "extreme", "group_by"))
    groups: int = param(3, help="Groups the question asks about.", min=2, max=8, variants=("group_by",))
    fanout: int = param(2, help="Main-table rows joined to each matching row of the joined table.", min=1, max=20,
                        variants=("join",))
    domain: Literal["random", "company", "retail", "aviation", "wine"] = param(
        "random", help="The database the tables come from (random: drawn per sample).")


VARIANTS = {"selection": {}, "aggregation": {}, "extreme": {}, "group_by": {}, "join": {}}


@dataclass
class Cond:
    table: str
    column: str
    op: str  # "=", ">" or "<"
    value: int | str


@dataclass
class Query:
    variant: str
    domain: str
    table: str
    conds: list[Cond]
    aggregate: str | None = None
    column: str | None = None  # aggregated, extreme or ordering column
    order: str = ""  # selection/join: alpha, desc or asc
    form: str = ""  # extreme: value or key
    group: str | None = None
    groups: list[str] = field(default_factory=list)
    fanout: int = 0

    def own(self) -> list[Cond]:
        return [c for c in self.conds if c.table == self.table]

    def joined(self) -> list[Cond]:
        return [c for c in self.conds if c.table != self.table]


def density_tolerance(requested: float, both: bool, step_tokens: int, context_tokens: int) -> float:
    """Allowed |measured - requested| density: one step of relevant rows (a row; a joined row and its fan-out),
    and with --relevant given too, 20 % of the request (the user cannot know the rows' exact token counts)."""
    one = step_tokens / max(context_tokens, 1)
    return max(one, BOTH_TOLERANCE * requested) if both else one


def format_number(value: float | int, aggregate: str) -> str:
    """Integers as digits; averages rounded half up to two decimals (from the shortest repr of the float, which
    is the exact decimal whenever the average has one, so halves are real halves)."""
    if aggregate == "avg":
        return str(Decimal(repr(float(value))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    return str(int(value))


@family(
    "holistic-queries",
    params=HolisticQueriesParams,
    variants=VARIANTS,
    version="0.1.0",
    papers=("Maekawa, Iso, Bhutani, Holistic Reasoning with Long-Context LMs: A Benchmark for Database Operations "
            "on Massive Textual Data, ICLR 2025, arXiv:2410.11996",),
    depth_meaning="Share of the context's tokens before each relevant row, in text order. uniform: one row at the "
    "sample's depth, the rest evenly spaced (wrapping); begin/middle/end/bimodal: fixed blocks, and the sample's "
    "depth must fall inside one.",
    answer_format="A JSON list of keys (selection, join), of \"group: value\" strings sorted by group (group_by), "
    "or one number or key; averages with two decimals, halves rounded up.",
    metric="strict = the reply is exactly the number, key or JSON list; partial = share of the list items it contains",
    difficulty=("relevant", "density_requested", "position", "predicates", "aggregate", "groups", "fanout", "domain"),
)
def holistic_queries(p: HolisticQueriesParams, variant: str, depth: float, rng: random.Random,
                     length: int | None = None, tokenizer=None) -> SamplePlan:
    """Plan one sample; ``length`` is the target in tokens (densities are shares of it), ``tokenizer`` the
    sample's tokenizer or its name (cl100k_base until the core passes it)."""
    if length is None:
        raise ParamError("--len: holistic-queries needs a target length (density and distractors are shares of it)")
    tok = _tokenizer(tokenizer)
    _check_knobs(p, variant)
    pools = Pools(random.Random(rng.getrandbits(64)))
    base = rng.getrandbits(64)
    for attempt in range(_ATTEMPTS):  # a new query when an answer would also be part of the question
        sp = _attempt(p, variant, depth, random.Random(f"holistic-queries/{base}/{attempt}"), length, tok, pools)
        if sp is not None:
            return sp
    raise RuntimeError("no query without an answer inside its question")  # a bug, not user input


def _tokenizer(tokenizer):
    from lcgen.tokenizer import DEFAULT_TOKENIZER, get_tokenizer

    if tokenizer is None or isinstance(tokenizer, str):
        return get_tokenizer(tokenizer or DEFAULT_TOKENIZER)
    return tokenizer


def _check_knobs(p: HolisticQueriesParams, variant: str) -> None:
    allowed = AGGREGATES.get(variant)
    if p.aggregate != "random" and (allowed is None or p.aggregate not in allowed):
        use = ", ".join(("random",) + (allowed or ()))
        raise ParamError(f"--aggregate: {p.aggregate} does not apply to {variant} (use {use})")
    if variant == "join" and p.predicates < 1:
        raise ParamError("--predicates: join needs at least 1 (the condition on the joined table)")
    step = p.fanout + 1
    if p.relevant and variant == "join" and p.relevant % step:
        raise ParamError(f"--relevant: {p.relevant} is not a multiple of {step} (join with --fanout {p.fanout}: each "
                         f"matching joined row brings {p.fanout} main-table rows)")
    if p.relevant and variant == "group_by" and p.relevant < p.groups:
        raise ParamError(f"--relevant: {p.relevant} is fewer than --groups {p.groups} (each group asked about needs "
                         "a row)")


def _attempt(p, variant, depth, rng, length, tok, pools) -> SamplePlan | None:
    guess = p.relevant or (p.density * length / _ROW_TOKENS_GUESS if p.density else DEFAULT_RELEVANT)
    q = _query(p, variant, rng, guess)
    dom = DOMAINS[q.domain]
    question = _question(q, rng)
    head, tail = split_prompt(render(f"{TEMPLATES}/prompt.j2", domain=dom.label, context=CONTEXT_SLOT,
                                     question=question))
    lead_n, trail_n = tok.counts([head + CTX_OPEN, CTX_CLOSE + tail])
    room = length - lead_n - trail_n  # tokens for all rows
    # The context's tokens as measured on the finished text (from the token holding its first character to the one
    # holding the character after it), which can differ from the parts' counts where the prompt touches it.
    mock = head + CTX_OPEN + " Mock." + CTX_CLOSE + tail
    index = tok.index(mock)
    first, last = index.tokens_at([len(head), len(mock) - len(tail)]).tolist()
    context = length - first - (index.n_tokens - last)
    keys = {t.name: Keys(t.col(t.key), pools, rng) for t in dom.tables}
    steps, counts = _relevant(p, q, rng, pools, keys, tok, context, room)
    rows = [r for s in steps for r in s]
    units = [u for c in counts for u in c[0]]
    tokens = sum(n for c in counts for n in c[1])
    answer, answers, sql = _gold(q, rows)
    if any(a in question for a in answers):
        return None
    share = tokens / context
    needles = _place(p.position, depth, units, [n for c in counts for n in c[1]], context, rng)
    rel_dims = {r[1][dom.dim.key] for r in rows if r[0] == dom.dim.name}
    filler = Distractors(q, pools, keys, rel_dims, random.Random(rng.getrandbits(64)))
    plan = Plan(head=head, tail=tail, ctx_open=CTX_OPEN, ctx_close=CTX_CLOSE, needles=needles, filler=filler)
    step_tokens = max(sum(c[1]) for c in counts)
    meta = {
        "domain": q.domain, "table": q.table, "sql": sql, "query": asdict(q),
        "relevant": len(rows), "relevant_requested": p.relevant or None,
        "density_requested": p.density or None, "density_measured": round(share, 6),
        "density_tolerance": round(density_tolerance(p.density, bool(p.relevant), step_tokens, context), 6)
        if p.density else None,
        "relevant_tokens": tokens, "position": p.position, "predicates": len(q.conds),
        "aggregate": q.aggregate, "groups": len(q.groups) or None, "fanout": q.fanout or None,
    }
    return SamplePlan(plan=plan, question=question, answer=answer, answers=answers, meta=meta)


# --- the query ------------------------------------------------------------------------------------------------


def _query(p: HolisticQueriesParams, variant: str, rng: random.Random, guess: float) -> Query:
    names = sorted(DOMAINS) if p.domain == "random" else [p.domain]
    dom = DOMAINS[rng.choice(names)]
    agg = p.aggregate if p.aggregate != "random" else (rng.choice(AGGREGATES[variant]) if variant in AGGREGATES
                                                       else None)
    tables = [t for t in (dom.fact, dom.other) if variant != "extreme" or any(
        c.agg and c.grid() >= 3 * guess for c in t.columns)]  # extreme: room for distinct values (one row is top)
    if not tables:
        raise ParamError(f"--relevant/--density: about {guess:.0f} relevant rows is too many for an extreme in the "
                         f"{dom.name} domain (its columns have too few distinct values); ask for fewer")
    table = dom.fact if variant == "join" else rng.choice(tables)
    q = Query(variant, dom.name, table.name, [], aggregate=agg, fanout=p.fanout if variant == "join" else 0)
    numeric = [c for c in table.columns if c.agg]
    taken = {table.key, table.fk if variant == "join" else table.key}
    if variant == "group_by":
        col = rng.choice([c for c in table.columns if c.group and len(c.values) >= p.groups])
        q.group, q.groups = col.name, rng.sample(col.values, p.groups)
        taken.add(col.name)
    if variant in ("selection", "join"):
        q.order = rng.choice(("alpha", "desc", "asc"))
        if q.order != "alpha":
            q.column = rng.choice(numeric).name
    elif agg != "count":
        pool = [c for c in numeric if c.sum] if agg == "sum" else numeric
        if variant == "extreme":
            pool = [c for c in pool if c.grid() >= 3 * guess]
            q.form = rng.choice(("value", "key"))
        q.column = rng.choice(pool).name
    taken.add(q.column)
    own = [c for c in table.columns if c.filter and c.name not in taken]
    n_own = p.predicates
    if variant == "join":
        dim_cols = [c for c in dom.dim.columns if c.filter]
        n_dim = 1 + sum(rng.random() < 0.5 for _ in range(p.predicates - 1))
        n_own = p.predicates - n_dim
        q.conds += [_cond(dom.dim, c, rng) for c in rng.sample(dim_cols, n_dim)]
    q.conds += [_cond(table, c, rng) for c in rng.sample(own, n_own)]
    return q


def _cond(table: Table, col, rng: random.Random) -> Cond:
    if col.kind == "choice":
        return Cond(table.name, col.name, "=", rng.choice(col.values))
    k = rng.randint(col.grid() // 4, (3 * col.grid()) // 4)  # an inner threshold: rows on both sides exist
    return Cond(table.name, col.name, rng.choice((">", "<")), col.lo + col.step * k)


def _question(q: Query, rng: random.Random) -> str:
    t = TABLES[q.table]
    phrases = [render_frame(condition_frames(c.table)[(c.column, c.op)],
                            value=render_value(TABLES[c.table].col(c.column), c.value)) for c in q.conds]
    conditions = " " + _and(phrases) if phrases else ""
    groups = list(q.groups)
    rng.shuffle(groups)  # the question's order is not the answer's
    kind = {"aggregation": q.aggregate, "group_by": q.aggregate, "extreme": f"{q.aggregate}_{q.form}"}.get(
        q.variant, q.order)
    line = render_frame(keyed_lines(f"questions/{q.variant}")[kind], key=t.key_label, entity=t.entity,
                        entities=t.entities, conditions=conditions, column=t.col(q.column).label if q.column else "",
                        groups_label=t.col(q.group).group if q.group else "", groups=_and(groups) if groups else "")
    number = "decimal" if q.aggregate == "avg" else "integer"
    instruction = {"selection": "list", "join": "list", "aggregation": number, "group_by": "groups_" + number,
                   "extreme": "key" if q.form == "key" else "integer"}[q.variant]
    text = render_frame(keyed_lines("instructions")[instruction], key=t.key_label,
                        group=t.col(q.group).label if q.group else "")
    return render(f"{TEMPLATES}/question.j2", query=line, instruction=text).rstrip("\n")


def _and(items: list[str]) -> str:
    return render(f"{TEMPLATES}/list.j2", items=items).strip("\n")


def to_sql(q: Query) -> str:
    """The query as SQL (the generator runs it in polars; ``meta.sql`` keeps it)."""
    t = TABLES[q.table]

    def lit(v):
        return str(v) if isinstance(v, int) else "'" + v.replace("'", "''") + "'"

    alias = {q.table: "f.", DOMAINS[q.domain].dim.name: "d."} if q.variant == "join" else {q.table: ""}
    where = [f'{alias[c.table]}"{c.column}" {c.op} {lit(c.value)}' for c in q.conds]
    if q.group:
        where.insert(0, f'"{q.group}" IN ({", ".join(lit(g) for g in sorted(q.groups))})')
    where_sql = " WHERE " + " AND ".join(where) if where else ""
    f = alias[q.table]
    key = f'{f}"{t.key}"'
    if q.variant in ("selection", "join"):
        order = key if q.order == "alpha" else f'{f}"{q.column}" {q.order.upper()}, {key}'
        if q.variant == "join":
            d = DOMAINS[q.domain].dim
            src = f'"{t.name}" AS f JOIN "{d.name}" AS d ON f."{t.fk}" = d."{d.key}"'
        else:
            src = f'"{t.name}"'
        return f"SELECT {key} FROM {src}{where_sql} ORDER BY {order}"
    value = "COUNT(*)" if q.aggregate == "count" else f'{q.aggregate.upper()}("{q.column}")'
    if q.variant == "extreme" and q.form == "key":
        direction = "DESC" if q.aggregate == "max" else "ASC"
        return f'SELECT {key} FROM "{t.name}"{where_sql} ORDER BY "{q.column}" {direction} LIMIT 1'
    if q.variant == "group_by":
        return (f'SELECT "{q.group}", {value} FROM "{t.name}"{where_sql} GROUP BY "{q.group}" '
                f'ORDER BY "{q.group}"')
    return f'SELECT {value} FROM "{t.name}"{where_sql}'


def _gold(q: Query, rows: list[tuple[str, dict]]) -> tuple[str, list[str], str]:
    """Run the SQL with polars over exactly the relevant rows; the answer, its items and the SQL."""
    try:
        import polars as pl
    except ImportError:
        raise missing_dependency("holistic-queries", "polars") from None
    frames = {}
    for t in DOMAINS[q.domain].tables:
        mine = [r for name, r in rows if name == t.name]
        frames[t.name] = pl.DataFrame({c.name: [r[c.name] for r in mine] for c in t.columns},
                                      schema={c.name: pl.Int64 if c.kind == "int" else pl.String for c in t.columns})
    sql = to_sql(q)
    result = pl.SQLContext(frames=frames, eager=True).execute(sql).rows()
    if q.variant in ("selection", "join"):
        items = [r[0] for r in result]
        return json.dumps(items), items, sql
    if q.variant == "group_by":
        items = [f"{g}: {format_number(v, q.aggregate)}" for g, v in result]
        return json.dumps(items), items, sql
    value = result[0][0]
    answer = value if q.form == "key" else format_number(value, q.aggregate)
    return answer, [answer], sql


# --- rows -------------------------------------------------------------------------------------------------------


def _row(table: Table, pools, keys, rng, fixed=None, true=(), false=()) -> dict | None:
    """A row of ``table`` with a fresh key, ``fixed`` values, the conditions ``true`` met and ``false`` failed."""
    key = keys[table.name].fresh()
    if key is None:
        return None
    row = {c.name: random_value(c, pools, rng) for c in table.columns if c.name != table.key}
    row[table.key] = key
    row.update(fixed or {})
    for c, want in [(c, True) for c in true] + [(c, False) for c in false]:
        v = satisfying(table.col(c.column), c.op, c.value, want, rng)
        if v is None:
            return None
        row[c.column] = v
    return row


def _stream(q: Query, rng, pools, keys):
    """Relevant rows, one step at a time (a row; for join a joined row and its fan-out): every prefix is a valid
    relevant set, so a density picks a prefix."""
    dom = DOMAINS[q.domain]
    t = TABLES[q.table]
    seen: set[int] = set()  # extreme: values of the column taken so far (one row holds the extreme)
    i = 0
    while True:
        if q.variant == "join":
            dim = _row(dom.dim, pools, keys, rng, true=q.joined())
            facts = [_row(t, pools, keys, rng, fixed={t.fk: dim[dom.dim.key]}, true=q.own())
                     for _ in range(q.fanout)] if dim else [None]
            step = [(dom.dim.name, dim)] + [(t.name, f) for f in facts]
        else:
            fixed = {q.group: q.groups[i] if i < len(q.groups) else rng.choice(q.groups)} if q.group else None
            row = _row(t, pools, keys, rng, fixed=fixed, true=q.own())
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


def _relevant(p, q: Query, rng, pools, keys, tok, context: int, room: int):
    """The relevant steps and, per step, (units, token counts): --relevant of them, or the prefix whose tokens come
    closest to --density of the context."""
    step = q.fanout + 1 if q.variant == "join" else 1
    least = len(q.groups) if q.group else step
    render_rng = random.Random(rng.getrandbits(64))
    stream = _stream(q, rng, pools, keys)
    target = p.density * context
    want = (p.relevant or (0 if p.density else -(-DEFAULT_RELEVANT // step) * step)) // step
    steps: list = []
    counts: list = []
    total = 0

    def done() -> bool:
        if want:
            return len(steps) >= want
        return total >= target and len(steps) * step >= least

    while not done() and total <= room:
        for s in [next(stream) for _ in range(min(64, want - len(steps)) if want else 16)]:
            units = [" " + sentence(TABLES[name], r, render_rng) for name, r in s]
            counts.append((units, tok.counts(units)))
            steps.append(s)
            total += sum(counts[-1][1])
            if done():
                break
    if not want:  # the prefix closest to the target, not below the minimum
        below = total - sum(counts[-1][1])
        if len(steps) * step > least and abs(below - target) <= abs(total - target):
            steps.pop()
            counts.pop()
            total = below
    if total > room:
        what = f"--relevant: {p.relevant} rows" if p.relevant else f"--density: {p.density:g}"
        raise ParamError(f"{what} would take more than the {room:,} tokens the context has room for; use a longer "
                         "--len")
    measured = total / context
    if p.density and not p.relevant:  # the closest prefix: within half a step, one step if the query's minimum rules
        first_step = sum(counts[0][1])
        if target < first_step / 2:
            raise ParamError(f"--density: {p.density:g} of the {context:,}-token context is {target:,.0f} tokens, "
                             f"less than half of the {first_step} tokens one relevant "
                             f"{'joined row with its fan-out' if q.variant == 'join' else 'row'} takes")
        if abs(total - target) > max(sum(c[1]) for c in counts) + 1e-9:
            raise ParamError(f"--density: {p.density:g} of the {context:,}-token context is {target:,.0f} tokens, "
                             f"but the fewest relevant rows this query needs take {total:,}")
    if p.density and p.relevant:
        tol = density_tolerance(p.density, True, max(sum(c[1]) for c in counts), context)
        if abs(measured - p.density) > tol + 1e-12:
            raise ParamError(f"--relevant {p.relevant} and --density {p.density:g} disagree: those rows take "
                             f"{measured:.1%} of the {context:,}-token context (allowed {p.density - tol:.1%}-"
                             f"{p.density + tol:.1%}); give only one of them")
    return steps, counts


def _place(position: str, depth: float, units: list[str], counts: list[int], context: int, rng) -> list[Needle]:
    """Needles in text order, with target depths (percent of the context's tokens before the row)."""
    n = len(units)
    order = list(range(n))
    rng.shuffle(order)
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
    return [needles[i] for i in text_order(needles)]


class Distractors:
    """Filler rows that cannot change the answer: near misses of the queried table (a failed condition, a group
    not asked about, a key that joins no matching row) and rows of the domain's other tables; each is checked."""

    def __init__(self, q: Query, pools, keys, rel_dims: set, rng: random.Random):
        self.q, self.pools, self.keys, self.rel_dims, self.rng = q, pools, keys, rel_dims, rng
        dom = DOMAINS[q.domain]
        self.table, self.dim = TABLES[q.table], dom.dim
        self.render_rng = random.Random(rng.getrandbits(64))
        near = []
        if q.variant == "join":
            near = [self._dim_miss, self._fact_miss, self._fact_miss]
        elif q.own() or (q.group and len(self.table.col(q.group).values) > len(q.groups)):
            near = [self._near_miss]
        others = [t for t in dom.tables if t.name != q.table and (q.variant != "join" or t.name != dom.dim.name)]
        self.makers = [(m, 1.0 / len(near)) for m in near] + [(self._other(t), 1.0 / len(others)) for t in others]

    def draw(self) -> str:
        return self.draw_many(1)[0]

    def draw_many(self, n: int) -> list[str]:
        return [self._unit() for _ in range(n)]

    def _unit(self) -> str:
        # The mix never changes (the exact-length engine relies on a stationary source), so a table that runs
        # out of keys ends the sample instead of dropping out of the mix.
        i = self.rng.choices(range(len(self.makers)), weights=[w for _, w in self.makers])[0]
        made = self.makers[i][0]()
        if made is None:
            raise ParamError(f"--len: the {self.q.domain} tables have no more distinct rows; use a shorter --len")
        name, row = made
        if self.affects(name, row):
            raise RuntimeError(f"distractor {row} would change the answer")  # a bug, not user input
        return " " + sentence(TABLES[name], row, self.render_rng)

    def affects(self, name: str, row: dict) -> bool:
        """Whether the query would see this row (a dim row is judged alone: no fact may ever join it)."""
        q = self.q
        if q.variant == "join":
            if name == self.dim.name:
                return all(holds(row, c.column, c.op, c.value) for c in q.joined())
            return (name == q.table and row[self.table.fk] in self.rel_dims
                    and all(holds(row, c.column, c.op, c.value) for c in q.own()))
        if name != q.table or (q.group and row[q.group] not in q.groups):
            return False
        return all(holds(row, c.column, c.op, c.value) for c in q.own())

    def _other(self, table: Table):
        return lambda: (lambda r: r and (table.name, r))(_row(table, self.pools, self.keys, self.rng))

    def _near_miss(self):
        q, t, rng = self.q, self.table, self.rng
        fixed = None
        if q.group:
            others = [v for v in t.col(q.group).values if v not in q.groups]
            if others and (not q.own() or rng.random() < 0.5):
                return self._made(t, _row(t, self.pools, self.keys, rng, fixed={q.group: rng.choice(others)}))
            fixed = {q.group: rng.choice(q.groups)}
        return self._made(t, _row(t, self.pools, self.keys, rng, fixed=fixed, false=[rng.choice(q.own())]))

    def _dim_miss(self):
        return self._made(self.dim, _row(self.dim, self.pools, self.keys, self.rng, false=[self.rng.choice(
            self.q.joined())]))

    def _fact_miss(self):
        t, rng = self.table, self.rng
        if self.q.own() and rng.random() < 0.5:  # joins a matching row but fails a condition of its own
            fk = rng.choice(sorted(self.rel_dims))
            return self._made(t, _row(t, self.pools, self.keys, rng, fixed={t.fk: fk}, false=[rng.choice(
                self.q.own())]))
        for _ in range(100):  # joins no matching row: its key is another, present or not
            fk = random_value(t.col(t.fk), self.pools, rng)
            if fk not in self.rel_dims:
                return self._made(t, _row(t, self.pools, self.keys, rng, fixed={t.fk: fk}))
        return None

    @staticmethod
    def _made(table: Table, row: dict | None):
        return None if row is None else (table.name, row)
