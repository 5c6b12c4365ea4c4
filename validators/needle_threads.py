"""Oracle for needle-threads: parse the JSON object out of ``input``, then follow keys as the question says."""

from __future__ import annotations

import json
import re
from collections import Counter

from lcgen.oracle import OracleInput, OracleResult
from lcgen.registry import oracle

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
_LINE = re.compile(r'^  "([^"\n]*)": "([^"\n]*)",?$', re.MULTILINE)
_ASKED = re.compile(r'"([^"\s]*[0-9a-f]{8}-[0-9a-f]{4}-[^"\s]*)"')  # quoted UUID-like strings in the question
_MARKER = re.compile(r'character "(.)"')


def _parse(text: str):
    start = text.find("\n{\n")
    if start < 0:
        raise ValueError("no JSON object on its own lines")
    start += 1
    end = text.find("\n}", start)
    if end < 0:
        raise ValueError("JSON object is not closed")
    end += 2
    body = text[start:end]
    pairs = json.loads(body, object_pairs_hook=list)
    lines = [(m.start() + start, m.group(1), m.group(2)) for m in _LINE.finditer(body)]
    if [(k, v) for _, k, v in lines] != pairs:
        raise ValueError("the object's lines do not match its JSON parse")
    return (start, end), lines


@oracle("needle-threads")
def solve(sample: OracleInput) -> OracleResult:
    text, question, variant = sample.input, sample.question, sample.variant
    span, lines = _parse(text)
    problems: list[str] = []
    keys = [k for _, k, _ in lines]
    value_of = {k: v for _, k, v in lines}
    offset_of = {k: off for off, k, _ in lines}
    if len(value_of) != len(lines):
        problems.append("duplicate keys")
    marker = None
    if variant == "conditional_needles":
        found = _MARKER.search(question)
        if found is None:
            raise ValueError("the question names no marker character")
        marker = found.group(1)
    for _, k, v in lines:
        for s, what in ((k, "key"), (v, "value")):
            if not _UUID.fullmatch(s) and not (what == "key" and marker and _UUID.fullmatch(s.replace(marker, "", 1))):
                problems.append(f"{what} {s!r} is not a version-4 UUID")
    key_set = set(keys)
    repeated = [v for v, n in Counter(value_of.values()).items() if n > 1]
    if variant == "branched_threads":
        if len(repeated) > 1 or (repeated and repeated[0] not in key_set):
            problems.append("a value other than one merge key repeats")
    elif repeated:
        problems.append(f"{len(repeated)} values repeat")
    if variant in ("single_needle", "multiple_needles", "conditional_needles"):
        linked = sum(v in key_set for v in value_of.values())
        if linked:
            problems.append(f"{linked} values are also keys")

    def walk(start: str) -> list[str]:
        chain = [start]
        while chain[-1] in value_of:
            chain.append(value_of[chain[-1]])
            if len(chain) > len(lines) + 1:
                raise ValueError("a thread loops")
        return chain

    if variant == "single_needle":
        (key,) = _ASKED.findall(question)
        answers = [value_of[key]]
        offsets, anchor, answer = [offset_of[key]], 0, answers[0]
    elif variant == "multiple_needles":
        asked = _ASKED.findall(question)
        answers = [value_of[k] for k in asked]
        offsets, anchor, answer = [offset_of[k] for k in asked], 0, json.dumps(answers)
    elif variant == "conditional_needles":
        marked = [k for k in keys if marker in k]
        answers = [value_of[k] for k in marked]
        offsets, anchor, answer = [offset_of[k] for k in marked], None, json.dumps(answers)
    elif variant == "threads":
        (start,) = _ASKED.findall(question)
        chain = walk(start)
        answers = [chain[-1]]
        offsets, anchor, answer = [offset_of[k] for k in chain[:-1]], 0, chain[-1]
    elif variant == "multi_threads":
        starts = _ASKED.findall(question)
        chains = [walk(s) for s in starts]
        answers = [c[-1] for c in chains]
        offsets = [offset_of[k] for c in chains for k in c[:-1]]
        anchor, answer = 0, json.dumps(answers)
    elif variant == "branched_threads":
        final = _ASKED.findall(question)[0]
        into = {}
        for k, v in value_of.items():
            into.setdefault(v, []).append(k)
        # Walk back from the final value; starts are keys that no link points to.
        frontier, starts, seen_keys = list(into.get(final, [])), [], []
        merge = frontier[0] if len(frontier) == 1 else None
        if merge is None:
            problems.append("the final value is not reached by exactly one link")
        while frontier:
            k = frontier.pop()
            seen_keys.append(k)
            parents = into.get(k, [])
            if not parents:
                starts.append(k)
            frontier.extend(parents)
        starts.sort(key=lambda k: offset_of[k])
        answers = starts
        offsets = [offset_of[merge]] if merge else []
        for s in starts:
            chain = walk(s)
            offsets.extend(offset_of[k] for k in chain[: chain.index(merge)] if merge in chain)
            if chain[-1] != final:
                problems.append(f"start {s!r} does not end at the final value")
        anchor, answer = 0, json.dumps(answers)
    else:
        raise ValueError(f"unknown variant {variant!r}")
    return OracleResult(
        answer=answer,
        answers=answers,
        needle_offsets=offsets,
        anchor=anchor,
        context_span=span,
        unit_offsets=[off for off, _, _ in lines],
        problems=problems,
    )
