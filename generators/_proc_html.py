"""procedures/html_to_tsv: the requested rows of a generated HTML page, as TSV, in page order (after LongProc's
HTML to TSV, on generated pages instead of Arborist's real ones).

A page of one topic (products, events, homes, jobs, books: ``templates/procedures/html/topics.j2``) lists items as
cards (a ``div`` per item, one element per property, its class the property's label as a slug) or as the rows of a
table (one column per property, headed by its label). The items asked for are needles at increasing depths (page
order); noise blocks (ads, notices, link lists, scripts, comments) and, with a row filter, items that do not match
are the engine's filler. The items' container opens in the context's opening and closes in its closing, so any
interleaving is valid HTML (a table's filler is rows, scripts and comments only).

Additive pieces: every needle and unit is one element or comment on its own line, indented by one space as a
child of the container, and the context's close starts with a comment that ends the list, indented alike.
So each piece the engine counts alone starts with a space and ends with ">\\n": tiktoken's pre-tokenizers keep
">\\n" as one token and start " <" afresh, and a SentencePiece-like tokenizer (Metaspace, dummy prefix) adds no
"\u2581" to a piece that already starts with one, so a piece counts alone as in context. (One space costs a token
per item or block for tiktoken; a deeper indent would cost two.)
"""

from __future__ import annotations

import functools
import html
import random
import re
from dataclasses import dataclass
from typing import Literal

from lcgen.assemble import CONTEXT_SLOT, Needle, Plan, SamplePlan, split_prompt
from lcgen.frames import frame_lines, render_frame
from lcgen.params import FamilyParams, param
from lcgen.render import render
from lcgen.sizing import frame

from ._proc_common import closest_size, invented_names, refuse_input, refuse_output, tolerance, within

_V = ("html_to_tsv",)
_T = "procedures/html/"
FILTERABLE = ("date", "choice", "pool", "place")
BLANK_SHARE = 0.07  # cells left blank (N/A), never the name or the filtered property
WRAP_SHARE = 0.05  # values of several words written over two source lines
MIN_REST = 16  # tokens the filler needs at least when it fills anything (its smallest units take 5-8)
MAX_ROWS = 20_000
INDENT = " "  # of the container's children: each needle and filler unit starts with it (see the module's docstring)


@dataclass(frozen=True, kw_only=True)
class Knobs(FamilyParams):
    """html_to_tsv's knobs."""

    columns: int = param(4, help="Properties to extract per row (the first is always the item's name).",
                         min=2, max=8, variants=_V)
    row_filter: Literal["random", "always", "never"] = param(
        "random", help="Ask only for the rows where one property has a given value: in about half the "
        "samples (random), always or never.", variants=_V)


@dataclass(frozen=True)
class Field:
    label: str
    kind: str
    args: tuple[str, ...]

    @property
    def slug(self) -> str:
        return slug(self.label)


@dataclass(frozen=True)
class Topic:
    key: str
    plural: str
    noun: str
    heading: str
    fields: tuple[Field, ...]


def slug(label: str) -> str:
    """A property's class on a card: its label in lower case, runs of other characters as one hyphen."""
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


@functools.lru_cache(maxsize=1)
def topics() -> tuple[Topic, ...]:
    out: list[Topic] = []
    head: list[str] | None = None
    fields: list[Field] = []
    for line in frame_lines(_T + "topics.j2"):
        kind, *rest = line.split("|")
        if kind == "topic":
            if head:
                out.append(Topic(*head, tuple(fields)))
            head, fields = rest, []
        elif kind == "field":
            fields.append(Field(rest[0], rest[1], tuple(rest[2:])))
    if head:
        out.append(Topic(*head, tuple(fields)))
    for t in out:  # a card is found by its class, a property by its own: they must differ
        if t.noun in {f.slug for f in t.fields}:
            raise ValueError(f"topics.j2: a property of {t.key} has the class of its cards, {t.noun!r}")
    return tuple(out)


