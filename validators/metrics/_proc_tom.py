"""Trace parser of procedures/theory_of_mind; standard library only, every name prefixed tom_ (inlined into the
shipped lcgen_metrics.py beside the other variants').

The trace is read from after the last ``<trace>`` that is followed by a step line, up to ``</trace>`` or the end of
the reply (a truncated generation keeps its steps); with no ``<trace>`` at all, the whole reply. Its steps are the
lines that start with ``Step <k>:`` and the ``Final answer:`` line (a final answer line right after ``</trace>``
counts too); other lines (fences, comments) are skipped. A line may carry a list bullet (``-``, ``*``, ``+``, ``1.``)
and markdown emphasis or backticks. Each step is normalized: case-folded, ``*`` and backticks removed, the
articles "a", "an" and "the" dropped, whitespace collapsed and removed around ``| : , ( )``, and trailing ``. ; , !``
dropped. Nothing else is forgiven: a different room, sight or belief is a different step.
"""

from __future__ import annotations

import re

_TOM_STEP = re.compile(r"(?:step\s*\d+\s*:|final\s+answer\s*:)", re.IGNORECASE)
_TOM_BULLET = re.compile(r"^(?:[-*+\u2022]\s+|\d+[.)]\s+)")
_TOM_OPEN = re.compile(r"<trace>", re.IGNORECASE)
_TOM_CLOSE = re.compile(r"</trace>", re.IGNORECASE)
_TOM_ARTICLE = re.compile(r"\b(?:the|a|an)\b")
_TOM_SEPARATOR = re.compile(r"\s*([|:,()])\s*")


def _tom_clean(line: str) -> str:
    """A line without its bullet and markdown emphasis, stripped."""
    s = line.strip()
    s = _TOM_BULLET.sub("", s)
    return s.replace("*", "").replace("`", "").strip()


def _tom_norm(line: str) -> str:
    s = _TOM_ARTICLE.sub(" ", line.casefold())
    s = re.sub(r"\s+", " ", s).strip()
    s = _TOM_SEPARATOR.sub(r"\1", s)
    return s.rstrip(" .;,!")


def _tom_is_step(line: str) -> bool:
    return _TOM_STEP.match(line) is not None


def tom_steps(text: str) -> list[str] | str:
    """The trace's normalized steps (every "Step k:" line, then the final answer line), or why there are none."""
    if not isinstance(text, str) or not text.strip():
        return "the reply is empty"
    lines = text.splitlines()
    block_start = None
    for i, line in enumerate(lines):
        if _TOM_OPEN.search(line) and any(_tom_is_step(_tom_clean(x)) for x in
                                          [line[_TOM_OPEN.search(line).end():], *lines[i + 1:]]):
            block_start = i
    if block_start is None:
        body, rest = lines, []
    else:
        first = lines[block_start]
        body = [first[_TOM_OPEN.search(first).end():], *lines[block_start + 1:]]
        rest = []
        for i, line in enumerate(body):
            close = _TOM_CLOSE.search(line)
            if close:
                body, rest = body[:i] + [line[:close.start()]], [line[close.end():], *body[i + 1:]]
                break
    steps = []
    for line in body:
        s = _tom_clean(line)
        if _tom_is_step(s):
            steps.append(_tom_norm(s))
    has_final = bool(steps) and steps[-1].startswith("final answer")
    if steps and not has_final:
        for line in rest:
            s = _tom_clean(line)
            if re.match(r"final\s+answer\s*:", s, re.IGNORECASE):
                steps.append(_tom_norm(s))
                break
            if s:
                break
    if not steps:
        return "no trace: no line starts with \"Step <k>:\""
    return steps
