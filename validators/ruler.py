"""Oracle for ruler: read every RULER task back from the prompt alone and answer it.

niah: every needle line or sentence of the context, the queried keys' values in text order (each key found, every
value only in its needle). vt: every assignment, followed from the asked value (each variable assigned once, one
chain). cwe: the numbered list (numbers consecutive, nothing else in it) counted, the common words strictly more
frequent than every other. fwe: the coded text counted, the three most frequent coded words strictly ahead of the
fourth. qa: the numbered documents; the procedural stand-in's facts read back with the templates' own phrasings and
the question's chain followed (each fact stated once); a file or Hub item's gold documents found once each.
"""

from __future__ import annotations

import functools
import re
from collections import Counter

from lcgen.assemble import CONTEXT_SLOT, split_prompt
from lcgen.frames import frame_lines, frame_regex
from lcgen.generators._ruler_qa import CHAINS, PERSON, PLACE, bridges, fact_frames, question_frame
from lcgen.generators._ruler_text import noise_line, noise_sentences
from lcgen.oracle import OracleInput, OracleResult
from lcgen.registry import oracle
from lcgen.render import render

_NIAH_Q = re.compile(r"What (?:is|are all) the special magic (?P<kind>\w+) for (?P<query>.+) mentioned in the text "
                     r"above\?$")
_VT_Q = re.compile(r"Which variables are assigned the value (?P<value>\d+) in the text above\?")
_VT_STATEMENT = re.compile(r"VAR (?P<name>[A-Z]+) = (?:VAR (?P<source>[A-Z]+)|(?P<value>\d+))")
_CWE_Q = re.compile(r"Which are the (?P<n>\d+) most common words")
_ITEM = re.compile(r" (\d+)\. (\S+)")
_DOCUMENT = re.compile(r"Document (\d+):\n")
NAME = r"[A-Z][a-z]+(?: [A-Z][a-z]+)?"
_VALUES = {"place_founded": r"\d{4}", "person_born": r"\d{4}", "place_river": r"[A-Z][a-z]+",
           "place_export": r"[a-z]+", "person_profession": r"an? [a-z]+", "place_leader": r"[A-Z][a-z]+ [A-Z][a-z]+",
           "person_birthplace": r"[A-Z][a-z]+"}


@oracle("ruler")
def solve(sample: OracleInput) -> OracleResult:
    v = sample.variant
    if v.startswith("niah_"):
        return _niah(sample)
    if v == "vt":
        return _vt(sample)
    if v == "cwe":
        return _cwe(sample)
    if v == "fwe":
        return _fwe(sample)
    return _qa(sample)


def _question_start(sample: OracleInput) -> int:
    return sample.input.rindex(sample.question)


# --- niah ---------------------------------------------------------------------------------------------------------


def _niah_needles(text: str, start: int, end: int) -> list[re.Match[str]]:
    (frame,) = frame_lines("ruler/needle.j2")
    rx = frame_regex(frame, {"type_needle_v": r"\w+", "key": r"\S+", "value": r"\S+?"})
    return list(rx.finditer(text, start, end))


def _niah(sample: OracleInput) -> OracleResult:
    text, problems = sample.input, []
    q = _question_start(sample)
    start = text.index("\n") + 1  # the instruction is the prompt's first line
    asked = _NIAH_Q.search(sample.question)
    if asked is None:
        return _unread(sample, "the question does not read as a NIAH question")
    keys = re.split(r", and |, ", asked["query"])
    kind = asked["kind"] if asked["kind"].endswith("s") else asked["kind"] + "s"
    needles = _niah_needles(text, start, q)
    by_key: dict[str, list[re.Match[str]]] = {}
    for m in needles:
        if m["type_needle_v"] != kind:
            problems.append(f"a needle holds {m['type_needle_v']}, the question asks for {kind}")
        by_key.setdefault(m["key"], []).append(m)
    answers, offsets = [], []
    for key in keys:
        found = by_key.get(key, [])
        if not found:
            problems.append(f"no needle for the key {key!r}")
        answers.extend(m["value"] for m in found)
        offsets.extend(m.start() for m in found)
    if len(set(keys)) != len(keys):
        problems.append("the question names a key twice")
    if (len(answers) == 1) != (not asked["kind"].endswith("s")):
        problems.append("the question's number (singular or plural) does not match the values found")
    for value in set(answers):
        if text.count(value) != sum(m["value"] == value for m in needles):
            problems.append(f"the value {value!r} occurs outside its needles")
    if len(set(answers)) != len(answers):
        problems.append("two needles of the asked keys hold the same value")
    _noise_only(text, start, q, needles, problems)
    return OracleResult(answer=", ".join(answers), answers=answers, needle_offsets=sorted(offsets), anchor=None,
                        context_span=(start, q), unit_offsets=_unit_starts(text, start, q), problems=problems)