@functools.lru_cache(maxsize=1)
def words() -> dict[str, tuple[str, ...]]:
    out = {}
    for line in frame_lines(_T + "words.j2"):
        name, _, entries = line.partition("|")
        out[name] = tuple(entries.split(";"))
    return out


# A value: ("text", [s]) one line, ("wrap", [a, b]) one text over two source lines, ("lines", [a, b]) two lines
# joined by <br>, ("list", [...]) list items, ("blank", []) nothing.
Value = tuple[str, list[str]]


def cell(v: Value) -> str:
    """The value's TSV cell, as the prompt's rules state it."""
    kind, parts = v
    if kind == "blank":
        return "N/A"
    return (", " if kind == "list" else " ").join(parts)


def inner(v: Value, table: bool) -> str:
    """The value's HTML inside its element (a card's list is the element itself, a ul; a cell holds a ul)."""
    kind, parts = v
    esc = [html.escape(s, quote=False) for s in parts]
    if kind == "wrap":
        return esc[0] + "\n" + esc[1]
    if kind == "lines":
        return esc[0] + "<br>\n" + esc[1]
    if kind == "list":
        items = "".join(f"<li>{s}</li>" for s in esc)
        return f"<ul>{items}</ul>" if table else items
    return "".join(esc)


class Values:
    """The values of one sample's items: per-sample pools (places, brands, dates) and unique names."""

    def __init__(self, rng: random.Random, topic: Topic):
        self.rng = rng
        self.topic = topic
        self.words = words()
        self.invented = invented_names(rng, 120)
        self.titles: set[str] = set()  # membership only
        self.pools: dict[str, tuple[str, ...]] = {}
        for f in topic.fields:
            if f.kind in FILTERABLE:
                self.pools[f.label] = self._pool(f)

    def _pool(self, f: Field) -> tuple[str, ...]:
        r = self.rng
        if f.kind == "choice":
            return self.words[f.args[0]]
        if f.kind == "date":
            y, m, d = r.randrange(10, 25), r.randrange(1, 13), r.randrange(1, 28)
            near = [(y, m, d), (y, m, d + 1), (y + 1, m, d), (y, m % 12 + 1, d), (y, m, d - 1 if d > 1 else 28),
                    (y - 1, m, d)]
            return tuple(f"{mm:02d}/{dd:02d}/{yy:02d}" for yy, mm, dd in near)
        names = invented_names(r, 6, taken=self.invented)
        if f.kind == "pool":
            return tuple(f"{n} {r.choice(self.words[f.args[0]])}" for n in names)
        return tuple(names)  # place

    def title(self, f: Field) -> str:
        for attempt in range(10_000):
            if attempt and attempt % 40 == 0:
                self.invented += invented_names(self.rng, 60, taken=self.invented)
            pattern = self.rng.choice(self.words[f.args[0]])
            word = self.rng.choice(self.invented)
            name = pattern.replace("#", word) if "#" in pattern else f"{word} {pattern}"
            if name not in self.titles:
                self.titles.add(name)
                return name
        raise refuse_input(0, 0, "this many distinct item names")  # pragma: no cover (the pool grows)

    def value(self, f: Field, blank_ok: bool, pool_value: str | None = None) -> Value:
        r = self.rng
        if blank_ok and f.kind != "title" and r.random() < BLANK_SHARE:
            return ("blank", [])
        k, a = f.kind, f.args
        if pool_value is not None:
            text = pool_value
        elif k == "title":
            text = self.title(f)
        elif k in FILTERABLE:
            text = r.choice(self.pools[f.label])
        elif k == "money":
            lo, hi = int(a[1]), int(a[2])
            amount = r.randint(lo, hi)
            if hi < 1000:
                text = f"{a[0]}{amount}.{r.choice(('00', '49', '95', '99', str(r.randrange(10, 99))))}"
            else:
                text = f"{a[0]}{round(amount, -1 if hi < 10_000 else -2):,}"
            text += a[3] if len(a) > 3 else ""
        elif k == "count":
            n = r.randint(int(a[0]), int(a[1]))
            one, _, many = a[2].partition("/")
            text = f"{n:,} {one if n == 1 or not many else many}"
        elif k == "year":
            text = str(r.randint(int(a[0]), int(a[1])))
        elif k == "rating":
            text = f"{r.randint(10, 50) / 10:.1f} out of 5"
        elif k == "time":
            text = f"{r.randint(1, 12)}:{r.choice(('00', '15', '30', '45'))} {r.choice(('AM', 'PM'))}"
        elif k == "person":
            first, last = r.sample(self.invented, 2)
            text = f"{first} {last}"
        elif k == "tags":
            return ("list", r.sample(self.words[a[0]], r.randint(2, 3)))
        elif k == "address":
            street = f"{r.randint(1, 240)} {r.choice(self.invented)} {r.choice(self.words['streets'])}"
            return ("lines", [street, r.choice(self.pools.get("City") or self.invented)])
        else:
            raise ValueError(f"unknown field kind {k!r}")
        if " " in text and k in ("title", "pool", "person") and r.random() < WRAP_SHARE:
            a_, b_ = text.split(" ", 1)
            return ("wrap", [a_, b_])
        return ("text", [text])


