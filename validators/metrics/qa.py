"""qa's metric: LV-Eval's keyword-recall-gated F1, scored against every gold answer (see ``_qa_f1``).

Worked example (docs/qa.md): the question asks the birthplace of the founder of a company; the gold answers are
``["Brackford"]``. ``Answer: Brackford.`` is exact after its "Answer:" label and normalization: strict 1, partial
1. ``It was Brackford, I believe`` passes the gate (the keyword brackford is there, recall 1/1 >= 0.2); its
informative tokens are brackford, i, believe (it and was are blacklisted), so precision 1/3, recall 1, F1 0.5:
strict 0, partial 0.5. ``Dunley`` misses the keyword: partial 0.
"""

from __future__ import annotations

import re

from ._qa_f1 import score_qa

_LABEL = re.compile(r"^\s*(?:final\s+)?answer\s*[:：]\s*", re.IGNORECASE)


def score_reply(reply: str, answer: str, answers: list[str], variant: str) -> dict[str, float]:
    """Strict: the reply (less a leading "Answer:" label) equals a gold answer after normalization (case,
    punctuation, articles). Partial: LV-Eval's keyword-recall-gated word F1 (the gold's informative words are the
    keywords; gate 0.2; the stop-word blacklist removed on both sides, as LV-Eval documents), the best over every
    gold answer, where LV-Eval scores only the first."""
    scores = score_qa(_LABEL.sub("", reply, count=1), answers or [answer], "en")
    return {"strict": scores["strict"], "partial": scores["partial"]}
