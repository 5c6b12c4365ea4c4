"""Per-family metrics, self-contained on purpose (standard library only).

This file is also copied into every dataset folder as ``lcgen_metrics.py``, so the lm-evaluation-harness and
inspect_ai task files shipped with a dataset score it exactly as ``lcgen score`` does, with or without lcgen
installed. Each metric returns ``strict`` (the answer in exactly the requested format) and ``partial`` (per-item
credit, or the right answer found in a looser reply).
"""

from __future__ import annotations

import json
import re

_BOXED = re.compile(r"\\boxed\{")
_FENCE = re.compile(r"^```[\w-]*\n?|\n?```$")


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


def _clean(text: str) -> str:
    text = _FENCE.sub("", text.strip()).strip()
    return text.strip().strip('"').strip("'").strip()


def _json_list(text: str) -> list[str] | None:
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


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s-]", " ", text.lower()).split())


def score_list(answers: list[str], prediction: str) -> dict[str, float]:
    """Strict: the reply is exactly the JSON list asked for. Partial: the share of items it contains."""
    got = _json_list(prediction)
    strict = float(got is not None and got == list(answers))
    if got is not None:
        hits = sum(1 for a in answers if a in got)
    else:
        hits = sum(1 for a in answers if a in prediction)
    return {"strict": strict, "partial": hits / len(answers) if answers else 0.0}


_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def score_text(answer: str, prediction: str) -> dict[str, float]:
    """Strict: the reply is the answer alone. Partial: the answer appears in the reply (a number as a number,
    so "12" is not found inside "2012")."""
    strict = float(_clean(prediction) == answer)
    if _NUMBER.fullmatch(answer):
        value = float(answer.replace(",", ""))
        found = any(float(n.replace(",", "")) == value for n in _NUMBER.findall(prediction) if n.strip(","))
    else:
        found = answer in prediction or _norm(answer) in _norm(prediction)
    return {"strict": strict, "partial": float(strict or found)}


def score_boxed(answers: list[str], prediction: str) -> dict[str, float]:
    """Strict: the last \\boxed{} holds exactly the answer. Partial: the same, ignoring case and punctuation."""
    boxed = last_boxed(prediction)
    if boxed is None or not answers:
        return {"strict": 0.0, "partial": 0.0}
    gold = answers[0]
    return {"strict": float(boxed == gold), "partial": float(_norm(boxed) == _norm(gold))}


def score(task: str, variant: str, answer: str, answers: list[str], prediction: str) -> dict[str, float]:
    """Score one prediction against a sample's ``answer``/``answers`` the way its family defines.

    Total on any prediction: whatever a model or harness returns scores in [0, 1] (a non-text reply as no reply).
    """
    prediction = prediction if isinstance(prediction, str) else ""
    if answer.startswith("\\boxed{"):
        return score_boxed(answers, prediction)
    if answer.startswith("["):
        return score_list(answers, prediction)
    return score_text(answer, prediction)


METRICS = ("strict", "partial")
