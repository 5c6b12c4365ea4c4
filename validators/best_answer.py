"""Oracle for best-answer: read the fact sheet, the question and every sentence of every candidate back from the
prompt with the templates' own patterns, check each candidate against the sheet, and require exactly one correct.

A candidate is correct when it states the asked fact of the asked entity and every fact it states agrees with the
sheet (its other sentences state no fact). The oracle also names what is wrong with every other candidate, with the
definitions the family documents, and checks the correct one sits where the requested depth puts it.
"""

from __future__ import annotations

import functools
import re

from lcgen.frames import frame_lines, frame_regex
from lcgen.generators.best_answer import CTX_CLOSE, CTX_OPEN
from lcgen.generators._world import A_WORDS, KINDS, NAME, RELATIONS, VALUE_PATTERNS, phrasings, record_frames
from lcgen.oracle import OracleInput, OracleResult
from lcgen.registry import oracle
from lcgen.render import render

TEMPLATES = "best_answer"
_SLOTS = {"sheet": "\x01", "question": "\x02", "context": "\x03"}
_SLOT_PATTERNS = {"sheet": r".+?", "question": r"[^\n]+", "context": r".*"}
_SENTENCE_END = re.compile(r"(?<=[.!?]) ")


@functools.lru_cache(maxsize=1)
def _prompt() -> re.Pattern[str]:
    """The prompt template as a regex: its literal text, each slot a group (a repeated slot must repeat)."""
    text = render(f"{TEMPLATES}/prompt.j2", **_SLOTS)
    names = {v: k for k, v in _SLOTS.items()}
    out, seen = [], set()
    for piece in re.split("([\x01-\x03])", text):
        if piece in names:
            name = names[piece]
            out.append(f"(?P={name})" if name in seen else f"(?P<{name}>{_SLOT_PATTERNS[name]})")
            seen.add(name)
        else:
            out.append(re.escape(piece))
    return re.compile("".join(out), re.DOTALL)


@functools.lru_cache(maxsize=1)
def _records() -> dict[str, tuple[re.Pattern[str], list[tuple[str, re.Pattern[str]]]]]:
    """Per kind: the header's regex and each field line's (field, regex), in record order."""
    out = {}
    for kind in KINDS:
        header, *fields = record_frames(kind)
        lines = []
        for line in fields:
            field = re.search(r"\{\{\s*(\w+)\s*\}\}", line).group(1)
            lines.append((field, frame_regex(line, {field: r"[^\n]+"})))
        out[kind] = (frame_regex(header, {"name": NAME}), lines)
    return out


@functools.lru_cache(maxsize=1)
def _fact_patterns() -> list[tuple[str, re.Pattern[str]]]:
    """(relation id, regex) for every phrasing of every relation."""
    out = []
    for rid, rel in RELATIONS.items():
        fill = {"subject": NAME, "value": VALUE_PATTERNS[rel.value_type], "a_value": A_WORDS}
        out += [(rid, frame_regex(f, fill)) for f in phrasings(rid)]
    return out


@functools.lru_cache(maxsize=1)
def _question_patterns() -> list[tuple[str, re.Pattern[str]]]:
    return [(rid, frame_regex(f, {"subject": NAME})) for rid in RELATIONS
            for f in frame_lines(f"{TEMPLATES}/questions/{rid}.j2")]


@functools.lru_cache(maxsize=1)
def _fact_free() -> frozenset[str]:
    return frozenset(frame_lines(f"{TEMPLATES}/openers.j2") + frame_lines(f"{TEMPLATES}/closers.j2"))


@functools.lru_cache(maxsize=1)
def _candidate() -> re.Pattern[str]:
    line = frame_lines(f"{TEMPLATES}/candidate.j2")[0]
    return re.compile(" " + frame_regex(line, {"label": r"\d+", "body": r"[^\n]+"}).pattern + "\n\n")


