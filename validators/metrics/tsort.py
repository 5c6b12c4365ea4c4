"""tsort's metric: the parts' original order, read strictly from the reply.

Worked example (docs/tsort.md): the original order is ``[2, 4, 1, 3]`` (Part 2 first, then 4, 1, 3), so its
junctions are 2→4, 4→1 and 1→3. The reply ``Answer: [2, 4, 3, 1]`` is a permutation of the four parts but not the
order: strict 0. It keeps one junction of three (2→4; its 4→3 and 3→1 are not junctions of the original): partial
1/3. ``[2, 4, 1]``, ``[]``, ``[2, 4, 1, 3, 9]``, ``2413`` and ``[2, 2, 1, 3]`` are not permutations of the parts: 0
and 0 (Ada-LEval counts the first three as correct and crashes on the fourth).
"""

from __future__ import annotations

import json
import re

_ANSWER = re.compile(r"answer\s*[:：]", re.IGNORECASE)
_LIST = re.compile(r"\[[^\[\]]*\]")


def read_order(reply: str, k: int) -> list[int] | None:
    """The order a reply states: the last bracketed list after its last "Answer:" (or anywhere in it, without one),
    when that list is a permutation of 1..k; None for anything else."""
    marks = list(_ANSWER.finditer(reply))
    region = reply[marks[-1].end():] if marks else reply
    lists = _LIST.findall(region)
    if not lists:
        return None
    try:
        value = json.loads(lists[-1])
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, list) or not all(type(x) is int for x in value):
        return None
    return value if sorted(value) == list(range(1, k + 1)) else None


def score_reply(reply: str, answer: str, answers: list[str], variant: str) -> dict[str, float]:
    """Strict: the reply's order (its last JSON list of part numbers, after its last "Answer:" if any) is the
    original order. Partial: the share of the original order's junctions (part X directly followed by part Y) the
    reply keeps; a random order keeps 1/k of them on average. A reply that is not a permutation of the part numbers
    scores 0 on both."""
    gold = json.loads(answer)
    got = read_order(reply, len(gold))
    if got is None:
        return {"strict": 0.0, "partial": 0.0}
    junctions = set(zip(gold, gold[1:]))
    kept = sum(pair in junctions for pair in zip(got, got[1:]))
    return {"strict": float(got == gold), "partial": kept / len(junctions) if junctions else float(got == gold)}
