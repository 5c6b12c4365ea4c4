"""The query of a holistic-queries sample: drawn from the domain's schema, worded as a question, written as SQL."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lcgen.errors import ParamError
from lcgen.frames import render_frame
from lcgen.render import render

from ._tables import DOMAINS, TABLES, TEMPLATES, Table
from ._tables_text import condition_frames, keyed_lines, render_value

if TYPE_CHECKING:
    from .holistic_queries import HolisticQueriesParams

AGGREGATES = {"aggregation": ("count", "sum", "avg"), "extreme": ("max", "min"),
              "group_by": ("count", "sum", "avg", "max", "min")}


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


def draw_query(p: HolisticQueriesParams, variant: str, rng: random.Random, guess: float) -> Query:
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


def question_text(q: Query, rng: random.Random) -> str:
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
