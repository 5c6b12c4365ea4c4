"""procedures/countdown: the depth-first search trace of a countdown puzzle up to its first solution, then the
solution (after LongProc's countdown, itself after Stream-of-Search).

The prompt states one deterministic search (pairs in index order, + - * / with the larger number first, results
that are not positive whole numbers below :data:`BOUND` pruned and logged, the new number put first) and the line
format, with two fixed worked examples. The asked puzzle is in the tail; the context is more solved puzzles (each a
self-contained ``" Example: ...\\n\\n"`` unit of 3 or 4 numbers, about 100-600 tokens), drawn by the engine filler.
Every piece the engine counts alone (each unit, and the context's close ``" </examples>"``) begins with a space (see
:data:`LEAD`), so it counts alone as in context for tiktoken and for SentencePiece-like tokenizers alike.

Output length: the full search over the asked numbers is run once without a target; the target is the value whose
FIRST appearance as a final result ends the trace (that leaf, then the solution) closest to ``--output-len``, in
[:data:`TARGET_MIN`, :data:`TARGET_MAX`] and not one of the numbers; new numbers are drawn (at most
:data:`ATTEMPTS` times) when none is within tolerance. The answer is unique by construction: the search order is
fixed, the trace ends at the first leaf equal to the target, and no earlier leaf equals it (checked).
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from typing import Any

from lcgen.assemble import CONTEXT_SLOT, Needle, Plan, SamplePlan, split_prompt
from lcgen.errors import ParamError
from lcgen.frames import frame_lines, render_frame
from lcgen.params import FamilyParams, param
from lcgen.render import render

from ._proc_common import refuse_input, refuse_output, tolerance

BOUND = 1000  # results of BOUND or more are pruned
TARGET_MIN, TARGET_MAX = 10, BOUND - 1
NUMBER_MIN, NUMBER_MAX = 1, 50  # the given numbers are distinct, drawn from this range
ATTEMPTS = 40  # draws of numbers before --output-len is refused
GOOD_ENOUGH_AFTER = 6  # draws after which any trace within tolerance is taken (before: only within a quarter of it)
OPS = ("+", "-", "*", "/")
INDENT = "    "
# The two worked examples in the head, the same in every sample: 3 numbers with every kind of pruned line, and 4
# numbers with an early solution.
WORKED = (((33, 8, 25), 625), ((9, 16, 6, 18), 37))
# Context examples: 3 numbers (or, one in four, 4 numbers), with a target whose trace is in this band of characters
# (about 100-600 tokens), so the engine's exact fill closes quickly.
EXAMPLE_CHARS = (200, 1800)
EXAMPLE_DRAWS = 200
MIN_ROOM = 100  # the smallest solved example takes about this many tokens
SMALL_ROOM = 600  # a context smaller than this is filled with one or two examples picked to fit it exactly
EXACT_DRAWS = 1000
_TEMPLATES = "procedures/countdown/"
# Each context unit and the context's close begin with this, just after a newline. A SentencePiece-like tokenizer
# (Metaspace "▁" with a dummy prefix) prepends "▁" to a text that starts with a word when it is counted alone, but not
# after a newline in context; a text that starts with a space reads "▁..." both ways. For tiktoken, "\n" + " Word" is
# an exact seam (lcgen.tokenizer.exact_seam), so the sample is still built in one tokenization.
LEAD = " "


@dataclass(frozen=True, kw_only=True)
class Knobs(FamilyParams):
    """countdown's knob: how many numbers the asked puzzle has."""

    numbers: int = param(4, help="Numbers of the countdown puzzle (3 reaches only short traces, about 800 tokens; "
                         "4 reaches 8k and more).", min=3, max=6, variants=("countdown",))


@functools.lru_cache(maxsize=None)
def frames() -> dict[str, str]:
    """The line formats of lines.j2, by key."""
    out = {}
    for line in frame_lines(_TEMPLATES + "lines.j2"):
        key, _, frame = line.partition(": ")
        out[key] = frame
    return out


def fmt(nums: Any) -> str:
    return "[" + ", ".join(str(x) for x in nums) + "]"


# A search record: (indent level, line key, values without the target, final result or None, path of equations).
Record = tuple[int, str, dict[str, Any], "int | None", tuple]


