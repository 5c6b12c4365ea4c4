"""Oracle for needles: read every needle back with the frames' own patterns, then answer from the text alone."""

from __future__ import annotations

import json
import re
from collections import Counter

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
    span = (inner_start, inner_end)
    if variant in ("single_retrieval", "multi_retrieval"):
        answers, offsets, sentences, mentioned, confusers = _retrieve(text, span, question, lang, problems)
        answer = answers[0] if variant == "single_retrieval" else json.dumps(answers, ensure_ascii=False)
        anchor = 0
    else:
        answer, offsets, sentences, mentioned, confusers = _reason(text, span, question, lang, problems)
        answers = [answer]
        # The needle nearest the target is the anchor; with confusing facts about, the nearest of the chain's own.
        anchor = _nearest_needle(sample, offsets[:len(offsets) - len(confusers)], start, end) if confusers else None
    _check_leaks(inner, mentioned, sentences, problems)
    return OracleResult(answer=answer, answers=answers, needle_offsets=offsets, anchor=anchor,
                        context_span=(start, end), unit_offsets=units, problems=problems,
                        measured={"confusing_facts": confusers})


def _retrieve(text: str, span: tuple[int, int], question: str, lang: str, problems: list[str]):
    """Each asked (person, attribute) must have exactly one fact; every other fact is a confusing one, and none may
    share a code with another fact or a name that holds another."""
    attr = "|".join(map(re.escape, ATTRIBUTES[lang]))
    fill = {"name": NAME[lang], "attribute": attr, "value": VALUE}
    facts = []  # (offset, name, attribute, value, sentence)
    for offset, m in _parse(text, span, fact_frames(lang), fill):
        facts.append((offset, m.group("name"), m.group("attribute"), m.group("value"), m.group(0)))
    asked = [(m.group("name"), m.group("attribute"))
             for m in re.finditer(_ASK[lang].format(attr=attr, name=NAME[lang]), question)]
    answers, offsets, answering = [], [], set()
    for name, attribute in asked:
        found = [f for f in facts if f[1] == name and f[2] == attribute]
        if not found:
            raise ValueError(f"no fact gives the {attribute} of {name}")
        if len(found) > 1:
            problems.append(f"{len(found)} facts give the {attribute} of {name} ({', '.join(f[3] for f in found)}): "
                            "a confusing fact contradicts the answer")
        answers.append(found[0][3])
        offsets.append(found[0][0])
        answering.update(f[0] for f in found)
    people = [n for n, _ in asked]
    others = [f for f in facts if f[0] not in answering]  # the confusing facts, in text order
    for value, n in Counter(f[3] for f in facts).items():
        if n > 1:
            problems.append(f"the code {value} is given in {n} facts")
    _distinct_names(sorted({f[1] for f in facts}), problems)
    confusers = [{"sentence": s, "kind": "other_attribute" if name in people else "other_subject", "name": name,
                  "attribute": attribute, "value": value} for _, name, attribute, value, s in others]
    mentioned = people + answers + [f[1] for f in others] + [f[3] for f in others]
    return answers, offsets + [f[0] for f in others], [f[4] for f in facts], mentioned, confusers


def _reason(text: str, span: tuple[int, int], question: str, lang: str, problems: list[str]):
    """The asked dimension's comparisons must form one chain; a comparison in another dimension is a confusing
    one, and those of one dimension must not contradict each other."""
    dimension = next(d for d in DIMENSIONS[lang] if d[0] in question)
    _, more, less, most, least = dimension
    fill = {"a": NAME[lang], "b": NAME[lang], "more": re.escape(more), "less": re.escape(less)}
    edges = [(offset, m.group("a"), m.group("b"), m.group(0))
             for offset, m in _parse(text, span, comparison_frames(lang), fill)]
    # A sentence the asked dimension reads is one of its comparisons ("王伟比李明年轻" is 李明年 and weight, not
    # 李明 and age, when weight is asked): never counted twice, never excused as a confusing fact.
    taken = {e[0] for e in edges}
    others = []  # (offset, dimension, more, a, b, sentence)
    for other in (d for d in DIMENSIONS[lang] if d != dimension):
        fill = {"a": NAME[lang], "b": NAME[lang], "more": re.escape(other[1]), "less": re.escape(other[2])}
        others += [(offset, other[0], other[1], m.group("a"), m.group("b"), m.group(0))
                   for offset, m in _parse(text, span, comparison_frames(lang), fill) if offset not in taken]
    others = _most_specific(others)
    top = _total_order(edges, problems)
    answer = top[0] if most in question.split(dimension[0], 1)[1] else top[-1]
    for dim in dict.fromkeys(o[1] for o in others):
        _acyclic(dim, [(o[3], o[4]) for o in others if o[1] == dim], problems)
    _distinct_names(sorted({*top, *(n for o in others for n in o[3:5])}), problems)
    confusers = [{"sentence": o[5], "kind": "other_dimension", "names": [o[3], o[4]], "dimension": o[1],
                  "value": o[2]} for o in others]
    offsets = [e[0] for e in edges] + [o[0] for o in others]
    mentioned = top + [n for o in others for n in o[3:5]]
    return answer, offsets, [e[3] for e in edges] + [o[5] for o in others], mentioned, confusers


def _most_specific(others: list[tuple]) -> list[tuple]:
    """One reading per sentence start, the longest and most literal (as _specificity), in text order."""
    def key(o: tuple) -> tuple[int, int]:
        return len(o[5]), len(o[5]) - len(o[3]) - len(o[4])

    best: dict[int, tuple] = {}
    for o in others:
        if o[0] not in best or key(o) > key(best[o[0]]):
            best[o[0]] = o
    return [best[k] for k in sorted(best)]


def _acyclic(dimension: str, pairs: list[tuple[str, str]], problems: list[str]) -> None:
    """Comparisons of one dimension (more, less) that no order satisfies contradict each other."""
    import networkx as nx  # imported here, as the generators do: validating other families stays fast

    graph = nx.DiGraph(sorted(pairs))
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return
    problems.append(f"comparisons of {dimension} contradict each other (around {cycle[0][0]})")


def _distinct_names(names: list[str], problems: list[str]) -> None:
    """No name may hold another ("Ada Brook" in "Ada Brooks"): a reader could not tell them apart, nor could the
    leak check."""
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if a in b or b in a:
                problems.append(f"the names {a!r} and {b!r} hold one another")


def _nearest_needle(sample: OracleInput, offsets: list[int], start: int, end: int) -> int | None:
    """Index of the needle whose depth is nearest the requested one (None without a request)."""
    if sample.request is None or not offsets:
        return None
    index = sample.token_index
    first, last = index.token_at(start), index.token_at(end)
    depths = [100.0 * (t - first) / max(last - first, 1) for t in index.tokens_at(offsets).tolist()]
    return min(range(len(depths)), key=lambda i: abs(depths[i] - sample.request.target_depth))


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
