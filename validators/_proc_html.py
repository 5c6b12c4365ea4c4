"""Oracle for procedures/html_to_tsv: parse the page back with the standard library's ``html.parser``, find the
items by their structure (the cards of the class the request names, or the rows of the table whose header names
the properties), read each property's text, apply the row filter and write the TSV the prompt asks for.

Strict: a tag that does not close, an item without a property or with two, a noise block that carries an item's
class or a property's, two items of one name, a value that holds a tab or reads "N/A", a row that is neither an
item nor a full-width note, a request that names a property the page does not have, a filter that keeps no row or
drops none: each is a problem. Whitespace between the blocks (each block's own line, indented) is layout, not
text; the unit offsets are the starts of the container's children, before their indent.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from lcgen.oracle import OracleInput, OracleResult

_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
                   "wbr"})
_NOUN = re.compile(r"^Extract these properties of each (.+) on the page:$", re.M)
_LABEL = re.compile(r"^(\d+)\. (.+)$", re.M)
_FILTER = re.compile(r'^Only extract the rows whose "(.+)" is "(.*)"\.$', re.M)
_HEADER = re.compile(r"^The table's header line \(columns separated by tabs\):\n(.*)$", re.M)
_DOC_OPEN, _DOC_CLOSE = "<!DOCTYPE html>", "</html>"


class _Node:
    __slots__ = ("tag", "attrs", "start", "children", "parent")

    def __init__(self, tag: str, attrs: dict[str, str], start: int, parent: _Node | None):
        self.tag, self.attrs, self.start, self.parent = tag, attrs, start, parent
        self.children: list[_Node | str] = []

    @property
    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()

    def elements(self) -> list[_Node]:
        return [c for c in self.children if isinstance(c, _Node) and c.tag != "#comment"]

    def walk(self):
        yield self
        for c in self.children:
            if isinstance(c, _Node):
                yield from c.walk()


class _Tree(HTMLParser):
    """The page as a tree of elements (and comments), each with its character offset; misnesting is a problem."""

    def __init__(self, text: str, base: int):
        super().__init__(convert_charrefs=True)
        self.base = base
        self.lines = [0] + [m.end() for m in re.finditer("\n", text)]
        self.root = _Node("#root", {}, base, None)
        self.stack = [self.root]
        self.problems: list[str] = []

    def _at(self) -> int:
        line, col = self.getpos()
        return self.base + self.lines[line - 1] + col

    def handle_starttag(self, tag, attrs):
        node = _Node(tag, {k: v or "" for k, v in attrs}, self._at(), self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(_Node(tag, {k: v or "" for k, v in attrs}, self._at(), self.stack[-1]))

    def handle_endtag(self, tag):
        if tag in _VOID:
            self.problems.append(f"an end tag </{tag}> of a void element at character {self._at()}")
            return
        if self.stack[-1].tag == tag and len(self.stack) > 1:
            self.stack.pop()
            return
        self.problems.append(f"</{tag}> at character {self._at()} does not close <{self.stack[-1].tag}>")
        if any(n.tag == tag for n in self.stack[1:]):
            while self.stack[-1].tag != tag:
                self.stack.pop()
            self.stack.pop()

    def handle_data(self, data):
        self.stack[-1].children.append(data)

    def handle_comment(self, data):
        self.stack[-1].children.append(_Node("#comment", {}, self._at(), self.stack[-1]))


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def _text(node: _Node) -> str:
    """The element's text: whitespace (and <br>) as single spaces; a list's items joined with ", "."""
    items = [n for n in node.walk() if n.tag == "li"]
    if items:
        return ", ".join(_text_plain(li) for li in items)
    return _text_plain(node)


def _text_plain(node: _Node) -> str:
    out: list[str] = []

    def visit(n: _Node) -> None:
        for c in n.children:
            if isinstance(c, str):
                out.append(c)
            elif c.tag == "br":
                out.append(" ")
            elif c.tag not in ("#comment", "script", "style"):
                visit(c)

    visit(node)
    return " ".join("".join(out).split())


def solve(sample: OracleInput) -> OracleResult:
    text, problems = sample.input, []
    start = text.find(_DOC_OPEN)
    end = text.find(_DOC_CLOSE, max(start, 0))
    if start < 0 or end < 0:
        return OracleResult("", [""], [], None, (0, len(text)), [], ["no HTML page (<!DOCTYPE html> ... </html>)"])
    end += len(_DOC_CLOSE)
    span = (start, end)
    if text.find(_DOC_OPEN, start + 1) >= 0 or text.find(_DOC_CLOSE, end) >= 0:
        problems.append("more than one HTML page in the input")
    tree = _Tree(text[start:end], start)
    tree.feed(text[start:end])
    tree.close()
    problems += tree.problems
    if len(tree.stack) > 1:
        problems.append(f"<{tree.stack[-1].tag}> is never closed")

    q = sample.question
    noun_m, header_m = _NOUN.search(q), _HEADER.search(q)
    labels = [m[2] for m in _LABEL.finditer(q)]
    if [int(m[1]) for m in _LABEL.finditer(q)] != list(range(1, len(labels) + 1)) or len(labels) < 2:
        problems.append("the request does not number its properties 1, 2, ...")
    if noun_m is None or header_m is None:
        return OracleResult("", [""], [], None, span, [], problems + ["the request cannot be read"])
    noun, header = noun_m[1], header_m[1]
    if header != "\t".join(labels):
        problems.append("the header line is not the properties the request lists, joined with tabs")
    if len({lab.lower() for lab in labels}) != len(labels):
        problems.append("the request names a property twice")
    fm = _FILTER.search(q)
    flabel, fvalue = (fm[1], fm[2]) if fm else (None, None)

    tables = [n for n in tree.root.walk() if n.tag == "table"]
    if tables:
        records, container = _table_items(tree.root, tables, labels, flabel, problems)
    else:
        records, container = _card_items(tree.root, noun, labels, flabel, problems)

    names = [r[labels[0]] for r in records]
    if len(set(names)) != len(names):
        problems.append("two items have the same name")
    for r in records:
        for lab, v in r.items():
            if "\t" in v or v == "N/A":
                problems.append(f"a {lab} value {v!r} cannot be written as a cell")
    kept = records
    if flabel is not None:
        kept = [r for r in records if r.get(flabel.lower()) == fvalue]
        if not kept:
            problems.append("the row filter keeps no row")
        elif len(kept) == len(records):
            problems.append("the row filter drops no row")
    if not kept:
        problems.append("no row to extract")
    rows = ["\t".join(r[lab] or "N/A" for lab in labels) for r in kept]
    answer = "```tsv\n" + "\n".join([header, *rows]) + "\n```"
    units = []
    if container is not None:
        for c in container.children:
            if isinstance(c, _Node):
                units.append(_line_start(text, c.start))
            elif c.strip():
                problems.append(f"text {c.strip()[:30]!r} between the blocks of the list")
    return OracleResult(answer=answer, answers=[answer], needle_offsets=[], anchor=None, context_span=span,
                        unit_offsets=units, problems=_capped(problems))


def _line_start(text: str, at: int) -> int:
    """Where a block's unit starts: before its indent (the spaces that open its line)."""
    while at > 0 and text[at - 1] == " ":
        at -= 1
    return at


