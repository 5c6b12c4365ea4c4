"""The gold answer of a holistic-queries sample: the query's SQL run by polars over exactly the relevant rows."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal

from lcgen.errors import missing_dependency

from ._holistic_query import Query, to_sql
from ._tables import DOMAINS


def format_number(value: float | int, aggregate: str) -> str:
    """Integers as digits; averages rounded half up to two decimals (from the shortest repr of the float, which
    is the exact decimal whenever the average has one, so halves are real halves)."""
    if aggregate == "avg":
        return str(Decimal(repr(float(value))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    return str(int(value))


def gold_answer(q: Query, rows: list[tuple[str, dict]]) -> tuple[str, list[str], str]:
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
