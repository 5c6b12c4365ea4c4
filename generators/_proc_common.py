"""What every procedures variant shares: the output-length rule, a search for the size that hits it, and names.

A variant builds an instance whose reference trace is ``--output-len`` tokens (of the sample's tokenizer) within
:func:`tolerance`; it picks the size knob (hops, steps, rows, statements) with :func:`closest_size` and refuses in
one line, naming the option, when no instance comes within tolerance.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable

from lcgen.errors import ParamError

from ._invented import syllables

TOLERANCE_SHARE = 0.05
TOLERANCE_FLOOR = 40


def tolerance(target: int) -> int:
    """Tokens the reference trace may be off ``--output-len``: 5 % of it, at least 40 (one or two trace lines)."""
    return max(math.ceil(TOLERANCE_SHARE * target), TOLERANCE_FLOOR)


def within(tokens: int, target: int) -> bool:
    return abs(tokens - target) <= tolerance(target)


def closest_size(tokens_of: Callable[[int], int], lo: int, hi: int, target: int) -> int:
    """The size n in [lo, hi] whose trace's tokens ``tokens_of(n)`` come closest to ``target`` (a tie keeps the
    smaller), by bisection: ``tokens_of`` must not decrease with n. It is called O(log(hi - lo)) times."""
    if lo > hi:
        raise ValueError(f"empty size range {lo}..{hi}")
    memo: dict[int, int] = {}

    def at(n: int) -> int:
        if n not in memo:
            memo[n] = tokens_of(n)
        return memo[n]

    a, b = lo, hi
    while a < b:  # the smallest n whose trace reaches the target (hi when none does)
        mid = (a + b) // 2
        if at(mid) >= target:
            b = mid
        else:
            a = mid + 1
    if a > lo and abs(at(a - 1) - target) <= abs(at(a) - target):
        return a - 1
    return a


def refuse_output(target: int, got: int, why: str) -> ParamError:
    """The one-line refusal of an --output-len a variant cannot reach."""
    return ParamError(f"--output-len: {target:,} tokens cannot be reached within {tolerance(target)} tokens "
                      f"(closest: {got:,}); {why}")


def refuse_input(length: int, needed: int, what: str) -> ParamError:
    """The one-line refusal of a --len too short for the instance the output length asks for."""
    return ParamError(f"--len: {length:,} tokens is too short for {what}, which takes {needed:,} tokens; raise --len "
                      "or lower --output-len")


def invented_names(rng: random.Random, n: int, taken: Iterable[str] = (), syllable_counts: tuple[int, ...] = (2, 3),
                   attempts: int = 50) -> list[str]:
    """``n`` distinct capitalized invented one-word names (``Tavren``), none in ``taken`` (compared lower case) and
    none of them a real English first or last name; ParamError when ``attempts * n`` draws do not give enough."""
    from ._invented import real_en_names

    real = real_en_names()
    seen = {t.lower() for t in taken}
    out: list[str] = []
    for _ in range(attempts * max(n, 1)):
        if len(out) >= n:
            break
        word = syllables(rng, rng.choice(syllable_counts))
        if len(word) < 4 or word in seen or word in real:
            continue
        seen.add(word)
        out.append(word.capitalize())
    if len(out) < n:
        raise ParamError(f"--len: {n:,} distinct names are needed and only {len(out):,} were drawn; use a shorter "
                         "--len")
    return out