def _noise_only(text: str, start: int, end: int, needles: list[re.Match[str]], problems: list[str]) -> None:
    """A line haystack holds only needle lines and noise lines (shortened ones only before the first full one)."""
    body = text[start:end]
    if not body.endswith("\n") or noise_line() not in body:
        return  # an essay or needle haystack
    full, full_seen = noise_line(), False
    cuts = {" ".join(noise_sentences()[:k]) for k in range(1, 5)}
    needle_lines = {m.group(0) for m in needles}
    for line in body[:-1].split("\n"):
        if line in needle_lines or _VT_STATEMENT.fullmatch(line):
            continue
        if line == full:
            full_seen = True
        elif line in cuts:
            if full_seen:
                problems.append("a shortened noise line follows a full one")
                return
        else:
            problems.append(f"a line of the noise haystack is neither noise nor a needle: {line[:60]!r}")
            return


_SENTENCE_START = re.compile(r"(?<=[.!?\"'\u201d)]) (?=\S)")


def _unit_starts(text: str, start: int, end: int) -> list[int]:
    """Where the context's units start: each line of a line haystack; each sentence (at its leading space) of an
    essay, whose context is one line."""
    if text.count("\n", start, end) > 1:
        return _line_starts(text, start, end)
    return [start] + [m.start() for m in _SENTENCE_START.finditer(text, start, end)]


def _line_starts(text: str, start: int, end: int) -> list[int]:
    out, pos = [], start
    while pos < end:
        out.append(pos)
        nl = text.find("\n", pos, end)
        if nl < 0:
            break
        pos = nl + 1
    return out


# --- vt -------------------------------------------------------------------------------------------------------------


def _vt(sample: OracleInput) -> OracleResult:
    text, problems = sample.input, []
    q = _question_start(sample)
    start = text.rindex("\n\n", 0, q) + 2
    asked = _VT_Q.search(sample.question)
    if asked is None:
        return _unread(sample, "the question does not read as a variable-tracking question")
    value = asked["value"]
    statements = list(_VT_STATEMENT.finditer(text, start, q))
    source: dict[str, str] = {}
    for m in statements:
        if m["name"] in source:
            problems.append(f"VAR {m['name']} is assigned twice")
        source[m["name"]] = m["source"] or "=" + m["value"]
    roots = [n for n, s in source.items() if s == "=" + value]
    if len(roots) != 1:
        problems.append(f"{len(roots)} variables are assigned {value} directly, not one")
    chain: list[str] = []
    if roots:
        chain = [roots[0]]
        children = Counter(s for s in source.values() if not s.startswith("="))
        while True:
            nxt = [n for n, s in source.items() if s == chain[-1]]
            if len(nxt) > 1 or children[chain[-1]] > 1:
                problems.append(f"VAR {chain[-1]} is copied into several variables: the chain branches")
            if not nxt or nxt[0] in chain:
                break
            chain.append(nxt[0])
    if text.count(value, start, q) != 1:
        problems.append(f"the value {value} occurs {text.count(value, start, q)} times in the context, not once")
    _noise_only(text, start, q, [], problems)
    return OracleResult(answer=" ".join(chain), answers=chain, needle_offsets=[m.start() for m in statements],
                        anchor=None, context_span=(start, q), unit_offsets=_unit_starts(text, start, q),
                        problems=problems)


