"""Exact-length assembly: one engine that fits every family's prompt to a token target and places its needles.

A family hands over a :class:`Plan`: the prompt text around the context (``head``/``tail``), the context's
fixed opening and closing, its needles with target depths, and a source of filler *units* (a JSON line, a
sentence). Units are designed to be *additive*: each starts at a pre-tokenizer boundary, so the tokens of a
concatenation are the tokens of its parts. The engine then works in token space:

1. count the fixed parts and the needles on their own (short texts);
2. draw filler units in bulk and count them *in context* with one tokenization of their concatenation, reading
   each unit's count off the token boundaries (and refusing the counts if a token straddles two units);
3. keep units while at least a reserve of two large units remains, then fill the rest *exactly* by drawing
   more units from the same source and keeping one only when its count fits (rejection sampling);
4. put each needle at the unit boundary nearest its target depth;
5. tokenize the final text once to verify the count and measure every needle's depth.

Step 5 is the only full tokenization of the final text; step 2 tokenizes the filler, about the same size.
If step 5 disagrees with the plan (a unit that is not additive after all), the difference is corrected and the
text is tokenized a second time; the number of full tokenizations is kept in each sample's ``meta``.

When the typical sizes cannot close the reserve (units that all have one size, sizes with a common divisor, a tiny
target), a slower close over every size seen takes over; a length no sum of those sizes makes, or a count that
still disagrees after the last try, is refused in one line. A sample is never shorter or longer than its target.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from .errors import ParamError

if TYPE_CHECKING:  # families import this module to declare plans; tokenizers (and numpy) load only to make
    from .tokenizer import Tokenizer


class UnitSource(Protocol):
    """Endless filler: each call returns one additive unit of context text.

    A source drawn from a user's corpus may name it in a ``what`` attribute (the ``--haystack`` value): a length its
    sentence sizes cannot make is then refused naming the corpus instead of the tokenizer alone.
    """

    def draw(self) -> str: ...


def draw_units(source: UnitSource, n: int) -> list[str]:
    """n units, through the source's bulk method when it has one."""
    bulk = getattr(source, "draw_many", None)
    return bulk(n) if bulk is not None else [source.draw() for _ in range(n)]


@dataclass
class Needle:
    """A unit that must appear in the context at a target depth (percent of the context's tokens before it)."""

    text: str
    depth: float
    order: int = 0  # tie-break between needles that land on the same boundary (lower first)
    recorded: bool = True  # False: laid out like a needle, but a plain unit of the context (not in needle_offsets)


@dataclass
class Plan:
    """What a family asks the engine to build."""

    head: str
    tail: str
    ctx_open: str
    ctx_close: str
    needles: list[Needle]
    filler: UnitSource | None
    # What a needle follows in the context (a filler unit, such as a line), when needles do not start with a space:
    # they are then counted as they read after it, not alone (see counts_after). "": alone.
    needle_after: str = ""
    # A context that is the needles alone (filler None) sized with in-context counts (counts_after): the engine
    # then counts its needles inside the context too, in text order after its opening.
    in_context: bool = False


@dataclass
class Assembled:
    """The built prompt and what was measured on it."""

    text: str
    length: int
    needle_offsets: list[int]  # character offset of each recorded needle, in plan order
    depths: list[float]  # measured depth of each recorded needle, in plan order, percent of context tokens
    context_span: tuple[int, int]  # character span of the context inside text
    context_tokens: int
    max_unit_tokens: int
    tokenizations: int
    placed: list[int] = field(default_factory=list)  # character offset of every needle, recorded or not, in plan order


_MAX_EXACT_DRAWS = 4_000
_MAX_CLOSE_DRAWS = 20_000  # the close over every size seen (only when the typical sizes could not close)
_LAYOUTS = 4  # full tokenizations of the final text at most
_BATCH = 16_384  # units drawn per batch while the previous batch is being counted


