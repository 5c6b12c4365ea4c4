"""Trace parser of procedures/countdown; standard library only, every name prefixed countdown_.

The steps of a countdown trace are its lines after the "# Search Procedure" header up to "<Solution>" (the start
line, every Pick and Try line, the "Now we have found the target." line), whitespace collapsed and the "|-" marks
and indentation dropped, then each solution equation as "a op b = c", read with a regular expression (never
evaluated). A preamble, blank lines, markdown fences and a missing "</Solution>" (a truncated reply) are tolerated;
the content of a line is compared exactly.
"""

from __future__ import annotations

import re

_countdown_HEADER = re.compile(r"^[ \t]*#+[ \t]*Search[ \t]+Procedure[ \t]*:?[ \t]*$", re.I | re.M)
_countdown_MARKS = re.compile(r"^[\s|>*-]+")
_countdown_EQ = re.compile(r"^(\d+)\s*([-+*/\u00d7\u00f7xX\u2212])\s*(\d+)\s*=\s*(\d+)\.?$")
_countdown_OPS = {"\u00d7": "*", "x": "*", "X": "*", "\u00f7": "/", "\u2212": "-"}


def _countdown_lines(text: str) -> list[str]:
    out = []
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if not line or line.startswith("```"):
            continue
        out.append(line)
    return out


def countdown_steps(text: str) -> list[str] | str:
    """The trace read out of ``text`` as normalized steps, or a one-line reason when there is none."""
    if not isinstance(text, str):
        return "the reply is not text"
    header = _countdown_HEADER.search(text)
    if header is None:
        return 'no "# Search Procedure" line: no trace in the stated format'
    body = text[header.end():]
    cut = body.find("<Solution>")
    search, solution = (body, "") if cut < 0 else (body[:cut], body[cut + len("<Solution>"):])
    steps = [_countdown_MARKS.sub("", line) for line in _countdown_lines(search)]
    steps = [s for s in steps if s]
    if cut >= 0:
        end = solution.find("</Solution>")
        if end >= 0:
            solution = solution[:end]
        for line in _countdown_lines(solution):
            m = _countdown_EQ.match(line)
            if m is None:
                steps.append("unreadable equation: " + line)
                continue
            a, op, b, c = m.groups()
            steps.append(f"{int(a)} {_countdown_OPS.get(op, op)} {int(b)} = {int(c)}")
    if not steps:
        return 'the reply has a "# Search Procedure" line but no trace after it'
    return steps
