"""Trace parser of procedures/travel_planning (standard library only; every name prefixed travel_).

A trace is the lines of the <Solving Procedure> block, then the lines of the <Plan> block. Tolerated: any text before
<Solving Procedure>, the closing tags missing (a truncated reply: the procedure then ends at <Plan> or at the end of
the reply, the plan at the end of the reply), blank lines, markdown fence lines, indentation and the "|- " depth
markers, runs of spaces, letter case, "**" bold markers, spaces around the "-" of a day range, and a line's final
period. Nothing else: a changed word, number, city or list is a different step.
"""

from __future__ import annotations

import re

_travel_PROC_OPEN = "<Solving Procedure>"
_travel_PROC_CLOSE = "</Solving Procedure>"
_travel_PLAN_OPEN = "<Plan>"
_travel_PLAN_CLOSE = "</Plan>"
_travel_MARKER = re.compile(r"^(?:\|-\s*)+")
_travel_RANGE = re.compile(r"(\d)\s*-\s*(\d)")
_travel_SPACE = re.compile(r"\s+")


def _travel_norm(line: str) -> str:
    text = _travel_SPACE.sub(" ", line.replace("**", "")).strip()
    text = _travel_MARKER.sub("", text).strip()
    text = _travel_RANGE.sub(r"\1-\2", text)
    if text.endswith("."):
        text = text[:-1].rstrip()
    return text.lower()


def _travel_lines(block: str) -> list[str]:
    out = []
    for line in block.split("\n"):
        if line.strip().startswith("```"):
            continue
        step = _travel_norm(line)
        if step:
            out.append(step)
    return out


def travel_steps(text: str) -> list[str] | str:
    """The normalized steps of a travel_planning trace in ``text``, or why there is none."""
    if not isinstance(text, str):
        return "the reply is not text"
    at = text.find(_travel_PROC_OPEN)
    plan_at = text.find(_travel_PLAN_OPEN, at + len(_travel_PROC_OPEN) if at >= 0 else 0)
    if at < 0 and plan_at < 0:
        return "no <Solving Procedure> or <Plan> block"
    steps: list[str] = []
    if at >= 0:
        body = text[at + len(_travel_PROC_OPEN):]
        ends = [i for i in (body.find(_travel_PROC_CLOSE), body.find(_travel_PLAN_OPEN)) if i >= 0]
        steps += _travel_lines(body[:min(ends)] if ends else body)
    if plan_at >= 0:
        body = text[plan_at + len(_travel_PLAN_OPEN):]
        end = body.find(_travel_PLAN_CLOSE)
        steps += _travel_lines(body if end < 0 else body[:end])
    if not steps:
        return "the <Solving Procedure> and <Plan> blocks are empty"
    return steps
