"""procedures' metric: a model's trace against the reference, step by step.

A variant's parser (``_proc_<variant>``) reads the trace out of a reply (any preamble, extra whitespace and the
stated tags or code block tolerated) as a list of normalized steps, or says why there is none; here both traces are
compared. pseudocode_to_code instead runs the reply's code on the hidden tests in a sandboxed subprocess.
"""

from __future__ import annotations

import functools

from ._proc_code import code_score
from ._proc_countdown import countdown_steps
from ._proc_html import html_steps
from ._proc_path import path_steps
from ._proc_tom import tom_steps
from ._proc_travel import travel_steps

STEP_PARSERS = {
    "path_traversal": path_steps,
    "theory_of_mind": tom_steps,
    "countdown": countdown_steps,
    "travel_planning": travel_steps,
    "html_to_tsv": html_steps,
}


def score_reply(reply: str, answer: str, answers: list[str], variant: str) -> dict[str, float]:
    """Strict: the whole trace is the reference's, step for step, and nothing follows it. Partial: the share of the
    reference's steps the reply gets right before its first wrong one (a wrong first step gives 0, a clean
    truncation after k of n steps gives k/n). pseudocode_to_code: strict when the code passes every hidden test,
    partial the share it passes, run in a sandboxed subprocess (no network, no writes outside a temporary folder,
    CPU-time and memory limits, killed on timeout)."""
    strict, partial, _ = judge(reply, answer, answers, variant)
    return {"strict": strict, "partial": partial}


def explain(reply: str, answer: str, answers: list[str], variant: str) -> str:
    """One line on why a reply is not strictly right ("" when it is)."""
    return judge(reply, answer, answers, variant)[2]


def judge(reply: str, answer: str, answers: list[str], variant: str) -> tuple[float, float, str]:
    """(strict, partial, reason) for one reply. The last few are kept, so ``explain`` right after ``score_reply``
    (as ``lcgen score`` calls them for a failing reply) does not run a reply's code in the sandbox again."""
    return _judged(reply if isinstance(reply, str) else "", answer, tuple(answers), variant)


@functools.lru_cache(maxsize=16)
def _judged(reply: str, answer: str, answers: tuple[str, ...], variant: str) -> tuple[float, float, str]:
    if variant == "pseudocode_to_code":
        return code_score(reply, answer, list(answers))
    parse = STEP_PARSERS.get(variant)
    if parse is None:
        return 0.0, 0.0, f"unknown variant {variant!r}"
    gold = parse(answer)
    if isinstance(gold, str) or not gold:
        return 0.0, 0.0, "the reference trace cannot be read"
    got = parse(reply)
    if isinstance(got, str):
        return 0.0, 0.0, got
    right = 0
    for expected, step in zip(gold, got):
        if expected != step:
            break
        right += 1
    partial = right / len(gold)
    if right == len(gold) and len(got) == len(gold):
        return 1.0, 1.0, ""
    if right == len(gold):
        return 0.0, 1.0, f"{len(got) - len(gold)} step(s) after the whole trace"
    if right == len(got):
        return 0.0, partial, f"the trace stops after {right} of {len(gold)} steps"
    return 0.0, partial, (f"step {right + 1} of {len(gold)} is wrong: expected {_cut(gold[right])}, got "
                          f"{_cut(got[right])}")


def _cut(text: str, limit: int = 80) -> str:
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."