def _apply(a: int, b: int, op: str) -> tuple[str, int | None]:
    """(line key, result) of ``a op b`` with a >= b: a pruned result is keyed by why."""
    if op == "+":
        r = a + b
    elif op == "-":
        r = a - b
        if r == 0:
            return "zero", None
    elif op == "*":
        r = a * b
    else:
        if a % b:
            return "frac", None
        r = a // b
    return ("big", r) if r >= BOUND else ("keep", r)


def search(nums: tuple[int, ...]):
    """Every line of the full search over ``nums`` with no target, in trace order, as Records (lazy, iterative:
    an explicit stack of open lists). A final result (the last number left) has key "miss"."""

    def steps(values: tuple[int, ...]):
        if len(values) == 2:
            a, b = max(values), min(values)
            for op in OPS:
                yield 0, a, op, b, None
            return
        for i in range(len(values)):
            for j in range(i + 1, len(values)):
                rest = tuple(v for k, v in enumerate(values) if k not in (i, j))
                yield 0, values[i], "pick", values[j], rest
                a, b = max(values[i], values[j]), min(values[i], values[j])
                for op in OPS:
                    yield 1, a, op, b, rest

    stack = [(0, steps(tuple(nums)), ())]
    while stack:
        level, it, path = stack[-1]
        step = next(it, None)
        if step is None:
            stack.pop()
            continue
        shift, a, op, b, rest = step
        if op == "pick":
            yield level, "pick", {"x": a, "y": b, "left": fmt(rest)}, None, path
            continue
        key, r = _apply(a, b, op)
        vals = {"a": a, "op": op, "b": b, "r": r, "bound": BOUND}
        eq = path + ((a, op, b, r),)
        if key != "keep":
            yield level + shift, key, vals, None, path
        elif rest is None:
            yield level + shift, "miss", vals, r, eq
        else:
            new = (r,) + rest
            yield level + shift, "keep", {**vals, "nums": fmt(new)}, None, eq
            stack.append((level + shift + 1, steps(new), eq))


def line(rec: Record, target: int, key: str | None = None) -> str:
    level, k, vals, _, _ = rec
    return INDENT * level + render_frame(frames()[key or k], target=target, **vals)


def trace(nums: tuple[int, ...], target: int, records: list[Record], hit: int) -> list[str]:
    """The answer's lines: the search through record ``hit`` (a final result equal to ``target``), the solution."""
    fr = frames()
    lines = [fr["header"], render_frame(fr["start"], nums=fmt(nums), target=target)]
    lines += [line(rec, target) for rec in records[:hit]]
    lines.append(line(records[hit], target, "hit"))
    lines += [fr["found"], fr["open"]]
    lines += [render_frame(fr["eq"], a=a, op=op, b=b, r=r) for a, op, b, r in records[hit][4]]
    lines.append(fr["close"])
    return lines


def first_leaves(records: list[Record], nums: tuple[int, ...]) -> dict[int, int]:
    """Each value allowed as a target -> the index of the record where it is first a final result."""
    taken = set(nums)
    first: dict[int, int] = {}
    for i, rec in enumerate(records):
        v = rec[3]
        if v is not None and TARGET_MIN <= v <= TARGET_MAX and v not in taken and v not in first:
            first[v] = i
    return first


def _records(nums: tuple[int, ...], max_chars: int) -> tuple[list[Record], bool]:
    """The search's records until ``max_chars`` characters of lines are written; True when it ran to its end."""
    out: list[Record] = []
    chars = 0
    for rec in search(nums):
        out.append(rec)
        chars += 8 + 4 * rec[0] + 40
        if chars > max_chars:
            return out, False
    return out, True


