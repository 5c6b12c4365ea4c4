"""Oracle for needles: read every needle back with the frames' own patterns, then answer from the text alone."""

from __future__ import annotations

import json
import re

from lcgen.frames import frame_regex
from lcgen.generators.needles import ATTRIBUTES, DIMENSIONS, NAME, VALUE, comparison_frames, fact_frames
from lcgen.haystacks.sentences import split_sentences
from lcgen.oracle import OracleInput, OracleResult
from lcgen.registry import oracle

_ASK = {
    "en": r"What is the (?P<attribute>{attr}) of (?P<name>{name})\?",
    "zh": r"(?P<name>{name})的(?P<attribute>{attr})是什么？",
}


def _lang(question: str) -> str:
    return "zh" if re.search(r"[\u4e00-\u9fff]", question) else "en"


def _context(text: str) -> tuple[int, int, int, int]:
    start = text.index("<document>")
    end = text.rindex("</document>") + len("</document>")
    inner_start = start + len("<document>")
    return start, end, inner_start, end - len("</document>")


@oracle("needles")
def solve(sample: OracleInput) -> OracleResult:
    text, question, variant = sample.input, sample.question, sample.variant
    lang = _lang(question)
    start, end, inner_start, inner_end = _context(text)
    inner = text[inner_start:inner_end]
    units, pos = [], inner_start
    for piece in split_sentences(inner):
        units.append(pos + len(piece) - len(piece.lstrip()) if lang == "zh" else pos)
        pos += len(piece)
    problems: list[str] = []
    attr = "|".join(map(re.escape, ATTRIBUTES[lang]))
    if variant in ("single_retrieval", "multi_retrieval"):
        fill = {"name": NAME[lang], "attribute": attr, "value": VALUE}
        facts = []  # (offset, name, attribute, value, sentence)
        for offset, m in _parse(text, (inner_start, inner_end), fact_frames(lang), fill):
            facts.append((offset, m.group("name"), m.group("attribute"), m.group("value"), m.group(0)))
        asked = [(m.group("name"), m.group("attribute"))
                 for m in re.finditer(_ASK[lang].format(attr=attr, name=NAME[lang]), question)]
        answers, offsets, sentences = [], [], []
        for name, attribute in asked:
            found = [f for f in facts if f[1] == name and f[2] == attribute]
            if len(found) != 1:
                problems.append(f"{len(found)} facts give the {attribute} of {name}")
                raise ValueError(problems[-1])
            answers.append(found[0][3])
            offsets.append(found[0][0])
            sentences.append(found[0][4])
        mentioned = [n for n, _ in asked] + answers
        answer = answers[0] if variant == "single_retrieval" else json.dumps(answers, ensure_ascii=False)
        anchor = 0
    else:
        dimension = next(d for d in DIMENSIONS[lang] if d[0] in question)
        _, more, less, most, least = dimension
        fill = {"a": NAME[lang], "b": NAME[lang], "more": re.escape(more), "less": re.escape(less)}
        edges = [(offset, m.group("a"), m.group("b"), m.group(0))
                 for offset, m in _parse(text, (inner_start, inner_end), comparison_frames(lang), fill)]
        top = _total_order(edges, problems)
        answer = top[0] if most in question.split(dimension[0], 1)[1] else top[-1]
        answers, offsets = [answer], [e[0] for e in edges]
        sentences = [e[3] for e in edges]
        mentioned = top
        anchor = None
    _check_leaks(inner, mentioned, sentences, problems)
    return OracleResult(answer=answer, answers=answers, needle_offsets=offsets, anchor=anchor,
                        context_span=(start, end), unit_offsets=units, problems=problems)


_AFTER_SENTENCE = re.compile(r"(?:[.!?。！？…][\"'”’」』）)\]]*\s+|\n)$")


def _parse(text: str, span: tuple[int, int], frames: tuple[str, ...], fill: dict[str, str]):
    """(offset, match) for every needle a frame reads, starting where a sentence can start, in text order.

    The generator keeps every haystack sentence that a frame could read out of the text, and haystack sentences
    end with a terminator, so a match that starts at a sentence start is a needle.
    """
    found: dict[int, re.Match[str]] = {}
    for rx in (frame_regex(f, fill) for f in frames):
        for m in rx.finditer(text, *span):
            before = text[max(span[0], m.start() - 16) : m.start()]
            at_start = not text[span[0] : m.start()].strip()
            if not at_start and not _AFTER_SENTENCE.search(before):
                continue
            if m.start() not in found or _specificity(m) > _specificity(found[m.start()]):
                found[m.start()] = m
    return sorted(found.items())


def _specificity(m: re.Match[str]) -> tuple[int, int]:
    """Longer matches first, then the frame with more literal text ("据说A比B年长" over "A比B年长" with A="据说…")."""
    filled = sum(len(v) for v in m.groupdict().values() if v)
    return len(m.group(0)), len(m.group(0)) - filled


def _total_order(edges: list[tuple[int, str, str, str]], problems: list[str]) -> list[str]:
    """People from most to least, if the comparisons form one chain (so the answer is unique)."""
    higher = {}
    lower = {}
    for _, a, b, _ in edges:
        if b in higher or a in lower:
            problems.append(f"comparisons of {a} and {b} do not form a single chain")
        higher[b], lower[a] = a, b
    tops = [a for a in lower if a not in higher]
    if len(tops) != 1:
        raise ValueError(f"{len(tops)} people could be at the top of the comparisons")
    order = [tops[0]]
    while order[-1] in lower:
        order.append(lower[order[-1]])
        if len(order) > len(edges) + 1:
            raise ValueError("the comparisons contain a cycle")
    if len(order) != len(edges) + 1:
        problems.append("some comparisons are not part of the chain")
    return order


def _check_leaks(inner: str, mentioned: list[str], sentences: list[str], problems: list[str]) -> None:
    """Names and answers of the needles may occur only inside the needles."""
    for item in dict.fromkeys(mentioned):
        outside = inner.count(item) - sum(s.count(item) for s in sentences)
        if outside:
            problems.append(f"{item!r} occurs {outside} time(s) in the haystack outside the needles")