class SheetFacts:
    """The fact sheet as read: each record's kind and its values by relation id."""

    def __init__(self, text: str, problems: list[str]):
        self.kind: dict[str, str] = {}
        self.values: dict[str, dict[str, str]] = {}
        self.order: list[str] = []
        for block in text.split("\n\n"):
            self._read(block.split("\n"), problems)

    def _read(self, lines: list[str], problems: list[str]) -> None:
        for kind, (header, fields) in _records().items():
            m = header.fullmatch(lines[0])
            if m is None:
                continue
            name = m.group("name")
            if name in self.kind:
                problems.append(f"the fact sheet has two records of {name}")
            if len(lines) != len(fields) + 1:
                problems.append(f"the record of {name} has {len(lines) - 1} lines, not {len(fields)}")
            values = {}
            for line, (field, rx) in zip(lines[1:], fields):
                fm = rx.fullmatch(line)
                rid = f"{kind}_{field}"
                if fm is None or not re.fullmatch(VALUE_PATTERNS[RELATIONS[rid].value_type], fm.group(field)):
                    problems.append(f"the record of {name} has an unreadable line {line!r}")
                    continue
                values[rid] = fm.group(field)
            self.kind[name], self.values[name] = kind, values
            self.order.append(name)
            return
        problems.append(f"the fact sheet has an unreadable record starting {lines[0]!r}")

    def true(self, subject: str, rid: str, value: str) -> bool:
        return self.values[subject].get(rid) == value

    def other_paths(self, subject: str, rid: str) -> set[str]:
        """Values of the relation's type the sheet gives for another relation of the subject, for a relation of an
        entity the subject's record names, or of an entity whose record names the subject (or that entity)."""
        want = RELATIONS[rid].value_type
        out: set[str] = set()
        for r, v in self.values[subject].items():
            if r == rid:
                continue
            if RELATIONS[r].value_type == want:
                out.add(v)
            if RELATIONS[r].entity_valued and v in self.values:
                out |= {w for r2, w in self.values[v].items() if RELATIONS[r2].value_type == want}
        for other, values in self.values.items():
            if other == subject:
                continue
            for r, v in values.items():
                if RELATIONS[r].entity_valued and v == subject:
                    if self.kind[other] == want:
                        out.add(other)
                    out |= {w for r2, w in values.items() if r2 != r and RELATIONS[r2].value_type == want}
        return out


def _readings(sentence: str, sheet: SheetFacts) -> tuple[list[tuple[str, str, str]], bool]:
    """The facts a sentence can be read as (subject, relation id, value), restricted to subjects of the sheet of
    the relation's kind; and whether any frame read it at all."""
    found, matched = [], False
    for rid, rx in _fact_patterns():
        m = rx.fullmatch(sentence)
        if m is None:
            continue
        matched = True
        groups = m.groupdict()
        value = groups.get("value") or re.sub(r"^(?:a|an) ", "", groups.get("a_value") or "")
        if sheet.kind.get(groups["subject"]) == RELATIONS[rid].kind:
            found.append((groups["subject"], rid, value))
    return list(dict.fromkeys(found)), matched


@oracle("best-answer")
def solve(sample: OracleInput) -> OracleResult:
    text = sample.input
    m = _prompt().search(text)
    if m is None:
        raise ValueError("the prompt does not follow best_answer/prompt.j2")
    problems: list[str] = []
    sheet = SheetFacts(m.group("sheet"), problems)
    question = m.group("question")
    if question != sample.question:
        problems.append("the question in the prompt differs from `question`")
    asked = [(rid, q.group("subject")) for rid, rx in _question_patterns() if (q := rx.fullmatch(question))]
    asked = list(dict.fromkeys((rid, s) for rid, s in asked if sheet.kind.get(s) == RELATIONS[rid].kind))
    if len(asked) != 1:
        raise ValueError(f"the question reads as {len(asked)} questions about entities of the sheet")
    rid, subject = asked[0]
    truth = sheet.values[subject].get(rid)
    if truth is None:
        raise ValueError(f"the fact sheet does not give the asked fact of {subject}")
    ctx_start, ctx_end = m.span("context")
    first, last = ctx_start + len(CTX_OPEN), ctx_end - len(CTX_CLOSE)
    if not (text.startswith(CTX_OPEN, ctx_start) and text.startswith(CTX_CLOSE, last)):
        raise ValueError(f"the candidates are not between {CTX_OPEN.strip()} and {CTX_CLOSE.strip()}")
    starts, bodies = _candidates(text, first, last, problems)
    neighbours = {sheet.values[n].get(rid) for n in sheet.order
                  if n != subject and sheet.kind[n] == sheet.kind[subject]}
    paths = sheet.other_paths(subject, rid) - neighbours - {truth, subject}
    cache: dict[str, tuple[list[tuple[str, str, str]], bool]] = {}
    kinds, correct, first_seen = [], [], {}
    for j, body in enumerate(bodies, 1):
        if body in first_seen:
            problems.append(f"A{j} repeats the text of A{first_seen[body]}")
        first_seen.setdefault(body, j)
        facts = []
        for sentence in _SENTENCE_END.split(body):
            if sentence in _fact_free():
                continue
            if sentence not in cache:
                cache[sentence] = _readings(sentence, sheet)
            readings, matched = cache[sentence]
            if len(readings) != 1:
                what = "can be read as several facts" if readings else (
                    "states a fact about no entity of the fact sheet" if matched else "is not a sentence any "
                    "template writes")
                problems.append(f"A{j}: the sentence {sentence!r} {what}")
                continue
            facts.append(readings[0])
        kinds.append(_verdict(facts, sheet, subject, rid, neighbours, paths))
        if kinds[-1] == "correct":
            correct.append(j)
    if len(correct) != 1:
        problems.append("no candidate is correct" if not correct else
                        f"{len(correct)} candidates are correct: {', '.join(f'A{j}' for j in correct)}")
    gold = correct[0] if correct else 1
    if sample.request is not None and starts:
        expected = _expected(sample, starts, first, last)
        if expected != gold:
            problems.append(f"the correct candidate is A{gold}, but depth {sample.request.target_depth:g} puts it "
                            f"at A{expected}")
    answer = f"A{gold}" if correct else ""
    counts: dict[str, int] = {}
    for kind in kinds:
        if kind != "correct":
            counts[kind] = counts.get(kind, 0) + 1
    measured = {"candidates": len(bodies), "distractor_counts": dict(sorted(counts.items())), "gold_index": gold,
                "subject": subject, "relation": rid, "answer_value": truth, "sheet": sheet.order}
    found = [starts[gold - 1]] if starts and 1 <= gold <= len(starts) else []
    return OracleResult(answer=answer, answers=[answer] if answer else [], needle_offsets=found,
                        anchor=0 if found else None, context_span=(ctx_start, ctx_end),
                        unit_offsets=list(starts), problems=problems, measured=measured)