def _fit(nums: tuple[int, ...], goal: int, tok) -> tuple[int, int, list[Record], int] | None:
    """(tokens, target, records, hit) of the target whose trace comes closest to ``goal`` tokens, or None."""
    records, _ = _records(nums, 8 * (goal + tolerance(goal)) + 4000)  # about 2.5 times the lines needed
    first = first_leaves(records, nums)
    if not first:
        return None
    # Token counts at every line end, from one tokenization of the whole search (placeholder target 999).
    fr = frames()
    search_lines = [fr["header"], render_frame(fr["start"], nums=fmt(nums), target=TARGET_MAX)]
    search_lines += [line(rec, TARGET_MAX) for rec in records]
    text = "\n".join(search_lines)
    ends, pos = [], 0
    for ln in search_lines:
        pos += len(ln)
        ends.append(pos)
        pos += 1
    at_end = tok.index(text).tokens_at(ends).tolist()
    some_leaf = records[min(first.values())][4]
    ending = tok.count("\n".join([fr["found"], fr["open"], *(render_frame(fr["eq"], a=a, op=op, b=b, r=r)
                                                              for a, op, b, r in some_leaf), fr["close"]])) + 1
    estimates = sorted((abs(at_end[2 + i] + 1 + ending - goal), v, i) for v, i in first.items())
    best = None
    for _, v, i in estimates[:4]:
        n = tok.count("\n".join(trace(nums, v, records, i)))
        if best is None or abs(n - goal) < abs(best[0] - goal):
            best = (n, v, records, i)
        if abs(n - goal) <= tolerance(goal):
            break
    return best


class Examples:
    """Filler: one solved puzzle per unit (" Example: ...</Solution>\\n\\n"), never with the asked numbers."""

    def __init__(self, rng: random.Random, avoid: list[tuple[int, ...]]):
        self.rng = rng
        self.avoid = {tuple(sorted(a)) for a in avoid}

    def draw(self) -> str:
        rng = self.rng
        for _ in range(EXAMPLE_DRAWS):
            nums = tuple(rng.sample(range(NUMBER_MIN, NUMBER_MAX + 1), 4 if rng.random() < 0.25 else 3))
            if tuple(sorted(nums)) in self.avoid:
                continue
            records, _ = _records(nums, EXAMPLE_CHARS[1])
            firsts = {i: v for v, i in first_leaves(records, nums).items()}
            chars, fits = 80, []  # the intro, header and start lines
            for i, rec in enumerate(records):
                chars += len(line(rec, TARGET_MAX)) + 1
                if i in firsts and EXAMPLE_CHARS[0] <= chars + 50 + 16 * len(rec[4]) <= EXAMPLE_CHARS[1]:
                    fits.append(i)
            if not fits:
                continue
            hit = rng.choice(fits)
            target = firsts[hit]
            body = "\n".join(trace(nums, target, records, hit))
            intro = rng.choice(frame_lines(_TEMPLATES + "intros.j2"))
            return LEAD + render_frame(intro, nums=fmt(nums), target=target) + "\n" + body + "\n\n"
        raise RuntimeError("countdown: no example puzzle fits its size band")  # not reached in practice

    def draw_many(self, n: int) -> list[str]:
        return [self.draw() for _ in range(n)]


def _exact_examples(source: Examples, room: int, tok) -> list[str] | None:
    """One example of exactly ``room`` tokens, or two (in draw order) that sum to it, from one batch; or None."""
    drawn = source.draw_many(EXACT_DRAWS)
    first: dict[int, int] = {}
    for i, c in enumerate(tok.counts(drawn)):
        if c == room:
            return [drawn[i]]
        j = first.get(room - c)
        if j is not None:
            return [drawn[j], drawn[i]]
        first.setdefault(c, i)
    return None


def worked_examples() -> list[str]:
    """The two worked examples of the head, the same in every sample."""
    fr, out = frames(), []
    for k, (nums, target) in enumerate(WORKED, 1):
        records, _ = _records(nums, 10**6)
        hit = first_leaves(records, nums)[target]
        out.append(render_frame(fr["worked"], k=k, nums=fmt(nums), target=target) + "\n"
                   + "\n".join(trace(nums, target, records, hit)))
    return out


def formats() -> list[str]:
    """The line formats as the prompt shows them (symbols for values)."""
    fr = frames()
    sym = {"a": "a", "b": "b", "op": "o", "r": "r", "target": "t", "bound": BOUND, "x": "a", "y": "b",
           "left": "[...]", "nums": "[r, ...]"}
    keys = ("start", "pick", "keep", "zero", "frac", "big", "miss", "hit", "found", "open", "eq", "close")
    start = render_frame(fr["start"], nums="[a, b, ...]", target="t")
    return [start] + [render_frame(fr[k], **sym) for k in keys[1:]]


