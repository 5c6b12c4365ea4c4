"""Oracle for holistic-queries: read every row and the question back, then re-run the query in sqlite3.

The rows are parsed out of ``input`` with the frames' own patterns (the schema and the template lines are shared
with the generator; the query parser, the SQL and the engine are not: the generator runs polars, this runs the
standard library's sqlite3). The query comes from the question text alone; the SQL runs over *every* row in the
context, distractors included, so a distractor that changed the answer would show up as a disagreement. The
needles it reports are the rows the query reads and, for join, every main-table row that only the joined-table
condition excludes (with the joined row it points to), so an excluded row the generator did not record fails.

Problems reported: a sentence in the context that no frame reads, one that two tables read, a row whose key
repeats, a tie for an extreme asked by key. The requested length, density and position are not in the input; only
when the sample's request is readable does the oracle read it (params, target length and depth), for these checks
only, never for the answer: a sample shorter than its target, measured density within
:func:`~lcgen.generators._holistic_layout.density_tolerance`, and the relevant rows laid out as the position says.
:func:`measure` gives what it measures of the figures ``meta`` records (relevant tokens, density, excluded rows).
"""

from __future__ import annotations

import functools
import json
import re
import sqlite3
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from lcgen.frames import frame_regex
from lcgen.generators._holistic_layout import CTX_CLOSE, CTX_OPEN, density_tolerance
from lcgen.generators._tables import DOMAIN_OF, TABLES
from lcgen.generators._tables_text import condition_frames, keyed_lines, parse_value, row_regexes, value_pattern
from lcgen.oracle import OracleInput, OracleResult
from lcgen.registry import oracle

_UNIT = re.compile(r" ([^ ][^.]*\.)(?= |$)")


def _alternation(words) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


_FILL = {
    "key": _alternation(t.key_label for t in TABLES.values()),
    "entity": _alternation(t.entity for t in TABLES.values()),
    "entities": _alternation(t.entities for t in TABLES.values()),
    "column": _alternation(c.label for t in TABLES.values() for c in t.columns),
    "groups_label": _alternation(c.group for t in TABLES.values() for c in t.columns if c.group),
    "conditions": r"(?: .+?)?",
    "groups": r".+?",
}


@dataclass
class _Context:
    """What the oracle reads off a sample: its units, the query, the rows in sqlite3, and where the needles are."""

    units: list[tuple[int, str]]
    query: dict
    db: sqlite3.Connection
    span: tuple[int, int]  # the context, <records> to </records>
    inner_end: int  # where the last unit ends
    relevant: list[int]  # offsets of the rows the query reads
    excluded: list[tuple[int, int]]  # join: (main row, joined row) that only the joined-table condition excludes
    problems: list[str] = field(default_factory=list)

    @property
    def needles(self) -> list[int]:
        """The rows the generator placed, in the order it records their depths: the relevant ones, then (join) the
        excluded ones with the joined rows they point to, each in text order."""
        return self.relevant + sorted({o for pair in self.excluded for o in pair})


# Once lcgen.oracle's result has a `measured` field, validate compares what is measured here with meta.
_RESULT_FIELDS = OracleResult.__dataclass_fields__


@oracle("holistic-queries")
def solve(sample: OracleInput) -> OracleResult:
    ctx = _read(sample)
    problems = ctx.problems
    answer, answers = _answer(ctx.db, ctx.query, problems)
    measured = _measure(sample.token_index, ctx)
    if sample.request is not None:
        _check_request(sample, ctx, measured, problems)
    extra = {"measured": measured} if "measured" in _RESULT_FIELDS else {}
    return OracleResult(answer=answer, answers=answers, needle_offsets=ctx.needles, anchor=_anchor(sample, ctx),
                        context_span=ctx.span, unit_offsets=[o for o, _ in ctx.units], problems=problems, **extra)


def measure(sample: OracleInput) -> dict:
    """What meta records of the relevant rows, measured on the text: ``relevant_tokens`` (from each relevant row's
    first token to the next row's), ``density_measured`` (those over the context's tokens, ``<records>`` to
    ``</records>``, rounded to six decimals) and ``join_excluded`` (join: main-table rows only the joined-table
    condition excludes; None otherwise)."""
    return _measure(sample.token_index, _read(sample))