class Layout:
    """How items and noise are written: cards in a div, or rows of a table."""

    def __init__(self, name: str, topic: Topic, shown: list[Field]):
        self.name = name
        self.topic = topic
        self.shown = shown  # the properties on the page, in page order
        self.indent = INDENT

    def item(self, values: dict[str, Value]) -> str:
        table = self.name == "table"
        if table:
            cells = [inner(values[f.label], True) for f in self.shown]
            return render(_T + "item_row.j2", indent=self.indent, noun=self.topic.noun, cells=cells)
        fields = []
        for i, f in enumerate(self.shown):
            v = values[f.label]
            tag = "h3" if i == 0 else ("ul" if v[0] == "list" else "span")
            fields.append((tag, f.slug, inner(v, False)))
        return render(_T + "item_card.j2", indent=self.indent, noun=self.topic.noun, fields=fields)


class Items:
    """Items of one sample: ``matching`` ones carry the filter's value, the others another one of its pool."""

    def __init__(self, values: Values, topic: Topic, filter_field: Field | None, filter_value: str | None):
        self.values = values
        self.topic = topic
        self.filter_field = filter_field
        self.filter_value = filter_value

    def make(self, matching: bool) -> dict[str, Value]:
        out: dict[str, Value] = {}
        for f in self.topic.fields:
            if self.filter_field is not None and f.label == self.filter_field.label:
                pool = [v for v in self.values.pools[f.label] if v != self.filter_value]
                out[f.label] = ("text", [self.filter_value if matching else self.values.rng.choice(pool)])
            else:
                out[f.label] = self.values.value(f, blank_ok=True)
        return out


class Noise:
    """Filler: noise blocks, and with a filter, items that do not match (each one indented element ending its
    line)."""

    def __init__(self, rng: random.Random, layout: Layout, items: Items | None, span: int):
        self.rng = rng
        self.layout = layout
        self.items = items
        self.span = span
        self.frames = frame_lines(_T + ("noise_table.j2" if layout.name == "table" else "noise_cards.j2"))
        self.w = words()

    def draw(self) -> str:
        r = self.rng
        if self.items is not None and r.random() < 0.4:
            return self.layout.item(self.items.make(False))
        pick = lambda name: html.escape(r.choice(self.w[name]), quote=False)  # noqa: E731
        links = r.sample(self.w["links"], 2)
        block = render_frame(r.choice(self.frames), comment=r.choice(self.w["comments"]), slug=slug(links[0]),
                             slug2=slug(links[1]), n=r.randint(1, 40), m=r.randint(2, 60), ad=pick("ads"),
                             notice=pick("notices"), heading=pick("headings"), link1=html.escape(links[0]),
                             link2=html.escape(links[1]), span=self.span)
        return self.layout.indent + block + "\n"

    def draw_many(self, n: int) -> list[str]:
        return [self.draw() for _ in range(n)]


