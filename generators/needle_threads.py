"""Needle threads: follow keys, markers and chains of keys through a JSON object of UUIDs.

After *Needle Threading: Can LLMs Follow Threads through Near-Million-Scale Haystacks?* (Roberts, Han, Albanie,
ICLR 2025). The context is one JSON object, one ``"key": "value"`` pair per line; every key and value is a fresh
RFC 4122 version-4 UUID from the sample's own RNG, so no string repeats and no value outside a thread is a key.
Conditional needles carry a marker character that appears nowhere else. The oracle in
``lcgen.validators.needle_threads`` re-derives every answer by parsing the object out of ``input``.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Literal

from lcgen.assemble import CONTEXT_SLOT, Needle, Plan, SamplePlan, split_prompt, text_order
from lcgen.errors import ParamError
from lcgen.params import FamilyParams, param
from lcgen.registry import family
from lcgen.render import render
from lcgen.validators.metrics import needle_threads as needle_threads_metric

_THREAD_VARIANTS = ("threads", "multi_threads", "branched_threads")
_NOT_MARKERS = "0123456789abcdefABCDEF-\"\\{}:,[] \t\r\n"


@dataclass(frozen=True, kw_only=True)
class NeedleThreadsParams(FamilyParams):
    """Knobs of the needle-threads family; each applies to the variants it names."""

    needles: int = param(
        5, help="Keys asked for or marked.", min=2, max=1000, variants=("multiple_needles", "conditional_needles")
    )
    placement: Literal["random", "clustered"] = param(
        "random",
        help="random: one needle at the depth, the rest anywhere; clustered: all consecutive at the depth.",
        variants=("multiple_needles", "conditional_needles"),
    )
    marker: str = param(
        "*", help="The character inserted into marked keys.", forbid=_NOT_MARKERS, variants=("conditional_needles",)
    )
    thread_length: int = param(4, help="Links (key->value pairs) per thread or branch.", min=2, max=1000,
                               variants=_THREAD_VARIANTS)
    direction: Literal["forward", "backward", "random"] = param(
        "forward", help="Where each next link sits: later, earlier or anywhere in the context.",
        variants=_THREAD_VARIANTS,
    )
    threads: int = param(3, help="Threads followed at once.", min=2, max=200, variants=("multi_threads",))
    branches: int = param(3, help="Chains that merge into one.", min=2, max=200, variants=("branched_threads",))

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.marker) != 1:
            raise ParamError(f"--marker: {self.marker!r} must be exactly one character")


_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


class UuidSource:
    """Fresh, never repeated RFC 4122 v4 UUIDs from one RNG."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()  # membership only; never iterated

    def uuid(self) -> str:
        return self.many(1)[0]

    def many(self, n: int) -> list[str]:
        """n UUIDs from one draw of 128*n random bits (much faster than n draws)."""
        out: list[str] = []
        while len(out) < n:
            k = n - len(out)
            h = f"{self.rng.getrandbits(128 * k):0{32 * k}x}"
            for i in range(0, 32 * k, 32):
                # version nibble 4; variant bits 10 (one of 8, 9, a, b) taken from the drawn nibble
                variant = _VARIANT[h[i + 16]]
                u = f"{h[i:i + 8]}-{h[i + 8:i + 12]}-4{h[i + 13:i + 16]}-{variant}{h[i + 17:i + 20]}-{h[i + 20:i + 32]}"
                if u not in self.used:
                    self.used.add(u)
                    out.append(u)
        return out


def pair_line(key: str, value: str, last: bool = False) -> str:
    """One line of the object. Lines end in a newline, which keeps them additive in tokens."""
    return f'  "{key}": "{value}"' + ("\n" if last else ",\n")


class PairSource:
    """Filler: unrelated key/value pairs."""

    def __init__(self, uuids: UuidSource):
        self.uuids = uuids

    def draw(self) -> str:
        return self.draw_many(1)[0]

    def draw_many(self, n: int) -> list[str]:
        u = self.uuids.many(2 * n)
        return [pair_line(u[i], u[i + 1]) for i in range(0, 2 * n, 2)]


