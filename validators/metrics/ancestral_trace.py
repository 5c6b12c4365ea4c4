"""ancestral-trace's metric: a name or a number in the last ``\\boxed{}``."""

from __future__ import annotations

from ._replies import score_boxed


def score_reply(reply: str, answer: str, answers: list[str], variant: str) -> dict[str, float]:
    """Strict: the last \\boxed{} holds exactly the name or number. Partial: the same, ignoring case and
    punctuation."""
    return score_boxed(answers[0] if answers else "", reply)