def assemble(tok: Tokenizer, target: int | None, plan: Plan) -> Assembled:
    """Build ``plan`` to exactly ``target`` tokens; ParamError in one line when the units or tokenizer cannot.

    With ``target`` None there is no filler: the context is the needles alone, in text order.
    """
    # Head and opening, closing and tail always touch, so each pair is counted as one text (a boundary such as
    # "}" + "\n\n" is not additive); the split between them is only needed to aim depths.
    head_n, lead_n, close_n, trail_n = tok.counts(
        [plan.head, plan.head + plan.ctx_open, plan.ctx_close, plan.ctx_close + plan.tail]
    )
    open_n = lead_n - head_n
    needle_counts = _needle_counts(tok, plan)
    if target is None:
        target = lead_n + trail_n + sum(needle_counts)
        unbounded = True
    else:
        unbounded = False
    budget = target - lead_n - trail_n - sum(needle_counts)
    if budget < 0:
        raise ParamError(
            f"--len: {target:,} tokens is too short for this sample; its prompt and needles alone take "
            f"{target - budget:,} tokens"
        )
    if plan.filler is None and budget and not unbounded:  # a family that sized its whole context itself
        raise ParamError(
            f"--len: {target:,} tokens cannot be hit exactly with --tokenizer {tok.name}: the context's parts count "
            f"{budget:+,} tokens differently alone than in the prompt"
        )
    units, counts, reserve = _fill(tok, plan.filler, budget, target) if not unbounded else ([], [], 0)
    shortfall = budget - sum(counts)
    tokenizations = 0
    for attempt in range(_LAYOUTS):
        text, offsets, span, parts = _layout(plan, units, counts, needle_counts, open_n, close_n)
        index = _index_by_parts(tok, plan, parts, lead_n, trail_n) or tok.index(text)
        tokenizations += 1
        drift = index.n_tokens - (target - shortfall)
        if unbounded or index.n_tokens == target or attempt == _LAYOUTS - 1 or abs(drift) > target // 20 + 64:
            break  # exact, out of tries, or so far off that the tokenizer does not count text additively at all
        # A unit was not additive: take back |drift| tokens (or give them) from the filler and lay out again.
        units, counts, shortfall = _correct(tok, plan.filler, units, counts, drift, shortfall, reserve, target)
    if not unbounded and index.n_tokens != target:
        raise ParamError(
            f"--len: {target:,} tokens cannot be hit exactly with --tokenizer {tok.name}: its counts of the parts "
            f"do not add up to its count of the whole (measured {index.n_tokens:,} after {tokenizations} "
            f"tokenization{'s' if tokenizations > 1 else ''})"
        )
    ctx_first, ctx_end = index.tokens_at(span).tolist()
    ctx_tokens = ctx_end - ctx_first
    if ctx_tokens <= 0 and offsets:
        raise ParamError(f"--tokenizer: {tok.name} reads the context as no tokens, so no depth can be measured")
    kept = [o for o, n in zip(offsets, plan.needles) if n.recorded]
    depths = [100.0 * (t - ctx_first) / ctx_tokens for t in index.tokens_at(kept).tolist()]
    return Assembled(
        text=text,
        length=index.n_tokens,
        needle_offsets=kept,
        placed=offsets,
        depths=depths,
        context_span=span,
        context_tokens=ctx_tokens,
        max_unit_tokens=max(counts + needle_counts, default=0),
        tokenizations=tokenizations,
    )


def counts_after(tok: Tokenizer, texts: Sequence[str], before: str) -> list[int]:
    """Each text's tokens as it reads right after ``before`` (what precedes it in the sample: a line, a blank line).

    A SentencePiece-like tokenizer counts a text that starts a string without a space a "▁" more than inside one, so
    such pieces counted alone do not add up to the context. Measured inside one text that alternates ``before`` and
    the pieces, each read off the token boundaries; counted alone where a token straddles a boundary (the engine
    then refuses the length in one line if the sum is off). With ``before`` "", inside the pieces' own run.
    """
    if not texts:
        return []
    segments = [x for t in texts for x in (before, t)] if before else list(texts)
    got = tok.segment_counts(segments)
    if got is None:
        return tok.counts(list(texts))
    return got[1::2] if before else got


def _needle_counts(tok: Tokenizer, plan: Plan) -> list[int]:
    """Each needle's tokens: counted alone, after ``plan.needle_after``, or, for a context that is the needles alone
    (``filler`` None) and ``plan.in_context``, inside the context in text order after its opening (where a token
    straddles two needles, alone)."""
    if not plan.needles:
        return []
    texts = [n.text for n in plan.needles]
    if plan.filler is not None:
        return counts_after(tok, texts, plan.needle_after) if plan.needle_after else tok.counts(texts)
    if not plan.in_context:
        return tok.counts(texts)
    order = text_order(plan.needles)
    got = tok.segment_counts([plan.head + plan.ctx_open] + [texts[i] for i in order])
    if got is None:
        return tok.counts(texts)
    counts = [0] * len(texts)
    for i, c in zip(order, got[1:]):
        counts[i] = c
    return counts


