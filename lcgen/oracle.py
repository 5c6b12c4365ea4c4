"""What an oracle reads and returns: the sample as the model sees it, and the answer re-derived from it alone."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Request:
    """What the user asked for. An oracle may compare what it measures with it (a density, a position), never
    take an answer from it."""

    params: dict[str, Any]
    target_length: int  # 0: no length target
    target_depth: float


@dataclass(frozen=True)
class OracleInput:
    """Everything an oracle may read of one sample; ``answer``, ``answers`` and ``meta`` are not here on purpose.

    ``source`` is filled only for a family that declares one (``@family(..., source=fn)``): a family whose answer is
    by design not in ``input`` (the true order of shuffled parts, say) regenerates it from the recorded request.
    """

    input: str
    question: str
    variant: str
    token_index: Any  # lcgen.tokenizer.TokenIndex of ``input``: the one tokenization of the sample, shared
    request: Request | None = None  # None when the row's meta is unreadable: request checks are then skipped
    source: Any = None
    tokenizer: Any = None  # the sample's tokenizer (lcgen.tokenizer.Tokenizer), to measure what is not in ``input``


@dataclass
class OracleResult:
    """An oracle's reading of one sample."""

    answer: str
    answers: list[str]
    needle_offsets: list[int]  # character offsets, in the order the family records `depth`
    anchor: int | None  # index of the needle that must sit at the target depth (None: the closest one)
    context_span: tuple[int, int]
    unit_offsets: list[int] = field(default_factory=list)  # starts of context units, for the depth tolerance
    problems: list[str] = field(default_factory=list)
    measured: dict[str, Any] = field(default_factory=dict)  # what meta records that the oracle measures too