VARIANTS = {
    "single_needle": {},
    "multiple_needles": {},
    "conditional_needles": {},
    "threads": {},
    "multi_threads": {"thread_length": 3},
    "branched_threads": {"thread_length": 3},
}


@family(
    "needle-threads",
    params=NeedleThreadsParams,
    variants=VARIANTS,
    version="0.2.0",
    papers=("Roberts et al., Needle Threading: Can LLMs Follow Threads through Near-Million-Scale Haystacks?, "
            "ICLR 2025, arXiv:2411.05000",),
    depth_meaning=(
        "Share of the JSON object's tokens before the needle pair. single_needle: the pair; multiple/conditional: "
        "one needle (random) or the first of the cluster (clustered); threads: the first link; multi_threads: the "
        "first links, consecutive; branched_threads: the link into the shared final value."
    ),
    answer_format="A bare UUID for single answers; a JSON list of UUID strings for several.",
    metric=needle_threads_metric.score_reply,
)
def needle_threads(p: NeedleThreadsParams, variant: str, depth: float, rng: random.Random) -> SamplePlan:
    """Plan one sample of ``variant`` with its anchor needle at ``depth`` percent."""
    uuids = UuidSource(rng)
    build = _BUILDERS[variant]
    needles, question_ctx, answers, meta = build(p, depth, rng, uuids)
    question = render(f"needle_threads/{variant}.j2", **question_ctx).rstrip("\n")
    head, tail = split_prompt(render("needle_threads/prompt.j2", context=CONTEXT_SLOT, question=question))
    close = pair_line(uuids.uuid(), uuids.uuid(), last=True) + "}"
    plan = Plan(head=head, tail=tail, ctx_open="{\n", ctx_close=close, needles=needles, filler=PairSource(uuids))
    answer = answers[0] if variant in ("single_needle", "threads") else json.dumps(answers)
    return SamplePlan(plan=plan, question=question, answer=answer, answers=answers, meta=meta)


def _spread(p: NeedleThreadsParams, depth: float, n: int, rng: random.Random) -> list[float]:
    """Target depths of n needles: all at ``depth`` (clustered) or the first there and the rest uniform."""
    if p.placement == "clustered":
        return [depth] * n
    return [depth] + [rng.uniform(0.0, 100.0) for _ in range(n - 1)]


def _single(p, depth, rng, uuids):
    key, value = uuids.uuid(), uuids.uuid()
    needles = [Needle(pair_line(key, value), depth)]
    return needles, {"keys": [key]}, [value], {"keys": [key], "values": [value]}


def _multiple(p, depth, rng, uuids):
    keys = [uuids.uuid() for _ in range(p.needles)]
    values = [uuids.uuid() for _ in range(p.needles)]
    depths = _spread(p, depth, p.needles, rng)
    needles = [Needle(pair_line(k, v), d, order=i) for i, (k, v, d) in enumerate(zip(keys, values, depths))]
    return needles, {"keys": keys}, values, {"keys": keys, "values": values}


def _conditional(p, depth, rng, uuids):
    keys = []
    for _ in range(p.needles):
        u = uuids.uuid()
        at = rng.randrange(len(u) + 1)
        keys.append(u[:at] + p.marker + u[at:])
    values = [uuids.uuid() for _ in range(p.needles)]
    depths = _spread(p, depth, p.needles, rng)
    needles = [Needle(pair_line(k, v), d, order=i) for i, (k, v, d) in enumerate(zip(keys, values, depths))]
    order = text_order(needles)  # the answer (and `depth`) list the needles in the order their keys appear
    answers = [values[i] for i in order]
    meta = {"keys": [keys[i] for i in order], "values": answers}
    return [needles[i] for i in order], {"marker": p.marker}, answers, meta


