"""holistic-queries' metric: a number, a key, or a JSON list of keys or of "group: value" strings."""

from __future__ import annotations

from ._replies import score_set, score_text

KEY_SETS = ("selection", "join")  # every matching key; the prompt asks for no order


def score_reply(reply: str, answer: str, answers: list[str], variant: str) -> dict[str, float]:
    """Strict: the reply is exactly the number or key, the set of keys (any order), or the group list (sorted by
    group, as asked). Partial: the number or key appears in the reply; for lists, F1 of the items, so listing
    every key does not pay."""
    if variant in KEY_SETS:
        return score_set(answers, reply, order_asked=False)
    if variant == "group_by":
        return score_set(answers, reply, order_asked=True)
    return score_text(answer, reply)