def _capped(problems: list[str], limit: int = 8) -> list[str]:
    """The first ``limit`` problems and how many more there are (a broken page repeats one defect per item)."""
    return problems if len(problems) <= limit else problems[:limit] + [f"and {len(problems) - limit} more problems"]


def _card_items(root: _Node, noun: str, labels: list[str], flabel: str | None, problems: list[str]):
    """Cards: the elements of class ``noun``, all children of one container; the first property is the card's
    heading, each other one the element of its label's slug as class, exactly once per card, nowhere else."""
    cards = [n for n in root.walk() if noun in n.classes]
    if not cards:
        problems.append(f"no element of class {noun!r} on the page")
        return [], None
    if any(_slug(lab) == noun for lab in labels + ([flabel] if flabel else [])):
        problems.append(f"a property's class is the cards' class {noun!r}")
    container = cards[0].parent
    if any(c.parent is not container for c in cards):
        problems.append(f"the {noun} cards do not share one container")
    wanted = {_slug(lab): lab for lab in labels[1:]}
    if flabel is not None:
        wanted.setdefault(_slug(flabel), flabel)
    records, inside = [], set()
    for card in cards:
        nodes = list(card.walk())
        inside.update(id(n) for n in nodes)
        rec = {}
        heads = [n for n in nodes if n.tag == "h3"]
        if len(heads) != 1:
            problems.append(f"a {noun} card at character {card.start} has {len(heads)} headings")
        else:
            rec[labels[0]] = _text(heads[0])
        for s, lab in wanted.items():
            found = [n for n in nodes if s in n.classes]
            if len(found) != 1:
                problems.append(f"a {noun} card at character {card.start} has {len(found)} {lab!r} elements")
                continue
            rec[lab] = rec[lab.lower()] = _text(found[0])
        rec.setdefault(labels[0], "")
        records.append(rec)
    for n in root.walk():
        if id(n) not in inside and (set(n.classes) & set(wanted) or n.tag == "h3" and n.parent is container):
            problems.append(f"a <{n.tag}> outside the cards at character {n.start} could be read as part of a {noun}")
    for r in records:
        for lab in labels:
            r.setdefault(lab, "")
    return records, container


def _table_items(root: _Node, tables: list[_Node], labels: list[str], flabel: str | None, problems: list[str]):
    """A table: its header cells name the properties; each body row of as many cells is an item, each row of one
    cell spanning the table a note; anything else is a problem."""
    if len(tables) != 1:
        problems.append(f"{len(tables)} tables on the page")
    table = tables[0]
    heads = [n for n in table.walk() if n.tag == "th"]
    names = [_text(h) for h in heads]
    bodies = [n for n in table.elements() if n.tag == "tbody"]
    if len(bodies) != 1:
        problems.append("the table has no single body")
        return [], None
    column = {}
    for lab in labels + ([flabel] if flabel else []):
        hits = [i for i, nm in enumerate(names) if nm.lower() == lab.lower()]
        if len(hits) != 1:
            problems.append(f"the table has {len(hits)} columns named {lab!r}")
        else:
            column[lab] = hits[0]
    records = []
    for tr in bodies[0].elements():
        if tr.tag == "script":
            continue
        cells = [c for c in tr.elements() if c.tag in ("td", "th")] if tr.tag == "tr" else []
        if tr.tag == "tr" and len(cells) == len(names) and all("colspan" not in c.attrs for c in cells):
            rec = {lab: _text(cells[i]) for lab, i in column.items()}
            if flabel in column:
                rec[flabel.lower()] = rec[flabel]
            for lab in labels:
                rec.setdefault(lab, "")
            records.append(rec)
        elif not (tr.tag == "tr" and len(cells) == 1 and cells[0].attrs.get("colspan") == str(len(names))):
            problems.append(f"a <{tr.tag}> at character {tr.start} in the table is neither an item nor a note")
    return records, bodies[0]
