"""Trace parser of procedures/html_to_tsv (standard library only; every name prefixed html_).

The trace is the reply's last ```tsv block (to its closing fence, or to the end of the reply when a generation was
cut off); without one, every line of the reply that holds a tab. Each non-blank line is a step: the header line is
step 1, each row one more, in order. Cells are split at tabs and normalized by collapsing runs of whitespace to one
space and stripping each cell and the line; case, punctuation, units and "N/A" are compared as written.
"""

from __future__ import annotations

import re

_html_FENCE = re.compile(r"^[ \t]*```[ \t]*tsv[ \t]*$", re.I | re.M)
_html_CLOSE = re.compile(r"^[ \t]*```[ \t]*$", re.M)
_html_ANY_FENCE = re.compile(r"^[ \t]*```")


def _html_row(line: str) -> str:
    return "\t".join(" ".join(cell.split()) for cell in line.strip().split("\t"))


def html_steps(text: str) -> list[str] | str:
    """The header and the rows of the reply's TSV table, normalized, or why there is none."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    opened = list(_html_FENCE.finditer(text))
    if opened:
        body = text[opened[-1].end():]
        close = _html_CLOSE.search(body)
        lines = (body[:close.start()] if close else body).split("\n")
        steps = [_html_row(line) for line in lines if line.strip()]
        return steps or "the ```tsv block is empty"
    steps = [_html_row(line) for line in text.split("\n")
             if "\t" in line.strip() and not _html_ANY_FENCE.match(line)]
    return steps or "no ```tsv block and no tab-separated lines in the reply"
