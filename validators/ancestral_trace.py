"""Oracle for ancestral-trace: read the kinship statements back with the frames' own patterns, rebuild the family tree
from the text alone and answer the question on it.

The prompt template, rendered with the row's question, tells the language, whether a haystack surrounds the
statements and where the context is. A statement is a frame match that is a whole unit of the context (English
units start with a space, Chinese ones end with a newline). The chain is the one longest line of statements below
the asked person's eldest ancestor; its statements come first in ``needle_offsets`` (eldest link first), then every
other statement in text order. Between the statements the haystack holds no kinship word at all: one there may
give a person of the statements a second parent (``_check_kin_filler``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from lcgen.assemble import CONTEXT_SLOT, split_prompt
from lcgen.generators._kinship import (
    TEMPLATES,
    kin_hits,
    ordinal,
    question_pattern,
    relations,
    statement_patterns,
)
from lcgen.haystacks.sentences import split_sentences
from lcgen.oracle import OracleInput, OracleResult
from lcgen.registry import oracle
from lcgen.render import render

_NAME_START = {"en": r"[A-Z]", "zh": r"[\u4e00-\u9fff]"}  # where a name can begin


@dataclass
class Statement:
    offset: int  # start of its unit (English: the leading space)
    end: int  # end of its unit
    elder: str
    younger: str
    relation: str
    generations: int = 0


def _read_prompt(text: str, question: str, variant: str):
    """(lang, haystack?, context span, question match) from the first prompt rendering that frames ``text``."""
    for lang in ("en", "zh"):
        asked = question_pattern(lang, variant).fullmatch(question)
        if asked is None:
            continue
        for haystack in (False, True):
            rendered = render(f"{TEMPLATES}/{lang}/prompt.j2", context=CONTEXT_SLOT, question=question,
                              haystack=haystack)
            head, tail = split_prompt(rendered)
            if text.startswith(head) and text.endswith(tail) and len(head) + len(tail) <= len(text):
                return lang, haystack, (len(head), len(text) - len(tail)), asked
    raise ValueError("input is not an ancestral-trace prompt with this question")


def _statements(text: str, span: tuple[int, int], lang: str, problems: list[str]) -> list[Statement]:
    """Every frame match that is a whole unit, in text order; a match inside a longer sentence is a problem."""
    s, e = span
    found: dict[int, re.Match[str]] = {}
    for rx in statement_patterns(lang):
        pos = s
        while (m := rx.search(text, pos, e)) is not None:
            if lang == "en":
                whole = m.start() > s and text[m.start() - 1] == " " and (m.end() == e or text[m.end()] == " ")
                start = m.start() - 1
            else:
                whole = (m.start() == s or text[m.start() - 1] == "\n") and m.end() < e and text[m.end()] == "\n"
                start = m.start()
            if whole:
                if start not in found or m.end() > found[start].end():
                    found[start] = m
                pos = m.end()
            else:
                problems.append(f"a sentence contains a kinship statement it does not consist of: {m.group(0)!r}")
                pos = m.start() + 1
    out: list[Statement] = []
    for start in sorted(found):
        m = found[start]
        if out and start < out[-1].end:
            problems.append(f"overlapping statements at character {start}")
            continue
        end = m.end() + (1 if lang == "zh" else 0)
        out.append(Statement(start, end, m.group("elder"), m.group("younger"), m.group("relation")))
    return out


def _units(text: str, span: tuple[int, int], lang: str, statements: list[Statement]) -> tuple[list[int], list[str]]:
    """Starts of all units of the context, and the text between statements (the filler)."""
    s, e = span
    gaps, pos = [], s
    for st in statements + [Statement(e, e, "", "", "")]:
        gaps.append((pos, st.offset))
        pos = st.end
    starts = [st.offset for st in statements]
    for a, b in gaps:
        if b <= a:
            continue
        if lang == "zh":  # Chinese units end with their own newline
            starts += [a] + [a + i + 1 for i, c in enumerate(text[a : b - 1]) if c == "\n"]
        else:  # English units start with a space, which the splitter keeps at the start of each sentence
            for piece in split_sentences(text[a:b]):
                starts.append(a)
                a += len(piece)
    return sorted(set(starts)), [text[a:b] for a, b in gaps if b > a]


@oracle("ancestral-trace")
def solve(sample: OracleInput) -> OracleResult:
    text, question, variant = sample.input, sample.question, sample.variant
    lang, haystack, span, asked_m = _read_prompt(text, question, variant)
    problems: list[str] = []
    statements = _statements(text, span, lang, problems)
    units, filler = _units(text, span, lang, statements)
    terms = relations(lang)
    parent: dict[str, Statement] = {}
    children: dict[str, list[Statement]] = defaultdict(list)
    sex: dict[str, str] = {}
    for st in statements:
        rel = terms[st.relation]
        st.generations = rel.generations
        if sex.setdefault(st.elder, rel.sex) != rel.sex:
            problems.append(f"{st.elder} is called both a {sex[st.elder]} and a {rel.sex} relative")
        if st.younger in parent:
            problems.append(f"{st.younger} has two recorded parents: {parent[st.younger].elder} and {st.elder}")
            continue
        parent[st.younger] = st
        children[st.elder].append(st)
    people = {p for st in statements for p in (st.elder, st.younger)}
    _check_cycles(people, parent, problems)
    _check_names(people, problems)
    if haystack:
        _check_filler(filler, people, lang, problems)
        _check_kin_filler(filler, lang, problems)
    elif any(gap.strip() for gap in filler):
        problems.append("the statement list holds text that is not a kinship statement")

    groups = asked_m.groupdict()
    asked = [groups["person"]] + ([groups["other"]] if groups.get("other") else [])
    n = int(groups.get("n") or (groups.get("span") or "0").split()[0])
    if groups.get("ordinal") and groups["ordinal"] != ordinal(n):
        problems.append(f"the question says {groups['ordinal']} for {n} generations")
    for person in asked:
        if person not in people:
            raise ValueError(f"{person} is in no statement")
    answer = _answer(variant, asked, n, parent, children, problems)

    chain = _chain(_top(asked[0], parent), parent, children, problems)
    on_chain = {id(st) for st in chain}
    needles = chain + [st for st in statements if id(st) not in on_chain]
    anchor = min(range(len(chain)), key=lambda i: chain[i].offset) if haystack else None
    return OracleResult(
        answer=f"\\boxed{{{answer}}}",
        answers=[answer],
        needle_offsets=[st.offset for st in needles],
        anchor=anchor,
        context_span=span,
        unit_offsets=units,
        problems=problems,
    )


def _top(person: str, parent: dict[str, Statement]) -> str:
    seen = {person}
    while person in parent:
        person = parent[person].elder
        if person in seen:
            raise ValueError("the line of ancestors loops")
        seen.add(person)
    return person


def _chain(root: str, parent: dict[str, Statement], children: dict[str, list[Statement]],
           problems: list[str]) -> list[Statement]:
    """Statements of the one longest line below ``root``, eldest link first."""
    level = [root]
    while nxt := [st.younger for who in level for st in children.get(who, [])]:
        level = nxt
    if len(level) != 1:
        problems.append(f"{len(level)} lines of statements below {root} are the longest; the chain is not unique")
    line, who = [], level[0]
    while who != root:
        line.append(parent[who])
        who = parent[who].elder
    return line[::-1]


def _answer(variant, asked, n, parent, children, problems) -> str:
    person = asked[0]
    if variant == "eldest_ancestor":
        top = _top(person, parent)
        if top == person:
            raise ValueError(f"{person} has no recorded ancestor")
        return top
    if variant == "nth_ancestor":
        dist = 0
        while dist < n and person in parent:
            dist += parent[person].generations
            person = parent[person].elder
        if dist != n:
            raise ValueError(f"no ancestor is exactly {n} generations above {asked[0]}")
        return person
    if variant == "nth_descendant":
        hits, stack = [], [(person, 0)]
        while stack:
            who, dist = stack.pop()
            for st in children.get(who, []):
                d = dist + st.generations
                if d == n:
                    hits.append(st)
                elif d < n:
                    stack.append((st.younger, d))
        if not hits:
            raise ValueError(f"no descendant is exactly {n} generations below {person}")
        if len(hits) > 1:
            problems.append(f"{len(hits)} people are exactly {n} generations below {person}")
        return min(hits, key=lambda st: st.offset).younger
    for younger, elder in (asked, asked[::-1]):
        dist, who = 0, younger
        while who in parent and who != elder:
            dist += parent[who].generations
            who = parent[who].elder
        if who == elder:
            return str(dist)
    raise ValueError(f"neither of {asked[0]} and {asked[1]} is an ancestor of the other")


def _check_cycles(people: set[str], parent: dict[str, Statement], problems: list[str]) -> None:
    done: set[str] = set()
    for person in sorted(people):
        path, who = [], person
        while who not in done and who not in path:
            path.append(who)
            who = parent[who].elder if who in parent else None
            if who is None:
                break
        if who is not None and who in path:
            problems.append(f"the recorded parents form a cycle through {who}")
        done.update(path)


def _check_names(people: set[str], problems: list[str]) -> None:
    """No name is part of another, so every name can be searched for in the text."""
    for name in sorted(people):
        parts = {name[i:j] for i in range(len(name)) for j in range(i + 2, len(name) + 1)} - {name}
        inside = sorted(parts & people)
        if inside:
            problems.append(f"the name {inside[0]} is part of the name {name}")


def _check_filler(filler: list[str], people: set[str], lang: str, problems: list[str]) -> None:
    """The haystack between statements never names a person of the statements."""
    lengths = sorted({len(p) for p in people})
    starts = re.compile(_NAME_START[lang])
    for gap in filler:
        for m in starts.finditer(gap):
            i = m.start()
            hit = next((gap[i:i + k] for k in lengths if gap[i:i + k] in people), None)
            if hit:
                problems.append(f"the haystack mentions {hit} outside the kinship statements")
                return


def _check_kin_filler(filler: list[str], lang: str, problems: list[str]) -> None:
    """The haystack never speaks of kinship: a filler sentence with a kinship word may give a person of the
    statements a second parent ("Marie is Carrie's mom. She grew up there, where her father, Brent Bruce, ...")."""
    hits = [(gap, at, word) for gap in filler for at, word in kin_hits(gap, lang)]
    if hits:
        gap, at, word = hits[0]
        cut = "\n" if lang == "zh" else ". "
        start = gap.rfind(cut, 0, at) + len(cut) if cut in gap[:at] else 0
        end = gap.find(cut, at)
        sentence = gap[start : len(gap) if end < 0 else end + 1].strip()
        problems.append(f"the haystack speaks of kinship outside the statements ({len(hits)} kinship words), "
                        f"which may give someone a second parent: {word!r} in {sentence!r}")