def _read(sample: OracleInput) -> _Context:
    text, variant = sample.input, sample.variant
    start, end = text.index(CTX_OPEN), text.rindex(CTX_CLOSE.strip()) + len(CTX_CLOSE.strip())
    inner_start, inner_end = start + len(CTX_OPEN), end - len(CTX_CLOSE)
    problems: list[str] = []
    units = _units(text, inner_start, inner_end, problems)
    q = _read_question(sample.question, variant)
    tables = DOMAIN_OF[q["table"]].tables
    db = sqlite3.connect(":memory:")
    for t in tables:
        cols = ", ".join(f'"{c.name}" {"INTEGER" if c.kind == "int" else "TEXT"}' for c in t.columns)
        db.execute(f'CREATE TABLE "{t.name}" ({cols}, _pos INTEGER)')
    seen: dict[tuple[str, str], int] = {}
    for offset, sentence in units:
        parsed = _parse_row(sentence, problems)
        if parsed is None:
            continue
        name, values = parsed
        if name not in {t.name for t in tables}:
            problems.append(f"a {name} row outside the question's database: {sentence[:60]!r}")
            continue
        key = (name, str(values[TABLES[name].key]))
        if key in seen:
            problems.append(f"duplicated row: {name} {key[1]!r}")
        seen[key] = offset
        names = ", ".join(f'"{c}"' for c in values)
        db.execute(f'INSERT INTO "{name}" ({names}, _pos) VALUES ({", ".join("?" * (len(values) + 1))})',
                   [*values.values(), offset])
    relevant = sorted(p for (p,) in db.execute(_relevant_sql(q)))
    excluded = sorted(db.execute(_excluded_sql(q))) if q["variant"] == "join" else []
    return _Context(units, q, db, (start, end), inner_end, relevant, excluded, problems)


def _units(text: str, lo: int, hi: int, problems: list[str]) -> list[tuple[int, str]]:
    """(offset of the leading space, sentence) of every unit of the context."""
    out, pos = [], lo
    for m in _UNIT.finditer(text, lo, hi):
        if m.start() != pos:
            problems.append(f"text between records: {text[pos:m.start()][:60]!r}")
        out.append((m.start(), m.group(1)))
        pos = m.end()
    if pos != hi:
        problems.append(f"text between records: {text[pos:hi][:60]!r}")
    return out


def _parse_row(sentence: str, problems: list[str]) -> tuple[str, dict] | None:
    found = []
    for name, t in TABLES.items():
        for rx in row_regexes(name):
            m = rx.fullmatch(sentence)
            if m:
                found.append((name, {c.name: parse_value(c, m.group(c.name)) for c in t.columns}))
                break
    if len(found) != 1:
        problems.append(f"{'unparseable' if not found else 'ambiguous'} row-like sentence: {sentence[:80]!r}")
        return None
    return found[0]


def _read_question(question: str, variant: str) -> dict:
    """The query, from the question's first line alone."""
    line = question.split("\n", 1)[0].removeprefix("Question: ")
    found = [(kind, m) for kind, frame in keyed_lines(f"questions/{variant}").items()
             if (m := _question_regex(frame).fullmatch(line))]
    if len(found) != 1:
        raise ValueError(f"{len(found)} {variant} question frames read {line!r}")
    kind, m = found[0]
    g = m.groupdict()
    noun = g.get("entity") or g.get("entities")
    table = next(t for t in TABLES.values() if noun in (t.entity, t.entities) and (
        not g.get("key") or t.key_label == g["key"]) and t.role != "dim")
    q = {"variant": variant, "kind": kind, "table": table.name, "column": None, "group": None, "groups": []}
    if g.get("column"):
        q["column"] = next(c.name for c in table.columns if c.label == g["column"])
    if g.get("groups_label"):
        col = next(c for c in table.columns if c.group == g["groups_label"])
        q["group"], q["groups"] = col.name, _split(g["groups"])
        if any(v not in col.values for v in q["groups"]):
            raise ValueError(f"unknown {col.label} in {g['groups']!r}")
    q["conds"] = [_read_condition(ph, table) for ph in _split((g.get("conditions") or "").strip())]
    return q


@functools.lru_cache(maxsize=None)
def _question_regex(frame: str) -> re.Pattern[str]:
    return frame_regex(frame, {k: v for k, v in _FILL.items() if "{{ " + k + " }}" in frame})


def _split(text: str) -> list[str]:
    if not text:
        return []
    head, _, last = text.rpartition(" and ")
    return (head.split(", ") if head else []) + [last]