# --- cwe, fwe ------------------------------------------------------------------------------------------------------


def _cwe(sample: OracleInput) -> OracleResult:
    text, problems = sample.input, []
    q = _question_start(sample)
    end = q - 2  # the list, then " \n" and the question
    start = text.rindex("\n", 0, end) + 1
    asked = _CWE_Q.search(sample.question)
    if asked is None or text[end:q] != " \n":
        return _unread(sample, "the question does not follow a numbered list")
    n = int(asked["n"])
    words, pos = [], start
    for m in _ITEM.finditer(text, start, end):
        if m.start() != pos or int(m.group(1)) != len(words) + 1:
            problems.append(f"the list is not numbered 1, 2, 3, ... with one word each (at item {len(words) + 1})")
            break
        words.append(m.group(2))
        pos = m.end()
    if pos != end:
        problems.append("the list holds text that is not a numbered word")
    counts = Counter(words)
    ranked = sorted(counts.values(), reverse=True)
    if len(ranked) <= n or ranked[n - 1] <= ranked[n]:
        problems.append(f"the {n} most common words are not strictly more frequent than the others")
    top = {w for w, c in counts.items() if len(ranked) > n - 1 and c >= ranked[n - 1]}
    common = list(dict.fromkeys(w for w in words if w in top))  # in order of first occurrence
    answer = " ".join(f"{i}. {w}" for i, w in enumerate(common, start=1))
    return OracleResult(answer=answer, answers=common, needle_offsets=[], anchor=None,
                        context_span=(start, end + 1), problems=problems)  # the context closes with its space


@functools.lru_cache(maxsize=1)
def _fwe_head() -> str:
    question = render("ruler/fwe_question.j2").rstrip("\n")
    head, _ = split_prompt(render("ruler/fwe_prompt.j2", context=CONTEXT_SLOT, question=question).rstrip("\n"))
    return head


def _fwe(sample: OracleInput) -> OracleResult:
    text, problems = sample.input, []
    q = _question_start(sample)
    head = _fwe_head()
    if not text.startswith(head) or text[q - 2:q] != " \n":
        return _unread(sample, "the prompt does not start with fwe's instruction")
    start, end = len(head), q - 2
    body = text[start:end]
    if not body.startswith(" ") or "  " in body:
        problems.append("the coded text is not words separated by single spaces")
    counts = Counter(w for w in body.split(" ") if w and w != "...")
    bad = [w for w in counts if not w.isalpha() or not w.islower()]
    if bad:
        problems.append(f"the coded text holds {bad[0]!r}, not a coded word")
    ranked = counts.most_common()
    if len(ranked) < 4 or not ranked[0][1] > ranked[1][1] > ranked[2][1] > ranked[3][1]:
        problems.append("the three most frequent coded words are not strictly ahead of each other and the fourth")
    answers = [w for w, _ in ranked[:3]]
    return OracleResult(answer=" ".join(answers), answers=answers, needle_offsets=[], anchor=None,
                        context_span=(start, end + 1), problems=problems)  # the context closes with its space


# --- qa ---------------------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _qa_frame() -> tuple[str, str]:
    head, tail = split_prompt(render("ruler/qa_prompt.j2", context=CONTEXT_SLOT, question="").rstrip("\n"))
    return head, tail.lstrip("\n")


def _qa(sample: OracleInput) -> OracleResult:
    text, problems = sample.input, []
    head, tail = _qa_frame()
    q = _question_start(sample)
    if not text.startswith(head):
        return _unread(sample, "the prompt does not start with the QA instruction")
    start, end = len(head), text.rindex(tail, 0, q)
    docs, starts, pos = [], [], start
    matches = list(_DOCUMENT.finditer(text, start, end))
    for i, m in enumerate(matches):
        if m.start() != pos or int(m.group(1)) != i + 1:
            problems.append(f"the documents are not numbered 1, 2, 3, ... one after another (at document {i + 1})")
            break
        stop = matches[i + 1].start() if i + 1 < len(matches) else end
        body = text[m.end():stop]
        if not body.endswith("\n\n"):
            problems.append(f"document {i + 1} does not end with a blank line")
        docs.append(body[:-2])
        starts.append(m.start())
        pos = stop
    if pos != end:
        problems.append("the context holds text outside the numbered documents")
    if sample.source is not None:
        answers, supporting = _qa_item(sample, docs, starts, problems)
    else:
        answers, supporting = _qa_procedural(sample, docs, starts, problems)
    return OracleResult(answer=answers[0] if answers else "", answers=answers, needle_offsets=supporting,
                        anchor=None, context_span=(start, end), unit_offsets=starts, problems=problems)