def build(p, rng: random.Random, length: int, tok) -> SamplePlan:
    """Plan one sample: draw numbers until some target's first solution ends a trace of --output-len tokens."""
    goal, n = p.output_len, p.numbers
    fr = frames()
    worked_sets = [tuple(sorted(nums)) for nums, _ in WORKED]
    best = None
    for attempt in range(1, ATTEMPTS + 1):
        nums = tuple(rng.sample(range(NUMBER_MIN, NUMBER_MAX + 1), n))
        if tuple(sorted(nums)) in worked_sets:
            continue
        got = _fit(nums, goal, tok)
        if got is None:
            continue
        if best is None or abs(got[0] - goal) < abs(best[1][0] - goal):
            best = (nums, got)
        off = abs(best[1][0] - goal)
        if off <= tolerance(goal) // 4 or (off <= tolerance(goal) and attempt >= GOOD_ENOUGH_AFTER):
            break
    if best is None or abs(best[1][0] - goal) > tolerance(goal):
        closest = best[1][0] if best else 0
        hint = "raise --numbers" if closest < goal and n < 6 else "lower --numbers" if n > 3 else "change --numbers"
        raise refuse_output(goal, closest, f"in {ATTEMPTS} draws of --numbers {n}, no target's first solution "
                            f"ends the trace that close; {hint}")
    nums, (tokens, target, records, hit) = best
    if any(rec[3] == target for rec in records[:hit]):  # the first-leaf rule, checked again
        raise AssertionError("countdown: an earlier final result equals the target")
    answer = "\n".join(trace(nums, target, records, hit))
    question = render(_TEMPLATES + "question.j2", nums=fmt(nums), target=target, header=fr["header"]).strip("\n")
    head, tail = split_prompt(render(_TEMPLATES + "prompt.j2", target_min=TARGET_MIN, target_max=TARGET_MAX,
                                     bound=BOUND, found=fr["found"], open=fr["open"], close=fr["close"],
                                     header=fr["header"], formats=formats(), worked=worked_examples(),
                                     context=CONTEXT_SLOT, question=question))
    # Units end with "\n\n" and start with a space (LEAD), and so does the close: every junction is just after a
    # newline and before a space, where both kinds of pre-tokenizer end a piece (a unit that began with "\n" would
    # share a token with the "</Solution>" before; one that began with a letter would join the text before it in a
    # Metaspace piece, which ends only at a space, and count a "▁" more alone).
    ctx_open, ctx_close = fr["ctx_open"] + "\n\n", LEAD + fr["ctx_close"]
    lead, trail = tok.counts([head + ctx_open, ctx_close + tail])
    room = length - lead - trail
    if room < 0 or 0 < room < MIN_ROOM:
        raise refuse_input(length, lead + trail + MIN_ROOM, "the prompt, its worked examples and one solved puzzle")
    source = Examples(random.Random(rng.getrandbits(64)), [nums, *(w for w, _ in WORKED)])
    if room >= SMALL_ROOM:
        needles, filler = [], source
    else:  # a few hundred tokens: one or two examples of exactly that size, picked here (filler units' sizes are
        # too coarse for the engine to close so small a room)
        texts = _exact_examples(source, room, tok)
        if texts is None:
            raise ParamError(f"--len: {length:,} tokens leaves {room} tokens for solved examples, and no one or two "
                             "examples take exactly that; use a --len a few tokens away, or "
                             f"{lead + trail + SMALL_ROOM:,} or more")
        needles = [Needle(t, 100.0 * i / len(texts), order=i, recorded=False) for i, t in enumerate(texts)]
        filler = None
    plan = Plan(head=head, tail=tail, ctx_open=ctx_open, ctx_close=ctx_close, needles=needles, filler=filler)
    pruned = sum(1 for rec in records[:hit] if rec[1] in ("zero", "frac", "big"))
    meta = {"given": list(nums), "numbers": n, "target": target, "search_lines": hit + 1, "pruned_lines": pruned,
            "solution_steps": len(records[hit][4]), "draws": attempt}
    return SamplePlan(plan=plan, question=question, answer=answer, answers=[answer], meta=meta)
