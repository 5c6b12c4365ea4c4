"""needle-threads' metric: a UUID, or a JSON list of UUIDs whose order the question fixes."""

from __future__ import annotations

from ._replies import score_ordered, score_set, score_text

ALIGNED = ("multiple_needles", "multi_threads")  # item i answers the question's i-th key or thread
MATCHING = ("conditional_needles", "branched_threads")  # every key that qualifies, in the order of the object


def score_reply(reply: str, answer: str, answers: list[str], variant: str) -> dict[str, float]:
    """Strict: the reply is exactly the UUID or JSON list asked for. Partial: the UUID appears in the reply; for
    lists aligned with the asked keys, the share of positions right; for lists of qualifying keys, F1 of the
    items."""
    if variant in ALIGNED:
        return score_ordered(answers, reply)
    if variant in MATCHING:
        return score_set(answers, reply, order_asked=True)
    return score_text(answer, reply)
