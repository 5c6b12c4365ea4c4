"""Trace parser of procedures/path_traversal; standard library only, every name prefixed path_.

The trace is the last ``<Route>`` ... ``</Route>`` block of a text (tags in any case; the closing tag may be missing,
as in a truncated reply; an opening tag that starts a line is preferred to one inside a sentence). Each non-empty
line of it is one step. A step is normalized by collapsing runs of whitespace, dropping one trailing period and
folding case (city names are unique without regard to case, so case carries no information); nothing else is
forgiven: a list marker, a missing comma or another word makes the step wrong. Lines that are only a markdown code
fence are skipped.
"""

from __future__ import annotations

import re

_path_OPEN = re.compile(r"<\s*route\s*>", re.IGNORECASE)
_path_CLOSE = re.compile(r"<\s*/\s*route\s*>", re.IGNORECASE)
_path_FENCE = re.compile(r"`{3,}[\w+-]*")


def path_normalize(line: str) -> str:
    """One step as compared: whitespace collapsed, one trailing period dropped, case folded."""
    step = " ".join(line.split())
    if step.endswith("."):
        step = step[:-1].rstrip()
    return step.casefold()


def path_steps(text: str) -> list[str] | str:
    """The steps of the last route block of ``text``, or a one-line reason when there is none."""
    if not isinstance(text, str):
        return "the reply is not text"
    opens = list(_path_OPEN.finditer(text))
    if not opens:
        return "no <Route> block in the reply"
    at_line_start = [m for m in opens if not text[text.rfind("\n", 0, m.start()) + 1:m.start()].strip(" \t`")]
    body = text[(at_line_start or opens)[-1].end():]
    close = _path_CLOSE.search(body)
    if close is not None:
        body = body[:close.start()]
    steps = []
    for line in body.splitlines():
        if not line.strip() or _path_FENCE.fullmatch(line.strip()):
            continue
        steps.append(path_normalize(line))
    if not steps:
        return "the <Route> block is empty"
    return steps
