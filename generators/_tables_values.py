"""Values of holistic-queries' rows: seeded name pools, random column values, never-repeated keys, conditions."""

from __future__ import annotations

import random
import re

from ._tables import WORD, Column, Table


class Pools:
    """Per-sample name and city pools from a seeded Faker (``faker`` is pinned exactly: its output is data).

    Names are a uniform sample, drawn by the seeded instance, of the locale's own first- and last-name lists (one
    call, not thousands of weighted draws); cities come from the locale's city formats."""

    def __init__(self, rng: random.Random, firsts: int = 400, lasts: int = 500, cities: int = 150):
        from faker import Faker
        from faker.providers.person import Provider as PersonProvider

        fake = Faker("en_US")
        fake.seed_instance(rng.getrandbits(64))
        person = next(pr for pr in fake.providers if isinstance(pr, PersonProvider))
        word = re.compile(WORD)
        self.first = tuple(fake.random_sample(tuple(n for n in person.first_names if word.fullmatch(n)), firsts))
        self.last = tuple(fake.random_sample(tuple(n for n in person.last_names if word.fullmatch(n)), lasts))
        self.city = _unique(fake.city, cities, rf"{WORD}(?: {WORD})*")


def _unique(draw, n: int, pattern: str) -> tuple[str, ...]:
    out: dict[str, None] = {}
    rx = re.compile(pattern)
    for _ in range(n * 40):
        v = draw()
        if rx.fullmatch(v):
            out[v] = None
            if len(out) == n:
                break
    return tuple(out)


def random_value(col: Column, pools: Pools, rng: random.Random) -> int | str:
    """Any value of ``col`` (keys excepted: those come from :class:`Keys`)."""
    if col.kind == "person":
        return f"{rng.choice(pools.first)} {rng.choice(pools.last)}"
    if col.kind == "city":
        return rng.choice(pools.city)
    if col.kind == "words":
        return " ".join(rng.choice(pools.last if w == ("last",) else w) for w in col.words)
    if col.kind == "code":
        return "".join(str(rng.randrange(10)) if c == "#" else chr(65 + rng.randrange(26)) if c == "@" else c
                       for c in col.code)
    if col.kind == "choice":
        return rng.choice(col.values)
    return col.lo + col.step * rng.randrange(col.grid())


class Keys:
    """Never-repeated key values of one table; ``fresh`` returns None once the table has no more."""

    def __init__(self, col: Column, pools: Pools, rng: random.Random):
        self.col, self.pools, self.rng = col, pools, rng
        self.used: set[str] = set()  # membership only
        self._left = list(col.values) if col.kind == "choice" else None
        if self._left is not None:
            rng.shuffle(self._left)

    def fresh(self) -> str | None:
        if self._left is not None:
            while self._left:
                v = self._left.pop()
                if v not in self.used:
                    self.used.add(v)
                    return v
            return None
        for _ in range(200):
            v = random_value(self.col, self.pools, self.rng)
            if v not in self.used:
                self.used.add(v)
                return v
        return None


def satisfying(col: Column, op: str, value, want: bool, rng: random.Random):
    """A value of ``col`` for which ``<col> <op> <value>`` is ``want``, or None if there is none."""
    if op == "=":
        if want:
            return value
        others = [v for v in col.values if v != value]
        return rng.choice(others) if others else None
    k = (value - col.lo) // col.step  # the threshold's grid index
    if (op == ">") == want:  # need > value (or, failing "<", >= value)
        lo = k + 1 if op == ">" else k
        hi = col.grid() - 1
    else:  # need < value (or, failing ">", <= value)
        lo, hi = 0, (k - 1 if op == "<" else k)
    return None if lo > hi else col.lo + col.step * rng.randint(lo, hi)


def holds(row: dict, column: str, op: str, value) -> bool:
    v = row[column]
    return v == value if op == "=" else v > value if op == ">" else v < value


def new_row(table: Table, pools, keys, rng, fixed=None, true=(), false=()) -> dict | None:
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
