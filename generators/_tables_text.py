"""How holistic-queries' rows and queries are worded: the template lines, and a pattern for every value.

The generator writes a row with one of its table's frame lines and the oracle reads it back with the same lines'
patterns, so both sides share exactly this module.
"""

from __future__ import annotations

import functools
import random
import re

from lcgen.frames import frame_lines, frame_regex, render_frame

from ._tables import TABLES, TEMPLATES, WORD, Column, Table


def row_frames(table: str) -> tuple[str, ...]:
    return frame_lines(f"{TEMPLATES}/rows/{table}.j2")


def keyed_lines(name: str) -> dict[str, str]:
    """A ``<key> | <text>`` template as a dict (condition phrases, question frames, answer instructions)."""
    out = {}
    for line in frame_lines(f"{TEMPLATES}/{name}.j2"):
        key, _, text = line.partition(" | ")
        out[key.strip()] = text.strip()
    return out


def condition_frames(table: str) -> dict[tuple[str, str], str]:
    """(column, op) -> phrase, for the conditions a question can put on ``table``."""
    return {tuple(k.split()): v for k, v in keyed_lines(f"conditions/{table}").items()}


def value_pattern(col: Column) -> str:
    """A regex that matches exactly the values ``col`` can render."""
    if col.kind == "person":
        return rf"{WORD} {WORD}"
    if col.kind == "city":
        return rf"{WORD}(?: {WORD})*"
    if col.kind == "words":
        return " ".join([WORD] * len(col.words))
    if col.kind == "code":
        return "".join(r"\d" if c == "#" else "[A-Z]" if c == "@" else re.escape(c) for c in col.code)
    if col.kind == "choice":
        return "|".join(re.escape(v) for v in sorted(col.values, key=len, reverse=True))
    return r"\d{1,3}(?:,\d{3})*" if col.grouped else r"\d+"


def render_value(col: Column, value: int | str) -> str:
    return f"{value:,}" if col.kind == "int" and col.grouped else str(value)


def parse_value(col: Column, text: str) -> int | str:
    return int(text.replace(",", "")) if col.kind == "int" else text


@functools.lru_cache(maxsize=None)
def row_regexes(table: str) -> tuple[re.Pattern[str], ...]:
    t = TABLES[table]
    fill = {c.name: value_pattern(c) for c in t.columns}
    return tuple(frame_regex(f, fill) for f in row_frames(table))


def sentence(table: Table, row: dict, rng: random.Random) -> str:
    """One row as one sentence, in a phrasing chosen for this row."""
    frame = rng.choice(row_frames(table.name))
    return render_frame(frame, **{c.name: render_value(c, row[c.name]) for c in table.columns})


def phrasings(table: Table, row: dict) -> list[str]:
    """The row in every phrasing its table has, in the frames' order."""
    values = {c.name: render_value(c, row[c.name]) for c in table.columns}
    return [render_frame(frame, **values) for frame in row_frames(table.name)]