def _fill(tok: Tokenizer, source: UnitSource, budget: int, target: int) -> tuple[list[str], list[int], int]:
    """Filler units whose counts add up to ``budget`` exactly, and the reserve used; ParamError if none can."""
    if budget == 0:
        return [], [], 0
    probe = draw_units(source, 64)
    probe_counts = tok.counts(probe)
    mean = max(sum(probe_counts) / len(probe_counts), 1.0)
    lo, hi = _typical(probe_counts)
    # Leave enough for the exact fill: from k units on, sums of typical units cover every integer.
    reserve = (math.ceil(lo / max(hi - lo, 1)) + 2) * hi
    # The probe is the haystack's beginning, not a sample thrown away (a text should start where its source does).
    units: list[str] = list(probe)
    counts: list[int] = list(probe_counts)
    total = sum(counts)
    # Drawing is Python work and counting is tokenizer work that releases the GIL, so batches are counted on a
    # second thread while the next batch is drawn. Counts arrive in batch order, so the result does not depend
    # on timing.
    with ThreadPoolExecutor(1) as pool:
        while total < budget - reserve:
            if len(units) > budget:  # a unit that takes a token adds at least one: these take (nearly) none
                raise ParamError(
                    f"--tokenizer: {tok.name} reads {len(units):,} filler units as only {total:,} tokens, too few "
                    f"to fill --len {target:,}"
                )
            planned, pending = total, []
            while planned < budget - reserve:
                n = min(max(int(math.ceil((budget - planned) / mean * 1.01)) + 4, 8), _BATCH)
                batch = draw_units(source, n)
                pending.append((batch, pool.submit(_count_in_context, tok, batch)))
                planned += n * mean
            for batch, future in pending:
                units.extend(batch)
                batch_counts = future.result()
                counts.extend(batch_counts)
                total += sum(batch_counts)
    keep, kept_total = 0, 0
    for c in counts:
        if budget - kept_total - c < reserve:
            break
        kept_total += c
        keep += 1
    seen = set(counts[keep:]) | set(probe_counts)
    del units[keep:], counts[keep:]
    drawn: list[int] = []
    extra_units, extra_counts = _exact(tok, source, budget - kept_total, probe_counts, drawn)
    units, counts = units + extra_units, counts + extra_counts
    if kept_total + sum(extra_counts) != budget:
        units, counts = _close(tok, source, units, counts, budget, seen | set(counts) | set(drawn), target)
    return units, counts, reserve


def _count_in_context(tok: Tokenizer, batch: list[str]) -> list[int]:
    return tok.segment_counts(batch) or tok.counts(batch)


