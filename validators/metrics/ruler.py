"""ruler's metric: RULER's own scores, string_match_all (niah, vt, cwe, fwe) and string_match_part (qa)."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f]")
PART_SCORED = ("qa_1", "qa_2")  # RULER scores its QA tasks by string_match_part, every other task by _all


def postprocess(reply: str) -> str:
    """RULER's clean-up of a prediction: strip, control characters to newlines, strip again."""
    return _CONTROL.sub("\n", reply.strip()).strip()


def string_match_all(reply: str, answers: list[str]) -> float:
    """The share of the gold strings found in the reply, case-insensitive (RULER's string_match_all)."""
    low = postprocess(reply).lower()
    return sum(a.lower() in low for a in answers) / len(answers) if answers else 0.0


def string_match_part(reply: str, answers: list[str]) -> float:
    """1 when any gold string is found in the reply, case-insensitive (RULER's string_match_part)."""
    low = postprocess(reply).lower()
    return float(any(a.lower() in low for a in answers))


def score_reply(reply: str, answer: str, answers: list[str], variant: str) -> dict[str, float]:
    """Strict: RULER's score for the task (string_match_all: the share of the gold strings the reply contains,
    case-insensitive; string_match_part for qa_1 and qa_2: any of them), as RULER computes it, substrings and all.
    Partial: string_match_part (any gold string found)."""
    part = string_match_part(reply, answers)
    strict = part if variant in PART_SCORED else string_match_all(reply, answers)
    return {"strict": strict, "partial": part}


def explain(reply: str, answer: str, answers: list[str], variant: str) -> str:
    """Which gold strings the reply does not contain."""
    low = postprocess(reply).lower()
    missing = [a for a in answers if a.lower() not in low]
    if not missing:
        return "every gold string is in the reply"
    return f"missing {len(missing)} of {len(answers)}: " + ", ".join(missing[:5])
