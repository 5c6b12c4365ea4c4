"""best-answer's metric: the label of the one correct candidate (A1 .. An), read strictly from the reply.

Ada-LEval's BestAnswer parser returns the highest-numbered label found anywhere in the reply ("A3 is better than
A5" reads as A5), falls back to any digit in the text ("Python 3.10" reads as A10), and before its fix missed a
reply that starts with the label. This one reads what the reply states as its answer, and nothing it merely
mentions:

1. an answer statement: the word "answer" followed by ":" or "is" and a label ("Answer: A3", "the answer is A12",
   "Final answer: **A3**"); when there are several, the last one wins;
2. else, when the reply names exactly one label (any number of times), that label ("A3", "I pick A3.");
3. else, when the whole reply is a number alone ("3", "3."), the label of that number;
4. else nothing: a reply that names several labels without stating which is its answer ("A3 is better than A5")
   has no answer, and scores 0.

Labels are an upper-case ``A`` and a number without a leading zero, as a whole word, so "A1" is not read inside
"A12" (nor "a3" or "A03" as A3); "answer" and "is" may be in any case.
"""

from __future__ import annotations

import re

_NUMBER = r"([1-9]\d*)"  # no leading zero: "A03" is no label
_LABEL = re.compile(rf"(?<![\w])A{_NUMBER}(?![\w])")
_STATEMENT = re.compile(rf"\b(?i:answer)\b\s*(?:(?i:is)\b\s*:?|:)\s*[*_\"'`(\[]*\s*A{_NUMBER}(?![\w])")
_LAST_LINE = re.compile(rf"[*_]*\s*Answer\s*:\s*[*_]*\s*A{_NUMBER}\s*[*_]*\s*\.?\s*[*_]*")
_ALONE = re.compile(rf"[*_\"'`(\[]*\s*A{_NUMBER}\s*[*_\"'`)\]]*\s*\.?")
_NUMBER_ALONE = re.compile(rf"\s*{_NUMBER}\s*\.?\s*")


def stated_label(reply: str) -> str | None:
    """The label the reply states as its answer (rules 1-3 of the module's docstring), or None."""
    statements = _STATEMENT.findall(reply)
    if statements:
        return f"A{statements[-1]}"
    named = set(_LABEL.findall(reply))
    if len(named) == 1:
        return f"A{named.pop()}"
    number = _NUMBER_ALONE.fullmatch(reply)
    if number and not named:
        return f"A{number.group(1)}"
    return None


def strict_label(reply: str) -> str | None:
    """The label in the requested form: the reply's last non-empty line is "Answer: A<n>" (bold and a final
    period allowed), or the whole reply is the label alone."""
    lines = [line.strip() for line in reply.strip().splitlines() if line.strip()]
    if not lines:
        return None
    last = _LAST_LINE.fullmatch(lines[-1])
    if last:
        return f"A{last.group(1)}"
    alone = _ALONE.fullmatch(reply.strip())
    return f"A{alone.group(1)}" if alone else None


def score_reply(reply: str, answer: str, answers: list[str], variant: str) -> dict[str, float]:
    """Strict: the reply ends with a line "Answer: A<n>" (or is the label alone) naming the correct candidate.
    Partial: the label the reply states names it: its last answer statement ("the answer is A3"), else the only
    label it names, else a bare number alone; a reply naming several labels without an answer statement scores 0.

    Worked example, the correct candidate A3: "Answer: A3" scores 1/1; "A5 contradicts the sheet, so the answer is
    A3." scores 0/1 (the answer is stated, not on a last "Answer:" line); "A3 is better than A5" scores 0/0 (two
    labels, none stated as the answer; Ada-LEval reads it as A5); "3" scores 0/1; "A30" scores 0/0.
    """
    gold = answer.strip()
    strict = strict_label(reply) == gold
    partial = strict or stated_label(reply) == gold
    return {"strict": float(strict), "partial": float(partial)}