def _candidates(text: str, start: int, end: int, problems: list[str]) -> tuple[list[int], list[str]]:
    """Each candidate's offset and text, which must be labelled A1, A2, ... in order and fill the context."""
    rx = _candidate()
    starts, bodies, pos = [], [], start
    while pos < end:
        c = rx.match(text, pos, end)
        if c is None:
            problems.append(f"unreadable text among the candidates at character {pos}")
            break
        if int(c.group("label")) != len(bodies) + 1:
            problems.append(f"candidate A{c.group('label')} stands where A{len(bodies) + 1} should")
        starts.append(pos)
        bodies.append(c.group("body"))
        pos = c.end()
    if len(bodies) < 2:
        problems.append(f"{len(bodies)} candidate(s): there is nothing to choose from")
    return starts, bodies


def _verdict(facts, sheet: SheetFacts, subject: str, rid: str, neighbours: set, paths: set[str]) -> str:
    """correct, a distractor kind, or "unexplained" (wrong in a way no kind describes)."""
    asked = [f for f in facts if f[0] == subject and f[1] == rid]
    false = [f for f in facts if not sheet.true(*f)]
    if not false:
        return "correct" if asked else "different_question"
    if len(false) > 1:
        return "unexplained"
    other, relation, value = false[0]
    if not asked and relation == rid and other != subject and sheet.kind[other] == sheet.kind[subject] and \
            value == sheet.values[subject][rid]:
        return "wrong_subject"
    if len(asked) != 1 or false[0] != asked[0]:
        return "unexplained"
    if value in neighbours:
        return "wrong_entity"
    if value in paths:
        return "wrong_relation"
    return "wrong_number" if RELATIONS[rid].numeric else "wrong_value"


def _expected(sample: OracleInput, starts: list[int], ctx_start: int, ctx_end: int) -> int:
    """The label number the requested depth gives: with a length, the candidate holding the token at that share of
    the candidates' tokens (the last one from its start on); without, A(1 + round(depth/100 x (n-1)))."""
    depth = sample.request.target_depth
    if not sample.request.target_length:
        return int(depth / 100.0 * (len(starts) - 1) + 0.5) + 1
    tokens = sample.token_index.tokens_at([ctx_start, *starts, ctx_end]).tolist()
    rel, total = [t - tokens[0] for t in tokens[1:-1]], tokens[-1] - tokens[0]
    target = min(depth / 100.0 * total, rel[-1])
    return max(j for j, s in enumerate(rel, 1) if s <= target) if rel[0] <= target else 1
