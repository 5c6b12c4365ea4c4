"""Procedures: long-output procedural tasks whose answer is a long, checkable trace (after LongProc).

After Ye et al., LongProc (arXiv 2501.05414), fully synthetic and seeded, with the reference output length as a knob
(``--output-len``, in tokens of the sample's tokenizer, hit within :func:`lcgen.generators._proc_common.tolerance`)
besides the exact input length (``--len``). One variant per procedure, each in its own module:

- ``path_traversal`` (``_proc_path``): the unique route through a network of one-way connections;
- ``theory_of_mind`` (``_proc_tom``): every agent's belief about an object after every step of a story;
- ``countdown`` (``_proc_countdown``): the depth-first search trace to a target, then the solution;
- ``travel_planning`` (``_proc_travel``): the search trace and day-by-day plan of the only trip that fits;
- ``html_to_tsv`` (``_proc_html``): the requested rows of a generated page, as TSV, in page order;
- ``pseudocode_to_code`` (``_proc_code``): the Python of a generated program, checked on hidden tests.

Each variant proves its answer unique and records what it built in ``meta``; its oracle in
``lcgen.validators`` re-solves the sample from ``input`` on another code path, and its metric scores a model's trace
strictly and by the share of steps right before the first error (docs/procedures.md).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lcgen.assemble import SamplePlan
from lcgen.errors import ParamError
from lcgen.params import param
from lcgen.registry import family
from lcgen.validators.metrics import procedures as procedures_metric

from . import _proc_code, _proc_countdown, _proc_html, _proc_path, _proc_tom, _proc_travel
from ._proc_common import tolerance

if TYPE_CHECKING:
    from lcgen.tokenizer import Tokenizer

BUILDERS = {
    "path_traversal": _proc_path.build,
    "theory_of_mind": _proc_tom.build,
    "countdown": _proc_countdown.build,
    "travel_planning": _proc_travel.build,
    "html_to_tsv": _proc_html.build,
    "pseudocode_to_code": _proc_code.build,
}
VARIANTS = {name: {} for name in BUILDERS}


@dataclass(frozen=True, kw_only=True)
class ProceduresParams(_proc_code.Knobs, _proc_html.Knobs, _proc_travel.Knobs, _proc_countdown.Knobs,
                       _proc_tom.Knobs, _proc_path.Knobs):
    """Knobs of the procedures family: the output length, then each variant's own."""

    output_len: int = param(500, help="Reference answer length in tokens of --tokenizer (e.g. 500, 2k, 8k), hit "
                            "within 5% or 40 tokens, whichever is more.", min=100, max=65_536, tokens=True)


def _check(p: ProceduresParams, variant: str, lengths: list[int | None]) -> None:
    """An input shorter than the output it asks for is refused before the first sample (each variant's instance
    also takes room of its own; the variant refuses exactly, sample by sample)."""
    for length in lengths:
        if length is not None and length < p.output_len // 4:
            raise ParamError(f"--len: {length:,} tokens cannot hold an instance whose trace is --output-len "
                             f"{p.output_len:,} tokens; raise --len or lower --output-len")


@family(
    "procedures",
    params=ProceduresParams,
    variants=VARIANTS,
    version="0.1.0",
    papers=("Ye et al., LongProc: Benchmarking long-context language models on long procedural generation, COLM "
            "2025, arXiv:2501.05414",),
    depth_of=None,
    answer_format="The whole trace in the format the prompt states, in its tags or code block, nothing left out.",
    metric=procedures_metric.score_reply,
    difficulty=("output_target",),
    check=_check,
)
def procedures(p: ProceduresParams, variant: str, depth: float, rng: random.Random, length: int | None = None,
               tokenizer: Tokenizer | None = None) -> SamplePlan:
    """Plan one sample: the variant builds the instance and its trace; the trace's tokens are checked here."""
    from lcgen.tokenizer import as_tokenizer

    tok = as_tokenizer(tokenizer)
    if length is None:
        raise ParamError("--len: procedures needs a target length")
    sp = BUILDERS[variant](p, rng, length, tok)
    n = tok.count(sp.answer)
    if abs(n - p.output_len) > tolerance(p.output_len):  # a variant's own search should never let this through
        raise ParamError(f"--output-len: the {variant} trace has {n:,} tokens, more than {tolerance(p.output_len)} "
                         f"off {p.output_len:,}")
    sp.meta = {"output_target": p.output_len, "output_tokens": n, "output_tolerance": tolerance(p.output_len),
               **sp.meta}
    return sp
