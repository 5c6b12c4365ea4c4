"""Oracle for procedures/countdown: parse the puzzle back from the question, run a recursive depth-first search of
its own (the generator's is iterative), write the trace and solution the prompt states, and re-solve every worked
and context example to check each is the right trace for its own numbers and target."""

from __future__ import annotations

import functools
import re
from itertools import combinations

from lcgen.frames import frame_lines, frame_regex, render_frame
from lcgen.oracle import OracleInput, OracleResult

_DIR = "procedures/countdown/"
_LIST = r"\[\d+(?:, \d+)*\]"
_RULES = re.compile(r"a target, a whole number from (\d+) to (\d+) that is not in the list")
_BOUND = re.compile(r"must be a positive whole number below (\d+)\.")
_SPACES = "    "
_LEAD = " "  # every context example and the context's close begin with one space (exact for SentencePiece-likes)


@functools.lru_cache(maxsize=None)
def _formats() -> dict[str, str]:
    return dict(ln.partition(": ")[::2] for ln in frame_lines(_DIR + "lines.j2"))


def _nums(text: str) -> list[int]:
    return [int(x) for x in text[1:-1].split(", ")]


def _show(values) -> str:
    return "[" + ", ".join(map(str, values)) + "]"


def _calc(hi: int, lo: int, op: str, bound: int) -> tuple[str, int]:
    """(line key, value) of hi op lo, hi >= lo, by the prompt's pruning rules."""
    if op == "/":
        return ("frac", 0) if hi % lo else ("keep", hi // lo)
    value = {"+": hi + lo, "-": hi - lo, "*": hi * lo}[op]
    if value <= 0:
        return "zero", value
    return ("big", value) if value >= bound else ("keep", value)


def solve_puzzle(numbers: list[int], target: int, bound: int) -> tuple[list[str], list[str] | None, int]:
    """(trace lines, solution equations or None, pruned lines) of the prompt's search, recursively."""
    fm = _formats()
    out: list[str] = []
    pruned = [0]

    def put(depth: int, key: str, **values) -> None:
        out.append(_SPACES * depth + render_frame(fm[key], bound=bound, target=target, **values))

    def walk(values: list[int], depth: int, eqs: list[str]) -> list[str] | None:
        last = len(values) == 2
        for i, j in combinations(range(len(values)), 2):
            left = [v for k, v in enumerate(values) if k not in (i, j)]
            level = depth
            if not last:
                put(depth, "pick", x=values[i], y=values[j], left=_show(left))
                level = depth + 1
            hi, lo = max(values[i], values[j]), min(values[i], values[j])
            for op in "+-*/":
                key, value = _calc(hi, lo, op, bound)
                shown = dict(a=hi, op=op, b=lo, r=value)
                if key != "keep":
                    pruned[0] += 1
                    put(level, key, **shown)
                    continue
                eq = eqs + [render_frame(fm["eq"], **shown)]
                if last:
                    put(level, "hit" if value == target else "miss", **shown)
                    if value == target:
                        return eq
                    continue
                put(level, "keep", nums=_show([value] + left), **shown)
                found = walk([value] + left, level + 1, eq)
                if found is not None:
                    return found
        return None

    return out, walk(list(numbers), 0, []), pruned[0]


def render_answer(numbers: list[int], target: int, bound: int) -> tuple[str, dict]:
    """The whole answer for one puzzle, and what it measures ("" answer when the search finds no solution)."""
    fm = _formats()
    lines, solution, pruned = solve_puzzle(numbers, target, bound)
    if solution is None:
        return "", {"search_lines": len(lines)}
    text = "\n".join([fm["header"], render_frame(fm["start"], nums=_show(numbers), target=target), *lines,
                      fm["found"], fm["open"], *solution, fm["close"]])
    return text, {"search_lines": len(lines), "pruned_lines": pruned, "solution_steps": len(solution)}


def solve(sample: OracleInput) -> OracleResult:
    fm = _formats()
    text, problems = sample.input, []
    rules, bound_m = _RULES.search(text), _BOUND.search(text)
    if rules is None or bound_m is None:
        raise ValueError("the prompt does not state the target range and the bound")
    t_lo, t_hi, bound = int(rules.group(1)), int(rules.group(2)), int(bound_m.group(1))
    q_frame = frame_lines(_DIR + "question.j2")[0]
    q = frame_regex(q_frame, {"nums": _LIST, "target": r"\d+", "header": re.escape(fm["header"])})
    m = q.fullmatch(sample.question.strip())
    if m is None:
        raise ValueError("the question does not state a puzzle")
    numbers, target = _nums(m.group("nums")), int(m.group("target"))
    if not 3 <= len(numbers) <= 6 or not t_lo <= target <= t_hi or target in numbers:
        problems.append(f"the puzzle {numbers} -> {target} breaks the stated rules")

    ctx_open, ctx_close = fm["ctx_open"] + "\n\n", _LEAD + fm["ctx_close"]
    if text.count(ctx_open) != 1 or text.count(ctx_close) != 1:
        raise ValueError("the context's opening or closing is not found exactly once")
    start = text.index(ctx_open)
    close = text.index(ctx_close, start)
    end = close + len(ctx_close)
    if text.find(sample.question, end) < 0:
        problems.append("the question is not after the context")

    asked = sorted(numbers)
    intros = [frame_regex(f, {"nums": _LIST, "target": r"\d+"}) for f in frame_lines(_DIR + "intros.j2")]
    units, pos = [], start + len(ctx_open)
    while pos < close:  # each unit is one solved example, " Example: ..." to a blank line
        stop = text.find("\n\n", pos, close)
        if stop < 0:
            problems.append(f"context text at character {pos} does not end with a blank line")
            break
        units.append(pos)
        piece = text[pos:stop]
        first = piece.split("\n", 1)[0]
        # One space, then an intro line (no intro starts with a space, so two spaces or none do not match).
        bare = first[len(_LEAD):] if first.startswith(_LEAD) else None
        head_m = next((m for m in (r.fullmatch(bare) for r in intros) if m is not None), None) if bare else None
        if head_m is None:
            problems.append(f"context text at character {pos} is not a solved example (one space, then an "
                            "Example line)")
        else:
            problems += _check_example(piece[len(first):], head_m, asked, bound, f"the example at character {pos}")
        pos = stop + 2

    worked = frame_regex(fm["worked"], {"k": r"\d+", "nums": _LIST, "target": r"\d+"})
    shown_worked = 0
    for wm in worked.finditer(text, 0, start):
        shown_worked += 1
        stop = text.find(fm["close"], wm.end())
        stop = stop + len(fm["close"]) if stop >= 0 else wm.end()
        problems += _check_example(text[wm.end():stop], wm, asked, bound, f"worked example {wm.group('k')}")
    if shown_worked != 2:
        problems.append(f"the prompt shows {shown_worked} worked examples, not 2")

    answer, measured = render_answer(numbers, target, bound)
    if not answer:
        problems.append(f"the search over {numbers} never reaches {target}")
    measured.update({"given": numbers, "target": target})
    return OracleResult(answer=answer, answers=[answer], needle_offsets=[], anchor=None, context_span=(start, end),
                        unit_offsets=units, problems=problems, measured=measured)


def _check_example(body: str, m: re.Match, asked: list[int], bound: int, where: str) -> list[str]:
    """Problems of one solved example: it must be its own puzzle's exact trace and not the asked puzzle."""
    numbers, target = _nums(m.group("nums")), int(m.group("target"))
    out = []
    if sorted(numbers) == asked:
        out.append(f"{where} has the asked numbers")
    expected, _ = render_answer(numbers, target, bound)
    if not expected or body != "\n" + expected:
        out.append(f"{where} is not the right trace for {numbers} -> {target}")
    return out