def _qa_item(sample: OracleInput, docs: list[str], starts: list[int], problems: list[str]):
    """A file or Hub item: its gold documents each once in the context; SQuAD's answer in its paragraph."""
    item = sample.source
    question = render("ruler/qa_question.j2", question=item["question"]).rstrip("\n")
    if question != sample.question:
        problems.append("the question is not the source item's")
    where = {}
    for g, gold in enumerate(item["gold"]):
        at = [i for i, d in enumerate(docs) if d == gold]
        if len(at) != 1:
            problems.append(f"gold document {g + 1} occurs {len(at)} times, not once")
        elif g < item["supporting"]:
            where[g] = starts[at[0]]
    answers = list(dict.fromkeys(item["answers"]))
    if item["supporting"] == 1 and item["gold"] and not any(a in item["gold"][0] for a in answers):
        problems.append("no answer is a span of the gold paragraph")
    return answers, sorted(where.values())


@functools.lru_cache(maxsize=1)
def _fact_patterns() -> list[tuple[str, re.Pattern[str]]]:
    out = []
    for rel in PLACE + PERSON:
        for f in fact_frames(rel):
            out.append((rel, frame_regex(f, {"subject": NAME, "value": _VALUES[rel]})))
    return out


def _qa_procedural(sample: OracleInput, docs: list[str], starts: list[int], problems: list[str]):
    facts: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for i, doc in enumerate(docs):
        body = doc.split("\n", 1)[1] if "\n" in doc else doc
        for rel, rx in _fact_patterns():
            for m in rx.finditer(body):
                if (m.start() == 0 or body[m.start() - 1] == " ") and (m.end() == len(body) or body[m.end()] == " "):
                    facts.setdefault((m["subject"], rel), []).append((m["value"], i))
    asked = _procedural_question(sample.question)
    if asked is None:
        problems.append("the question does not read as one of the stand-in's questions")
        return [], []
    subject, chain = asked
    used: list[int] = []
    value = subject
    for rel in chain:
        found = facts.get((value, rel), [])
        if len(found) != 1:
            problems.append(f"the fact {rel} of {value} is stated {len(found)} times, not once")
            return [], []
        value, doc = found[0]
        used.append(doc)
    return [value], sorted(starts[d] for d in set(used))


@functools.lru_cache(maxsize=1)
def _question_patterns() -> list[tuple[tuple[str, ...], re.Pattern[str]]]:
    out = []
    for rel in PLACE + PERSON:
        out.append(((rel,), frame_regex(question_frame(rel), {"subject": NAME})))
    for first, second in CHAINS:
        words = frame_regex(bridges()[first], {"subject": NAME}).pattern
        rx = frame_regex(question_frame(second), {"subject": "X"}).pattern.replace("(?P<subject>X)", words)
        out.append(((first, second), re.compile(rx)))
    return out


def _procedural_question(question: str) -> tuple[str, tuple[str, ...]] | None:
    body = question.removeprefix("Question: ")
    hits = [(chain, m["subject"]) for chain, rx in _question_patterns() if (m := rx.fullmatch(body))]
    longest = max((len(c) for c, _ in hits), default=0)
    hits = [h for h in hits if len(h[0]) == longest]
    if len(hits) != 1:
        return None
    return hits[0][1], hits[0][0]


def _unread(sample: OracleInput, why: str) -> OracleResult:
    return OracleResult(answer="", answers=[], needle_offsets=[], anchor=None, context_span=(0, len(sample.input)),
                        problems=[why])
