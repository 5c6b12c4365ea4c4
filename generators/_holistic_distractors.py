"""The filler of a holistic-queries sample: distractor rows, each checked against the query."""

from __future__ import annotations

import random

from lcgen.errors import ParamError

from ._holistic_query import Query
from ._tables import DOMAINS, TABLES, Table
from ._tables_text import sentence
from ._tables_values import holds, new_row, random_value


class Distractors:
    """Filler rows that cannot change the answer: near misses of the queried table (a failed condition, a group
    not asked about, a key that joins no row or a matching row but fails a condition of its own) and rows of the
    domain's other tables; each is checked. Join rows that only the joined-table condition excludes are made here
    too (:meth:`excluded`), but the family places them itself, so that each is surely in the context."""

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
        return self.render(name, row)

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
        return lambda: (lambda r: r and (table.name, r))(new_row(table, self.pools, self.keys, self.rng))

    def _near_miss(self):
        q, t, rng = self.q, self.table, self.rng
        fixed = None
        if q.group:
            others = [v for v in t.col(q.group).values if v not in q.groups]
            if others and (not q.own() or rng.random() < 0.5):
                return self._made(t, new_row(t, self.pools, self.keys, rng, fixed={q.group: rng.choice(others)}))
            fixed = {q.group: rng.choice(q.groups)}
        return self._made(t, new_row(t, self.pools, self.keys, rng, fixed=fixed, false=[rng.choice(q.own())]))

    def _dim_miss(self):
        return self._made(self.dim, new_row(self.dim, self.pools, self.keys, self.rng, false=[self.rng.choice(
            self.q.joined())]))

    def _fact_miss(self):
        t, rng = self.table, self.rng
        if self.q.own() and rng.random() < 0.5:  # joins a matching row but fails a condition of its own
            fk = rng.choice(sorted(self.rel_dims))
            return self._made(t, new_row(t, self.pools, self.keys, rng, fixed={t.fk: fk}, false=[rng.choice(
                self.q.own())]))
        taken = self.keys[self.dim.name].used
        for _ in range(100):  # joins no row at all: its key is no joined row's, and none will ever take it
            fk = random_value(t.col(t.fk), self.pools, rng)
            if fk not in taken:
                taken.add(fk)
                return self._made(t, new_row(t, self.pools, self.keys, rng, fixed={t.fk: fk}))
        return None

    def excluded(self, groups: int) -> list[list[tuple[str, dict]]]:
        """Up to ``groups`` joined rows that fail a joined-table condition, each with --fanout main-table rows that
        join it and meet every condition of their own: rows only the joined-table condition keeps out."""
        q, t, rng = self.q, self.table, self.rng
        out = []
        for _ in range(groups):
            dim = new_row(self.dim, self.pools, self.keys, rng, false=[rng.choice(q.joined())])
            facts = [new_row(t, self.pools, self.keys, rng, fixed={t.fk: dim[self.dim.key]}, true=q.own())
                     for _ in range(q.fanout)] if dim else [None]
            if any(f is None for f in facts):
                break  # the tables ran out of rows: fewer such groups
            group = [(self.dim.name, dim)] + [(t.name, f) for f in facts]
            if any(self.affects(name, row) for name, row in group):
                raise RuntimeError(f"excluded row {group} would change the answer")  # a bug, not user input
            out.append(group)
        return out

    def render(self, name: str, row: dict) -> str:
        """A row as a unit of context, phrased like every distractor."""
        return " " + sentence(TABLES[name], row, self.render_rng)

    @staticmethod
    def _made(table: Table, row: dict | None):
        return None if row is None else (table.name, row)