def _read_condition(phrase: str, table) -> tuple[str, str, str, int | str]:
    dim = DOMAIN_OF[table.name].dim
    for t in (table, dim) if table.fk else (table,):
        for (column, op), frame in condition_frames(t.name).items():
            col = t.col(column)
            m = frame_regex(frame, {"value": value_pattern(col)}).fullmatch(phrase)
            if m:
                return (t.name, column, op, parse_value(col, m.group("value")))
    raise ValueError(f"no condition reads {phrase!r}")


def _where(q: dict, alias: dict[str, str]) -> tuple[str, list]:
    parts, args = [], []
    if q["group"]:
        parts.append(f'"{q["group"]}" IN ({", ".join("?" * len(q["groups"]))})')
        args += q["groups"]
    for table, column, op, value in q["conds"]:
        parts.append(f'{alias.get(table, "")}"{column}" {op} ?')
        args.append(value)
    return (" WHERE " + " AND ".join(parts)) if parts else "", args


def _source(q: dict) -> tuple[str, dict[str, str]]:
    t = TABLES[q["table"]]
    if q["variant"] != "join":
        return f'"{t.name}"', {}
    d = DOMAIN_OF[t.name].dim
    return f'"{t.name}" AS f JOIN "{d.name}" AS d ON f."{t.fk}" = d."{d.key}"', {t.name: "f.", d.name: "d."}


def _answer(db, q: dict, problems: list[str]) -> tuple[str, list[str]]:
    t = TABLES[q["table"]]
    src, alias = _source(q)
    where, args = _where(q, alias)
    f = alias.get(t.name, "")
    kind, col = q["kind"], q["column"]
    if q["variant"] in ("selection", "join"):
        order = f'{f}"{t.key}"' if kind == "alpha" else f'{f}"{col}" {kind.upper()}, {f}"{t.key}"'
        items = [k for (k,) in db.execute(f'SELECT {f}"{t.key}" FROM {src}{where} ORDER BY {order}', args)]
        return json.dumps(items), items
    aggregate = kind.split("_")[0]
    value = "COUNT(*)" if aggregate == "count" else f'{aggregate.upper()}("{col}")'
    if q["variant"] == "group_by":
        sql = f'SELECT "{q["group"]}", {value} FROM {src}{where} GROUP BY "{q["group"]}" ORDER BY "{q["group"]}"'
        items = [f"{g}: {_number(v, aggregate)}" for g, v in db.execute(sql, args)]
        return json.dumps(items), items
    if kind.endswith("_key"):
        top = list(db.execute(f'SELECT "{t.key}", "{col}" FROM {src}{where} ORDER BY "{col}" '
                              f'{"DESC" if aggregate == "max" else "ASC"} LIMIT 2', args))
        if len(top) == 2 and top[0][1] == top[1][1]:
            problems.append(f"the {aggregate} of {col} is tied")
        return top[0][0], [top[0][0]]
    (v,) = db.execute(f"SELECT {value} FROM {src}{where}", args).fetchone()
    return _number(v, aggregate), [_number(v, aggregate)]


def _number(v, aggregate: str) -> str:
    if aggregate == "avg":
        return f"{Decimal(repr(float(v))).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}"
    return str(int(v))


def _relevant_sql(q: dict) -> str:
    """The context offsets of the rows the query reads (for join: matching rows of both tables that join)."""
    src, alias = _source(q)
    where, args = _where(q, alias)
    where = _inline(where, args)
    if q["variant"] != "join":
        return f"SELECT _pos FROM {src}{where}"
    return f"SELECT f._pos FROM {src}{where} UNION SELECT d._pos FROM {src}{where}"


def _excluded_sql(q: dict) -> str:
    """(main row, joined row) offsets of the join's main-table rows that meet their own conditions and join a
    present row failing the joined-table condition: the rows that condition alone keeps out of the answer."""
    src, alias = _source(q)
    own, joined = _conditions(q, alias, on_main=True), _conditions(q, alias, on_main=False)
    return f"SELECT f._pos, d._pos FROM {src} WHERE {own + ' AND ' if own else ''}NOT ({joined})"


def _conditions(q: dict, alias: dict[str, str], on_main: bool) -> str:
    """The query's conditions on its main table (or on the joined one) as inline SQL; empty when there are none."""
    where, args = _where(dict(q, conds=[c for c in q["conds"] if (c[0] == q["table"]) == on_main]), alias)
    return _inline(where, args).removeprefix(" WHERE ")


