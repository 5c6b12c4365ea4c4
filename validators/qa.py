"""Oracle for qa: read every fact sentence of the article with the world's phrasings, then follow the question.

The question names a subject and one relation, or a relation of "the founder of X" (two facts chained). Each fact
the chain needs must be stated exactly once for its subject; every other fact sentence is a confuser, and none may
state a second value for an asked subject and relation. Keyword replacement is checked by ``lcgen validate`` from
``meta.keyword_map`` (no original left anywhere).
"""

from __future__ import annotations

import functools
import re

from lcgen.frames import frame_lines, frame_regex
from lcgen.generators._world import NAME, RELATIONS
from lcgen.generators.qa import BRIDGES, fact_patterns
from lcgen.haystacks.sentences import split_sentences
from lcgen.oracle import OracleInput, OracleResult
from lcgen.registry import oracle


@functools.lru_cache(maxsize=1)
def _questions() -> list[tuple[str | None, str, re.Pattern[str]]]:
    """(first relation or None, asked relation, regex of the question) for every question shape."""
    out = []
    for rel_id in RELATIONS:
        frame = frame_lines(f"qa/questions/{rel_id}.j2")[0]
        out.append((None, rel_id, frame_regex(frame, {"subject": NAME})))
        for first, seconds in BRIDGES.items():
            if rel_id in seconds:
                described = frame_lines(f"qa/descriptions/{first}.j2")[0].replace("{{ subject }}", "\x00")
                subject = re.escape(described).replace("\x00", f"(?P<subject>{NAME})")
                pattern = frame_regex(frame, {"subject": ".+?"}).pattern.replace("(?P<subject>.+?)", subject)
                out.append((first, rel_id, re.compile(pattern)))
    return out


def _readings(question: str) -> list[tuple[str, list[str]]]:
    """Every (subject, chain of relations) the question can be read as ("In which year was X founded?" asks a
    company's or a town's founding year); the facts decide which reading has an answer."""
    found = {(m.group("subject"), tuple(r for r in (first, rel) if r))
             for first, rel, rx in _questions() if (m := rx.fullmatch(question))}
    return [(subject, list(chain)) for subject, chain in sorted(found)]


@oracle("qa")
def solve(sample: OracleInput) -> OracleResult:
    text = sample.input
    start = text.index("<article>")
    end = text.rindex("</article>") + len("</article>")
    inner_start, inner_end = start + len("<article>"), end - len("</article>")
    facts = []  # (offset, {(relation id, subject, value) the sentence reads as})
    fact_text = []  # each fact sentence as it stands
    units, pos = [], inner_start
    for piece in split_sentences(text[inner_start:inner_end]):
        units.append(pos)
        sentence = piece.strip()
        read = {(rel, m.group("subject"), m.group("value") if "value" in m.groupdict() else m.group("a_value"))
                for rel, rx in fact_patterns() if (m := rx.fullmatch(sentence))}
        if read:
            facts.append((pos, read))
            fact_text.append(piece)
        pos += len(piece)
    problems: list[str] = []
    solved = {}
    for subject, chain in _readings(sample.question):
        got = _follow(facts, subject, chain)
        if got is not None:
            solved[(subject, tuple(chain))] = got
    if len({answer for answer, _, _ in solved.values()}) != 1:
        raise ValueError(f"the question has {len(solved)} readings the article answers (one must answer it)")
    answer, offsets, asked = next(iter(solved.values()))
    evidence = set(offsets)
    confusers = [o for o, _ in facts if o not in evidence]
    for o, read in facts:
        if o not in evidence and any((s, r) in asked for r, s, _ in read):
            problems.append("a confusing fact states an asked subject's asked attribute again")
    inner = text[inner_start:inner_end]
    outside = inner.count(answer) - sum(s.count(answer) for s in fact_text)
    if outside:
        problems.append(f"the answer {answer!r} occurs {outside} time(s) outside the article's fact sentences")
    answers = [answer] + ([answer.replace(",", "")] if re.fullmatch(r"\d{1,3}(?:,\d{3})+", answer) else [])
    return OracleResult(answer=answer, answers=answers, needle_offsets=offsets + confusers, anchor=0,
                        context_span=(start, end), unit_offsets=units, problems=problems)


def _follow(facts: list, subject: str, chain: list[str]) -> tuple[str, list[int], set] | None:
    """The answer, the evidence offsets and the asked (subject, relation) pairs of one reading of the question, or
    None when the article does not state a fact it needs; ValueError when it states one twice."""
    offsets, asked, current = [], set(), subject
    for rel in chain:
        stated = sorted({(o, v) for o, read in facts for r, s, v in read if r == rel and s == current})
        if not stated:
            return None
        if len({o for o, _ in stated}) != 1 or len({v for _, v in stated}) != 1:
            raise ValueError(f"{len(stated)} sentences state the {RELATIONS[rel].name} of {current}")
        asked.add((current, rel))
        offsets.append(stated[0][0])
        current = _article_free(stated[0][1])
    return current, offsets, asked


def _article_free(value: str) -> str:
    return re.sub(r"^(?:a|an) ", "", value)