def _link_depths(p: NeedleThreadsParams, anchor: float, n: int, rng: random.Random) -> list[float]:
    """Depths of the n links after the anchor link: later (forward), earlier (backward) or anywhere."""
    if p.direction == "forward":
        return sorted(rng.uniform(anchor, 100.0) for _ in range(n))
    if p.direction == "backward":
        return sorted((rng.uniform(0.0, anchor) for _ in range(n)), reverse=True)
    return [rng.uniform(0.0, 100.0) for _ in range(n)]


def _chain(p: NeedleThreadsParams, anchor: float, rng, uuids, order0: int) -> tuple[list[Needle], list[str]]:
    """One thread of ``thread_length`` links whose first link sits at ``anchor``; returns needles and its keys."""
    keys = [uuids.uuid() for _ in range(p.thread_length + 1)]  # the last "key" is the final value
    depths = [anchor] + _link_depths(p, anchor, p.thread_length - 1, rng)
    # Tie-break so that links landing on one boundary keep the thread's direction.
    sign = -1 if p.direction == "backward" else 1
    needles = [
        Needle(pair_line(keys[i], keys[i + 1]), depths[i], order=order0 + sign * i) for i in range(p.thread_length)
    ]
    return needles, keys


def _threads(p, depth, rng, uuids):
    needles, keys = _chain(p, depth, rng, uuids, 0)
    return needles, {"starts": [keys[0]]}, [keys[-1]], {"chains": [keys]}


def _multi_threads(p, depth, rng, uuids):
    needles: list[Needle] = []
    chains = []
    for t in range(p.threads):
        n, keys = _chain(p, depth, rng, uuids, order0=t * 10_000)
        needles.extend(n)
        chains.append(keys)
    starts = [c[0] for c in chains]
    finals = [c[-1] for c in chains]
    return needles, {"starts": starts}, finals, {"chains": chains}


def _branched(p, depth, rng, uuids):
    merge, final = uuids.uuid(), uuids.uuid()
    needles = [Needle(pair_line(merge, final), depth, order=0)]
    chains, start_needles = [], []
    for b in range(p.branches):
        keys = [uuids.uuid() for _ in range(p.thread_length)] + [merge]
        # Each branch's links lead into the merge link at `depth`: before it in the text for forward threads
        # (ascending), after it for backward ones (descending); tie-breaks keep that order on a shared boundary.
        if p.direction == "forward":
            depths = sorted(rng.uniform(0.0, depth) for _ in range(p.thread_length))
            orders = [-1_000_000 + b * 10_000 + i for i in range(p.thread_length)]
        elif p.direction == "backward":
            depths = sorted((rng.uniform(depth, 100.0) for _ in range(p.thread_length)), reverse=True)
            orders = [1_000_000 + b * 10_000 - i for i in range(p.thread_length)]
        else:
            depths = [rng.uniform(0.0, 100.0) for _ in range(p.thread_length)]
            orders = [b * 10_000 + i for i in range(p.thread_length)]
        start_needles.append(len(needles))
        for i in range(p.thread_length):
            needles.append(Needle(pair_line(keys[i], keys[i + 1]), depths[i], order=orders[i]))
        chains.append(keys + [final])
    position = {i: pos for pos, i in enumerate(text_order(needles))}
    by_position = sorted(range(p.branches), key=lambda b: position[start_needles[b]])
    # Recorded order (what `depth` lists): the merge link, then each branch from its start, branches in text order.
    ordered = needles[:1]
    for b in by_position:
        ordered += needles[start_needles[b] : start_needles[b] + p.thread_length]
    starts = [chains[b][0] for b in by_position]
    return ordered, {"final": final}, starts, {"chains": [chains[b] for b in by_position], "merge_key": merge}


_BUILDERS = {
    "single_needle": _single,
    "multiple_needles": _multiple,
    "conditional_needles": _conditional,
    "threads": _threads,
    "multi_threads": _multi_threads,
    "branched_threads": _branched,
}
