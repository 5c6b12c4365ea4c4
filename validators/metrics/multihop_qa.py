"""multihop-qa's metric: exact after normalization, else LV-Eval's keyword-recall-gated F1 (see ``_qa_f1``).

Worked example (docs/multihop-qa.md): the question asks the region of the town where the founder of a company was
born; the gold answer is ``Serth Moors``. ``Answer: Serth Moors.`` is exact after its label and normalization: strict
1, partial 1. ``It lies in Serth Moors`` passes the gate (both keywords are there); its informative words are lies,
serth, moors, so precision 2/3, recall 1, F1 0.8: strict 0, partial 0.8. ``Calder Fells`` misses every keyword:
partial 0.
"""

from __future__ import annotations

import re

from ._qa_f1 import score_qa

_LABEL = re.compile(r"^\s*(?:final\s+)?answer\s*[:：]\s*", re.IGNORECASE)


def score_reply(reply: str, answer: str, answers: list[str], variant: str) -> dict[str, float]:
    """Strict: the reply (less a leading "Answer:" label) equals a gold answer after normalization (case,
    punctuation, articles, a count's thousands separators). Partial: LV-Eval's keyword-recall-gated word F1 (gate
    0.2, its stop-word blacklist on both sides), the best over every gold answer."""
    scores = score_qa(_LABEL.sub("", reply, count=1), answers or [answer], "en")
    return {"strict": scores["strict"], "partial": scores["partial"]}
