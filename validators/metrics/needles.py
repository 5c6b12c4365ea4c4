"""needles' metric: a code or a name, or a JSON list of codes in the order of the questions asked."""

from __future__ import annotations

from ._replies import score_ordered, score_text


def score_reply(reply: str, answer: str, answers: list[str], variant: str) -> dict[str, float]:
    """Strict: the reply is exactly the code, name or JSON list asked for. Partial: the answer appears in the
    reply; for multi_retrieval, the share of the questions answered in their place."""
    if variant == "multi_retrieval":
        return score_ordered(answers, reply)
    return score_text(answer, reply)