def _typical(counts: Sequence[int]) -> tuple[int, int]:
    """The 10th and 90th percentile of unit token counts."""
    ordered = sorted(counts) or [1]
    return max(ordered[len(ordered) // 10], 1), ordered[(9 * len(ordered)) // 10]


def _exact(
    tok: Tokenizer, source: UnitSource, gap: int, seen: Sequence[int], drawn: list[int] | None = None
) -> tuple[list[str], list[int]]:
    """Units that sum to exactly ``gap`` tokens, drawn from ``source`` by rejection; fewer if none fit in time.

    A unit is kept only if what remains can still be written as a sum of *typical* unit sizes (sizes seen at
    least twice, between the 10th and 90th percentile; see _Reach), so the walk neither waits for
    rare sizes nor strands itself, even when a small corpus has only a few sentence lengths; the last unit must
    match exactly. Typical sizes are only ever added, so a remainder once reachable stays reachable. The count of
    every unit drawn is appended to ``drawn`` (for :func:`_close`).
    """
    lo, hi = _typical(seen)
    sightings = Counter(seen)
    sizes = frozenset(c for c, n in sightings.items() if n >= 2 and lo <= c <= hi)
    table = _Reach(sizes)
    units: list[str] = []
    counts: list[int] = []
    for _ in range(_MAX_EXACT_DRAWS):
        if gap <= 0:
            break
        unit = source.draw()
        c = tok.count(unit)
        if drawn is not None:
            drawn.append(c)
        sightings[c] += 1
        if lo <= c <= hi and c not in sizes and sightings[c] >= 2:
            sizes = sizes | {c}
            table = _Reach(sizes)
        if c == gap or (c < gap and table[gap - c]):
            units.append(unit)
            counts.append(c)
            gap -= c
    return units, counts


def _close(
    tok: Tokenizer,
    source: UnitSource,
    units: list[str],
    counts: list[int],
    total: int,
    sizes: set[int],
    target: int,
) -> tuple[list[str], list[int]]:
    """Make the filler sum to exactly ``total`` tokens with every unit size seen, not only the typical ones.

    The fallback when :func:`_exact` could not close the gap: refuse at once if no sum of the sizes seen makes
    ``total`` (e.g. all units take 82 tokens and the rest is not a multiple of 82); otherwise give back trailing units
    until the gap is so large that every multiple of the sizes' common divisor above it is reachable, and walk to
    the exact total by rejection, keeping a unit only while what remains stays reachable. Bounded in draws.
    """
    sizes = {c for c in sizes if c > 0}
    fixed = target - total  # tokens of the prompt outside the filler
    if not sizes:
        raise ParamError(f"--tokenizer: {tok.name} reads every filler unit as no tokens, so --len {target:,} is "
                         "out of reach")
    reach = _Reach(sizes)
    if not reach[total]:
        raise ParamError(_unreachable(tok, target, total, fixed, sizes, reach, getattr(source, "what", None),
                                      len(set(units))))
    units, counts = list(units), list(counts)
    kept = sum(counts)
    free = reach.all_from + max(sizes)  # a gap this large takes any unit and stays reachable
    while counts and (kept > total or total - kept < free):
        kept -= counts.pop()
        units.pop()
    gap = total - kept
    for _ in range(_MAX_CLOSE_DRAWS):
        if gap == 0:
            return units, counts
        unit = source.draw()
        c = tok.count(unit)
        if c > 0 and c not in sizes:
            sizes.add(c)
            reach = _Reach(sizes)  # one more size only makes more totals reachable
        if 0 < c <= gap and reach[gap - c]:
            units.append(unit)
            counts.append(c)
            gap -= c
    if gap == 0:
        return units, counts
    raise ParamError(
        f"--len: {target:,} tokens cannot be hit exactly with --tokenizer {tok.name}: {_MAX_CLOSE_DRAWS:,} filler "
        f"units drawn did not close the last {gap:,} tokens (their sizes: {_describe(sizes)})"
    )


def _unreachable(tok: Tokenizer, target: int, total: int, fixed: int, sizes: set[int], reach: _Reach,
                 corpus: str | None = None, distinct: int = 0) -> str:
    """The one-line refusal of a filler total no sum of unit sizes makes, with the nearest lengths that work.

    For a user's corpus (``corpus``, its ``--haystack`` value) it says how little its sentences vary, the cause, and
    what would help: a corpus whose sentence sizes share no divisor is refused only for tiny lengths.
    """
    below = next((n for n in range(total, max(total - _HINT_SCAN, -1), -1) if reach[n]), None)
    above = next((n for n in range(total, total + _HINT_SCAN) if reach[n]), None)
    near = " and ".join(f"{fixed + n:,}" for n in (below, above) if n is not None)
    hint = f"; the nearest lengths that work for this sample: {near}" if near else ""
    if corpus is None:
        return (
            f"--len: {target:,} tokens cannot be hit exactly with --tokenizer {tok.name}: {_describe(sizes)}, and no "
            f"sum of them makes the {total:,} tokens left for filler{hint}"
        )
    seen = f"the {distinct:,} distinct sentences drawn" if distinct else "its sentences"
    return (
        f"--len: {target:,} tokens cannot be hit exactly with --haystack {corpus} and --tokenizer {tok.name}: {seen} "
        f"take {_sizes(sizes)}, and no sum of them makes the {total:,} tokens left for filler{hint}"
        f"{', or' if near else '; use'} a corpus with sentences that vary more in length"
    )


_HINT_SCAN = 100_000  # totals looked at on each side for the nearest reachable one


def _describe(sizes: set[int]) -> str:
    """The unit sizes seen, in a few words."""
    step = math.gcd(*sizes)
    if len(sizes) == 1:
        return f"every filler unit takes {step} token{'s' if step > 1 else ''}"
    if step > 1:
        return f"every filler unit takes a multiple of {step} tokens"
    return f"filler units take {min(sizes)} to {max(sizes)} tokens"


def _sizes(sizes: set[int]) -> str:
    """A corpus' sentence sizes, in a few words: "only 2 sizes (8 and 12 tokens)"."""
    ordered, step = sorted(sizes), math.gcd(*sizes)
    multiple = f", every one a multiple of {step}" if step > 1 and len(sizes) > 1 else ""
    if len(ordered) > 6:
        return f"{len(ordered)} sizes from {ordered[0]} to {ordered[-1]} tokens{multiple}"
    listed = " and ".join([", ".join(map(str, ordered[:-1])), str(ordered[-1])]) if len(ordered) > 1 else ordered[0]
    return f"only {len(ordered)} size{'s' if len(ordered) > 1 else ''} ({listed} tokens){multiple}"


class _Reach:
    """Which totals are sums of the given sizes (repetition allowed), for totals of any size.

    The smallest reachable total of each residue modulo the smallest size, found by shortest paths over the
    residues; a total is reachable iff it is at least the smallest of its residue. ``all_from``: every multiple of
    the sizes' common divisor from there on is reachable.
    """

    def __init__(self, sizes: set[int] | frozenset[int]):
        ordered = sorted(sizes)  # positive sizes; none at all: only 0 is reachable
        m = ordered[0] if ordered else 1
        least: list[float] = [math.inf] * m
        least[0] = 0
        heap = [(0, 0)]
        while heap:
            d, r = heapq.heappop(heap)
            if d > least[r]:
                continue
            for s in ordered:
                n = d + s
                if n < least[n % m]:
                    least[n % m] = n
                    heapq.heappush(heap, (n, n % m))
        self._m = m
        self._least = least
        self.all_from = max(0, int(max(x for x in least if x != math.inf)) - m + 1) if ordered else math.inf
        self._any = bool(ordered)

    def __getitem__(self, n: int) -> bool:
        return n >= 0 and (self._least[n % self._m] <= n if self._any else n == 0)


def _correct(
    tok: Tokenizer,
    source: UnitSource,
    units: list[str],
    counts: list[int],
    drift: int,
    shortfall: int,
    reserve: int,
    target: int,
) -> tuple[list[str], list[int], int]:
    """Absorb a measured drift: drop trailing units until the gap is one a refill can hit, then refill exactly."""
    units, counts = list(units), list(counts)
    need = -drift  # tokens to add (negative: to remove)
    while (need < 0 or need + shortfall < reserve) and units:
        units.pop()
        need += counts.pop()
    if source is None:  # no filler to give or take: the final check refuses the sample
        return units, counts, need + shortfall
    drawn: list[int] = []
    extra_units, extra_counts = _exact(tok, source, need + shortfall, counts[-256:], drawn)
    gap_left = need + shortfall - sum(extra_counts)
    if gap_left and need + shortfall >= 0:
        total = sum(counts) + need + shortfall
        seen = set(counts[-256:]) | set(drawn) | set(extra_counts)
        closed_units, closed_counts = _close(tok, source, units + extra_units, counts + extra_counts, total, seen,
                                             target)
        return closed_units, closed_counts, 0
    return units + extra_units, counts + extra_counts, gap_left


def _layout(
    plan: Plan,
    units: list[str],
    counts: list[int],
    needle_counts: list[int],
    open_n: int,
    close_n: int,
) -> tuple[str, list[int], tuple[int, int]]:
    """Interleave needles into the filler at the boundaries nearest their depths; return text and offsets."""
    context_total = open_n + sum(counts) + sum(needle_counts) + close_n
    boundaries = [open_n]
    for c in counts:
        boundaries.append(boundaries[-1] + c)
    order = text_order(plan.needles)
    slot_of: dict[int, int] = {}
    placed_tokens = 0
    lowest = 0
    for i in order:
        wanted = plan.needles[i].depth / 100.0 * context_total - placed_tokens
        slot = _nearest(boundaries, wanted, lowest)
        slot_of[i] = slot
        lowest = slot
        placed_tokens += needle_counts[i]
    at_slot: dict[int, list[int]] = {}
    for i in order:
        at_slot.setdefault(slot_of[i], []).append(i)
    pieces = [plan.head, plan.ctx_open]
    pos = len(plan.head) + len(plan.ctx_open)
    offsets = [0] * len(plan.needles)
    part_counts = [0]  # the filler's and needles' own counts, in text order (head and close counted apart)
    for j in range(len(units) + 1):
        for i in at_slot.get(j, ()):
            offsets[i] = pos
            pieces.append(plan.needles[i].text)
            part_counts.append(needle_counts[i])
            pos += len(plan.needles[i].text)
        if j < len(units):
            pieces.append(units[j])
            part_counts.append(counts[j])
            pos += len(units[j])
    pieces.append(plan.ctx_close)
    pieces.append(plan.tail)
    span = (len(plan.head), pos + len(plan.ctx_close))
    return "".join(pieces), offsets, span, _Parts(pieces, part_counts)


@dataclass
class _Parts:
    """The laid-out text as pieces: head, opening, needles and units in text order, closing, tail."""

    pieces: list[str]
    counts: list[int]  # counts[k] belongs to pieces[k + 1] (k >= 1); counts[0] is unused


class _PartIndex:
    """Token positions of a text known from its parts' counts (see _index_by_parts): at part starts, and inside the
    first and last part."""

    def __init__(self, n_tokens: int, at: dict[int, int]):
        self.n_tokens = n_tokens
        self._at = at

    def tokens_at(self, char_offsets: Sequence[int]) -> Any:
        import numpy as np

        return np.asarray([self._at[c] for c in char_offsets], dtype=np.int64)


def _index_by_parts(tok: Tokenizer, plan: Plan, parts: _Parts, lead_n: int, trail_n: int) -> _PartIndex | None:
    """The token positions of the laid-out text without tokenizing it again, or None.

    When every junction between parts (head and opening, each needle and unit, closing and tail) is an exact seam
    of the tokenizer (``lcgen.tokenizer.exact_seam``), the text's tokens are its parts' tokens end to end: the
    count of the whole is the sum of the counts already made, and a part starts at the sum of the counts before it.
    Needle-threads' JSON lines all meet that way; prose, whose sentences meet at a space, never does.
    """
    if not getattr(tok, "splits_at_seams", False):
        return None
    from .tokenizer import SEAM_START

    first, middle, last = plan.head + plan.ctx_open, parts.pieces[2:-2], plan.ctx_close + plan.tail
    sequence = [first, *middle, last]
    for before, after in zip(sequence, sequence[1:]):
        if not before.endswith("\n") or SEAM_START.match(after) is None:
            return None
    n_tokens = lead_n + sum(parts.counts[1:]) + trail_n
    at, pos, done = {}, len(first), lead_n
    for piece, count in zip(middle, parts.counts[1:]):
        at.setdefault(pos, done)
        pos += len(piece)
        done += count
    # Inside the first and last part, positions come from those parts' own (short) tokenizations.
    at[len(plan.head)] = tok.index(first).token_at(len(plan.head)) if plan.ctx_open else lead_n
    at[pos + len(plan.ctx_close)] = n_tokens - trail_n + tok.index(last).token_at(len(plan.ctx_close))
    return _PartIndex(n_tokens, at)


def text_order(needles: Sequence[Needle]) -> list[int]:
    """Indices of ``needles`` in the order they appear in the text: by target depth, then tie-break, then index."""
    return sorted(range(len(needles)), key=lambda i: (needles[i].depth, needles[i].order, i))


def _nearest(boundaries: list[int], wanted: float, lowest: int) -> int:
    """Index of the boundary closest to ``wanted`` tokens, not before ``lowest``."""
    from bisect import bisect_left

    j = bisect_left(boundaries, wanted, lo=lowest)
    if j >= len(boundaries):
        return len(boundaries) - 1
    if j > lowest and abs(boundaries[j - 1] - wanted) <= abs(boundaries[j] - wanted):
        return j - 1
    return j



CONTEXT_SLOT = "\x00LCGEN-CONTEXT\x00"
"""Rendered in place of the context so one prompt template yields the text before it and the text after it."""


def split_prompt(rendered: str) -> tuple[str, str]:
    """Split a prompt rendered with ``context=CONTEXT_SLOT`` into (head, tail)."""
    if rendered.count(CONTEXT_SLOT) != 1:
        raise ParamError("a prompt template must place {{ context }} exactly once")
    head, tail = rendered.split(CONTEXT_SLOT)
    return head, tail


@dataclass
class SamplePlan:
    """A family's answer to "make me a sample": the engine plan plus question, answer and family details."""

    plan: Plan
    question: str
    answer: str
    answers: list[str]
    meta: dict[str, Any] = field(default_factory=dict)