def _inline(where: str, args: list) -> str:
    for a in args:
        lit = str(a) if isinstance(a, int) else "'" + str(a).replace("'", "''") + "'"
        where = where.replace("?", lit, 1)
    return where


def _token_layout(index, ctx: _Context) -> tuple[int, int, list[int], dict[int, int]]:
    """The context's first token and token count, each unit's first token (and the end's), each unit's tokens."""
    first, last = (int(x) for x in index.tokens_at(list(ctx.span)))
    starts = index.tokens_at([o for o, _ in ctx.units] + [ctx.inner_end]).tolist()
    length = {o: starts[i + 1] - starts[i] for i, (o, _) in enumerate(ctx.units)}
    return first, last - first, starts, length


def _measure(index, ctx: _Context) -> dict:
    _, ctx_tokens, _, length = _token_layout(index, ctx)
    rel_tokens = sum(length[o] for o in ctx.relevant)
    return {"relevant_tokens": rel_tokens, "density_measured": round(rel_tokens / max(ctx_tokens, 1), 6),
            "join_excluded": len({f for f, _ in ctx.excluded}) if ctx.query["variant"] == "join" else None}


def _anchor(sample: OracleInput, ctx: _Context) -> int | None:
    """The needle that must sit at the sample's depth: the relevant row nearest to it (None, the nearest needle,
    when every needle is relevant or the request is unreadable)."""
    if not ctx.excluded or sample.request is None or not ctx.relevant:
        return None
    first, ctx_tokens, _, _ = _token_layout(sample.token_index, ctx)
    tokens = sample.token_index.tokens_at(ctx.relevant).tolist()
    target = sample.request.target_depth
    nearest = min(range(len(tokens)), key=lambda i: abs(100.0 * (tokens[i] - first) / ctx_tokens - target))
    return ctx.needles.index(ctx.relevant[nearest])


def _check_request(sample: OracleInput, ctx: _Context, measured: dict, problems: list[str]) -> None:
    """Length, density and position against the request (this check's only use of it)."""
    params, index, relevant, units = sample.request.params, sample.token_index, ctx.relevant, ctx.units
    target = sample.request.target_length
    if target and index.n_tokens < target:
        problems.append(f"the sample has {index.n_tokens:,} tokens, {target - index.n_tokens:,} short of its target "
                        f"{target:,}: its density and depths are shares of a context other than the one asked for")
    first, ctx_tokens, starts, length = _token_layout(index, ctx)
    if params["density"]:
        step = params["fanout"] + 1 if ctx.query["variant"] == "join" else 1
        tol = density_tolerance(params["density"], bool(params["relevant"]),
                                step * max(length[o] for o in relevant), ctx_tokens)
        density = measured["relevant_tokens"] / ctx_tokens
        if abs(density - params["density"]) > tol + 1e-9:
            problems.append(f"density {density:.4f} is off the requested {params['density']:g} by more than {tol:.4f}")
    index_of = {o: i for i, (o, _) in enumerate(units)}
    at = [index_of[o] for o in relevant]
    n, m = len(at), len(units)
    unit = 100.0 * max(length.values()) / ctx_tokens
    depth = {o: 100.0 * (starts[index_of[o]] - first) / ctx_tokens for o in relevant}
    position = params["position"]
    if position == "begin" and at != list(range(n)):
        problems.append("position begin: the relevant rows are not one block at the start")
    elif position == "end" and at != list(range(m - n, m)):
        problems.append("position end: the relevant rows are not one block at the end")
    elif position == "bimodal" and at != list(range((n + 1) // 2)) + list(range(m - n // 2, m)):
        problems.append("position bimodal: the relevant rows are not two blocks, one at each end")
    elif position == "middle":
        centre = (depth[relevant[0]] + 100.0 * (starts[at[-1] + 1] - first) / ctx_tokens) / 2
        if at != list(range(at[0], at[0] + n)) or abs(centre - 50.0) > unit:
            problems.append(f"position middle: the relevant block is centred at {centre:.2f}%, not 50%")
    elif position == "uniform":
        spaced = (sample.request.target_depth + i * 100.0 / n for i in range(n))
        ideal = sorted(d - 100.0 if d > 100.0 else d for d in spaced)
        worst = max(abs(depth[o] - d) for o, d in zip(relevant, ideal))
        if worst > 2 * unit:
            problems.append(f"position uniform: a relevant row is {worst:.2f} points from its even spacing")
