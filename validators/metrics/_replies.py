"""Reading a model's reply: the pieces families' metrics share (standard library only; inlined when shipped)."""

from __future__ import annotations

import json
import re

_BOXED = re.compile(r"\\boxed\{")
_FENCE = re.compile(r"^```[\w-]*\n?|\n?```$")
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def last_boxed(text: str) -> str | None:
    """The content of the last ``\\boxed{...}`` (braces balanced), without ``\\text{}`` wrappers."""
    starts = [m.end() for m in _BOXED.finditer(text)]
    if not starts:
        return None
    i = start = starts[-1]
    depth = 1
    while i < len(text) and depth:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    if depth:
        return None
    inner = text[start : i - 1]
    inner = re.sub(r"\\text\{([^{}]*)\}", r"\1", inner)
    return " ".join(inner.replace("\\", "").split())


def bare(text: str) -> str:
    """The reply without a code fence or quotes around it."""
    text = _FENCE.sub("", text.strip()).strip()
    return text.strip().strip('"').strip("'").strip()


def json_list(text: str) -> list[str] | None:
    """The reply's JSON list, items as text; None if there is none. Any reply is safe: nesting too deep for the
    parser (``[[[[...``) and integers past Python's digit limit are no list, not an exception."""
    cleaned = _FENCE.sub("", text.strip()).strip()
    for candidate in (cleaned, cleaned[cleaned.find("[") : cleaned.rfind("]") + 1] if "[" in cleaned else ""):
        try:
            value = json.loads(candidate)
            if isinstance(value, list):
                return [str(x) for x in value]
        except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
            continue
    return None


def loose(text: str) -> str:
    """Lower case, punctuation as spaces, spaces collapsed: for "the same, ignoring case and punctuation"."""
    return " ".join(re.sub(r"[^\w\s-]", " ", text.lower()).split())


def mentions(answer: str, reply: str) -> bool:
    """The answer appears in the reply; a number as a number, so "12" is not found inside "2012"."""
    if _NUMBER.fullmatch(answer):
        value = float(answer.replace(",", ""))
        return any(float(n.replace(",", "")) == value for n in _NUMBER.findall(reply) if n.strip(","))
    return answer in reply or loose(answer) in loose(reply)


def score_text(answer: str, reply: str) -> dict[str, float]:
    """Strict: the reply is the answer alone. Partial: the answer appears in the reply."""
    strict = float(bare(reply) == answer)
    return {"strict": strict, "partial": float(strict or mentions(answer, reply))}


def score_boxed(answer: str, reply: str) -> dict[str, float]:
    """Strict: the last \\boxed{} holds exactly the answer. Partial: the same, ignoring case and punctuation."""
    boxed = last_boxed(reply)
    if boxed is None:
        return {"strict": 0.0, "partial": 0.0}
    return {"strict": float(boxed == answer), "partial": float(loose(boxed) == loose(answer))}


def _items_in_text(answers: list[str], reply: str) -> list[str]:
    """Without a JSON list: the reference items the reply mentions, in the order it first mentions them."""
    found = [(reply.find(a), a) for a in dict.fromkeys(answers) if a and a in reply]
    return [a for _, a in sorted(found)]


def score_ordered(answers: list[str], reply: str) -> dict[str, float]:
    """For a list whose positions mean something (the value of each asked key, in the asked order). Strict: the
    reply is exactly the JSON list. Partial: the share of positions holding the right item, so a permutation of
    the right items scores what it gets in place, not full credit."""
    listed = json_list(reply)
    got = listed if listed is not None else _items_in_text(answers, reply)
    strict = float(listed == list(answers))
    hits = sum(1 for i, a in enumerate(answers) if i < len(got) and got[i] == a)
    return {"strict": strict, "partial": hits / len(answers) if answers else 0.0}


def score_set(answers: list[str], reply: str, order_asked: bool) -> dict[str, float]:
    """For a list that is a set (every key that matches). Strict: the reply is the JSON list, in the reference's
    order when the prompt asks for one, else in any order, each item once. Partial: F1 of the reply's items
    against the reference, so listing everything does not pay."""
    listed = json_list(reply)
    got = listed if listed is not None else _items_in_text(answers, reply)
    if order_asked:
        strict = float(listed == list(answers))
    else:
        strict = float(listed is not None and sorted(listed) == sorted(answers))
    gold, given = set(answers), set(got)
    hits = len(gold & given)
    if not hits:
        return {"strict": strict, "partial": strict}
    precision, recall = hits / len(given), hits / len(gold)
    return {"strict": strict, "partial": max(strict, 2 * precision * recall / (precision + recall))}