def _links(rng: random.Random, names: tuple[str, ...], k: int) -> list[dict[str, str]]:
    return [{"slug": slug(t), "text": html.escape(t, quote=False)} for t in rng.sample(names, k)]


def build(p, rng: random.Random, length: int, tok) -> SamplePlan:
    """Plan one html_to_tsv sample: pick the topic, layout, columns and filter, size the rows to --output-len, lay
    the items out as needles and leave the rest of the page to the noise."""
    r_pick, r_vals, r_page, r_noise = (random.Random(rng.getrandbits(64)) for _ in range(4))
    topic = r_pick.choice(topics())
    layout_name = r_pick.choice(("cards", "table"))
    title, others = topic.fields[0], list(topic.fields[1:])
    wanted = [title] + sorted(r_pick.sample(others, p.columns - 1), key=topic.fields.index)
    use_filter = p.row_filter == "always" or (p.row_filter == "random" and r_pick.random() < 0.5)
    values = Values(r_vals, topic)
    filter_field = r_pick.choice([f for f in others if f.kind in FILTERABLE]) if use_filter else None
    filter_value = r_pick.choice(values.pools[filter_field.label]) if filter_field else None
    items = Items(values, topic, filter_field, filter_value)
    labels = [f.label for f in wanted]
    header = "\t".join(labels)
    target = p.output_len

    rows: list[dict[str, Value]] = []
    lines: list[str] = []

    def grow(n: int) -> None:
        while len(rows) < n:
            rows.append(items.make(True))
            lines.append("\t".join(cell(rows[-1][lab]) for lab in labels))

    def answer(n: int) -> str:
        return "```tsv\n" + header + "\n" + "\n".join(lines[:n]) + "\n```"

    grow(32)
    per_row = max(sum(tok.counts(lines)) / len(lines), 1.0)
    hi = min(int((target + tolerance(target)) / per_row * 1.3) + 16, MAX_ROWS)
    grow(hi)
    n = closest_size(lambda k: tok.count(answer(k)), 1, hi, target)
    got = tok.count(answer(n))
    if not within(got, target):
        raise refuse_output(target, got, f"rows of {p.columns} columns do not come closer (--columns)")
    # The fewest rows still within tolerance: the page to try when the closest count does not fit --len.
    low = closest_size(lambda k: tok.count(answer(k)), 1, n, target - tolerance(target))
    low += low < n and not within(tok.count(answer(low)), target)
    del rows[n:], lines[n:]

    spare = [f for f in others if f not in wanted and f is not filter_field]
    extras = r_pick.sample(spare, min(2, len(spare)))
    unmatched = [items.make(False) for _ in range(max(n // 3, 1))] if filter_field else []
    site = invented_names(r_page, 1, taken=values.invented)[0]
    w = words()
    page = {"site": site, "heading": topic.heading, "noun": topic.noun, "layout": layout_name,
            "notice": html.escape(r_page.choice(w["notices"]), quote=False), "year": 2026,
            "nav": _links(r_page, w["links"], 4), "side": _links(r_page, w["links"], 3),
            "side_heading": html.escape(r_page.choice(w["headings"]), quote=False),
            "footer": _links(r_page, w["links"], 4)}
    laid: tuple | int = length * 4
    tries = [(k, filter_field, filter_value) for k in sorted({n, low}, reverse=True)]
    if filter_field is not None and p.row_filter == "random":  # no room for a filter: drop it
        tries += [(k, None, None) for k in sorted({n, low}, reverse=True)]
    for k, ff, fv in tries:
        got = _lay(tok, length, topic, layout_name, page, labels, header, wanted, extras, rows[:k],
                   unmatched if ff else [], ff, fv)
        if not isinstance(got, int):
            laid, n, filter_field, filter_value = got, k, ff, fv
            break
        laid = min(laid, got)
    if isinstance(laid, int):
        raise refuse_input(length, laid, f"a page of {low:,} {topic.plural} in {p.columns} columns")
    del rows[n:], lines[n:]
    head, tail, ctx_open, ctx_close, question, layout, texts, other_texts, e = laid
    m = len(other_texts)
    # Page order: the non-matching needles at random places among the matching ones; depths increase with it.
    order = ["m"] * n + ["o"] * m
    r_page.shuffle(order)
    it_m, it_o = iter(texts), iter(other_texts)
    units = [next(it_m) if kind == "m" else next(it_o) for kind in order]
    needles = [Needle(u, 100.0 * (i + 0.5) / len(units), order=i, recorded=False) for i, u in enumerate(units)]
    noise = Noise(r_noise, layout, items if filter_field else None, len(layout.shown))
    plan = Plan(head=head, tail=tail, ctx_open=ctx_open, ctx_close=ctx_close, needles=needles, filler=noise)
    ans = answer(n)
    meta = {"topic": topic.key, "layout": layout.name, "columns": p.columns, "rows": n,
            "filtered": filter_field is not None, "filter_property": filter_field.label if filter_field else "",
            "unmatched_needles": m, "extra_properties": e,
            "blank_cells": sum(line.split("\t").count("N/A") for line in lines)}
    return SamplePlan(plan=plan, question=question, answer=ans, answers=[ans], meta=meta)


def _lay(tok, length, topic, layout_name, page, labels, header, wanted, extras, rows, unmatched, filter_field,
         filter_value):
    """The prompt and the needles of the first page that fits: in the drawn layout, then the other (a table takes
    about a third fewer tokens per item than cards); two extra (not asked) properties on the page, then one, then
    none; with a filter all the non-matching needles, then fewer (at least one). Returns the tokens the smallest
    page takes (an int) when none fits."""
    noun, plural = topic.noun, topic.plural
    question = render(_T + "request.j2", noun=noun, labels=labels, header=header,
                      filter_label=filter_field.label.lower() if filter_field else "",
                      filter_value=filter_value or "").rstrip("\n")
    head, tail = split_prompt(render(_T + "prompt.j2", context=CONTEXT_SLOT, question=question, plural=plural,
                                     noun=noun, header=header))
    n = len(rows)
    need = 0
    tries = [(name, e) for name in (layout_name, *sorted({"cards", "table"} - {layout_name})) for e in (2, 1, 0)]
    for name, e in tries:
        shown = [f for f in topic.fields if f in wanted or f is filter_field or f in extras[:e]]
        layout = Layout(name, topic, shown)
        page = {**page, "layout": name}
        ctx_open = render(_T + "page_open.j2", columns=[html.escape(f.label, quote=False) for f in shown], **page)
        ctx_close = render(_T + "page_close.j2", **page).rstrip("\n")
        room = frame(tok, length, head, tail, ctx_open, ctx_close).room
        texts = [layout.item(v) for v in rows]
        other_texts = [layout.item(v) for v in unmatched]
        counts = tok.counts(texts + other_texts)
        base = sum(counts[:n])
        k = len(other_texts)
        need = min(need or length * 4, length - room + base + (counts[n] if k else 0))
        for m in sorted({k, k // 2, k // 4, 1} - {0}, reverse=True) if k else [0]:
            rest = room - base - sum(counts[n:n + m])
            if rest == 0 or rest >= MIN_REST:
                return head, tail, ctx_open, ctx_close, question, layout, texts, other_texts[:m], e
    return need
