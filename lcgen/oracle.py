"""What an oracle returns: the answer re-derived from ``input`` alone, and where it found the needles."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class OracleResult:
    """An oracle's reading of one sample; it never looks at ``answer`` or ``meta``."""

    answer: str
    answers: list[str]
    needle_offsets: list[int]  # character offsets, in the order the family records `depth`
    anchor: int | None  # index of the needle that must sit at the target depth (None: the closest one)
    context_span: tuple[int, int]
    unit_offsets: list[int] = field(default_factory=list)  # starts of context units, for the depth tolerance
    problems: list[str] = field(default_factory=list)
