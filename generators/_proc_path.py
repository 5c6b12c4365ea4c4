"""procedures/path_traversal: the unique route through a world where every city has one one-way connection out.

After LongProc's path traversal, with its prompt/data mismatch fixed: every city, the destination included, has
exactly one outgoing connection (by bus, train, plane or ferry) to another city, as the prompt says. The route is
a simple path SRC -> ... -> DST of H hops; H is chosen so that the reference trace ("<Route>", one line per hop,
"</Route>") comes closest to ``--output-len``. With one connection out of every city the walk from SRC is unique;
the generator checks that it first reaches DST after exactly H hops without revisiting a city.

The context lists one sentence per city (``templates/procedures/path/city.j2``), each a line that starts with one
space and ends in a newline, in shuffled order; the close is " </World>". Every piece the engine counts alone starts
with a space, so it counts alone as in context for tiktoken and for SentencePiece-like tokenizers alike (a Metaspace
pre-tokenizer with a dummy prefix prepends "▁" to a text that does not start with one). Route cities and some
off-route cities are needles at random depths (``recorded=False``): DST connects to an off-route needle city. The
engine's filler is further off-route cities. Every off-route city, needle or filler, connects to a route city or an
off-route needle city (never to a filler city, since the engine may discard any filler unit), handed out evenly so
that no city gets many more incoming connections than another.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lcgen.assemble import CONTEXT_SLOT, Needle, Plan, SamplePlan, split_prompt
from lcgen.frames import frame_lines, render_frame
from lcgen.params import FamilyParams
from lcgen.render import render

from ._proc_common import closest_size, invented_names, refuse_input, refuse_output, within

if TYPE_CHECKING:
    from lcgen.tokenizer import Tokenizer

TRANSITS = ("bus", "train", "plane", "ferry")
CTX_OPEN = "<World>\n"
LINE_LEAD = " "  # every city line and the close start with a space: see city_line
CTX_CLOSE = LINE_LEAD + "</World>"
FILLER_SHARE = 3  # about one city in this many is a route or off-route needle city, the targets of filler cities
MIN_OFF_ROUTE = 3  # DST's target and two more: with DST's connection they can carry all four transits
_RESERVED = ("bus", "train", "plane", "ferry", "route", "world", "from", "take", "question")
_EXAMPLE = (("A", "train", "B"), ("B", "ferry", "C"), ("C", "bus", "D"))


@dataclass(frozen=True, kw_only=True)
class Knobs(FamilyParams):
    """path_traversal has no knobs of its own: --output-len sets the number of hops."""


def _frames() -> tuple[str, ...]:
    return frame_lines("procedures/path/city.j2")


def city_line(frame: str, city: str, dest: str, transit: str) -> str:
    """One city's line: a space, the sentence, a newline. Lines meet at an exact seam of the tokenizer (".\\n" +
    " Name"): a SentencePiece-like tokenizer reads the leading space as the "▁" it would prepend to the line counted
    alone, and tiktoken splits before " Name" in context and alone."""
    return LINE_LEAD + render_frame(frame, city=city, dest=dest, transit=transit) + "\n"


def trace_text(steps: list[tuple[str, str, str]]) -> str:
    """The reference trace: the tags around one line per hop (src, transit, dest)."""
    step = frame_lines("procedures/path/step.j2")[0]
    lines = [render_frame(step, src=a, transit=t, dest=b) for a, t, b in steps]
    return render("procedures/path/trace.j2", lines=lines).rstrip("\n")


class _Cycle:
    """Targets handed out evenly: every city of the list once, in a shuffled order, then again reshuffled; never
    the asking city itself."""

    def __init__(self, rng: random.Random, cities: list[str]):
        self.rng, self.cities, self.order = rng, list(cities), []

    def next(self, avoid: str = "") -> str:
        if not self.order:
            self.order = list(self.cities)
            self.rng.shuffle(self.order)
        if self.order[-1] == avoid:
            if len(self.order) == 1:  # the last of a round: start the next round under it
                self.order = [avoid] + [c for c in self.rng.sample(self.cities, len(self.cities)) if c != avoid]
            else:
                self.order[-1], self.order[-2] = self.order[-2], self.order[-1]
        return self.order.pop()


class OffRouteCities:
    """The engine's filler: an off-route city connecting to a city that is certainly present (a route city or an
    off-route needle city). No city connects to a filler city, so any unit may be discarded; names never repeat."""

    def __init__(self, rng: random.Random, targets: _Cycle, taken: list[str]):
        self.rng = rng
        self.targets = targets
        self.names_rng = random.Random(rng.getrandbits(64))
        self.used = list(taken)
        self.names: list[str] = []
        self.frames = _frames()

    def _name(self) -> str:
        if not self.names:
            fresh = invented_names(self.names_rng, 512, taken=self.used)
            self.used.extend(fresh)
            self.names = fresh[::-1]
        return self.names.pop()

    def draw(self) -> str:
        return city_line(self.rng.choice(self.frames), self._name(), self.targets.next(), self.rng.choice(TRANSITS))

    def draw_many(self, n: int) -> list[str]:
        return [self.draw() for _ in range(n)]


def walk(edges: dict[str, tuple[str, str]], src: str, dst: str, limit: int) -> list[str] | None:
    """The cities visited from ``src`` until ``dst``, following the one connection out of each; None when the walk
    revisits a city or leaves the known cities first, or takes more than ``limit`` hops."""
    path, seen, city = [src], {src}, src
    while city != dst:
        if city not in edges or len(path) > limit:
            return None
        city = edges[city][0]
        if city in seen:
            return None
        seen.add(city)
        path.append(city)
    return path


def build(p, rng: random.Random, length: int, tok: Tokenizer) -> SamplePlan:
    """Plan one sample: a route of H hops whose trace is closest to --output-len, its world filled to --len."""
    target = p.output_len
    route_rng, place_rng, world_rng = (random.Random(rng.getrandbits(64)) for _ in range(3))
    # A trace line is at least 9 tokens ("From", " A", ",", " take", " a", " bus", " to", " B", ".\n"), so this
    # many hops always overshoot the target; the trace of the first H hops is a prefix, so tokens grow with H.
    most = math.ceil(target / 8) + 2
    chain = invented_names(route_rng, most + 1, taken=_RESERVED)
    transits = [route_rng.choice(TRANSITS) for _ in range(most)]

    def steps(h: int) -> list[tuple[str, str, str]]:
        return [(chain[i], transits[i], chain[i + 1]) for i in range(h)]

    hops = closest_size(lambda h: tok.count(trace_text(steps(h))), 1, most, target)
    answer = trace_text(steps(hops))
    got = tok.count(answer)
    if not within(got, target):
        raise refuse_output(target, got, "route lines cannot make that many tokens")
    route = chain[:hops + 1]
    src, dst = route[0], route[-1]

    question = render("procedures/path/question.j2", src=src, dst=dst).strip("\n")
    example = [render_frame(frame_lines("procedures/path/step.j2")[0], src=a, transit=t, dest=b)
               for a, t, b in _EXAMPLE]
    head, tail = split_prompt(render("procedures/path/prompt.j2", context=CONTEXT_SLOT, question=question,
                                     example=example, src=src, dst=dst))
    lead_n, trail_n = tok.counts([head + CTX_OPEN, CTX_CLOSE + tail])
    budget = length - lead_n - trail_n

    frames = _frames()
    route_lines = [city_line(world_rng.choice(frames), route[i], route[i + 1], transits[i]) for i in range(hops)]
    route_counts = tok.counts(route_lines)
    mean = max(sum(route_counts) / len(route_counts), 1.0)
    biggest = max(route_counts)
    reserve = 2 * biggest  # room the filler can always close exactly
    cities = budget / mean  # about how many cities the world will have
    room = math.floor((budget - reserve - sum(route_counts)) / biggest) - 1  # off-route needles that surely fit
    off_n = min(max(MIN_OFF_ROUTE, math.ceil(cities / FILLER_SHARE) - len(route)), room)
    if off_n < MIN_OFF_ROUTE:
        need = lead_n + trail_n + sum(route_counts) + (MIN_OFF_ROUTE + 1) * biggest + reserve
        raise refuse_input(length, need, f"a route of {hops:,} hops (--output-len {target:,})")
    off = invented_names(route_rng, off_n, taken=[*_RESERVED, *chain])

    # DST connects to the first off-route city; every off-route needle city and every filler city connects to a
    # route city or an off-route needle city, handed out evenly so that no city collects many incoming connections.
    # DST's connection and the first off-route ones carry any transit the route lacks.
    missing = [t for t in TRANSITS if t not in transits[:hops]]
    out_transits = [missing[i] if i < len(missing) else world_rng.choice(TRANSITS) for i in range(off_n + 1)]
    edges: dict[str, tuple[str, str]] = {route[i]: (route[i + 1], transits[i]) for i in range(hops)}
    edges[dst] = (off[0], out_transits[0])
    targets = _Cycle(random.Random(rng.getrandbits(64)), [*route, *off])
    for i, city in enumerate(off):
        edges[city] = (targets.next(avoid=city), out_transits[i + 1])
    lines = route_lines + [city_line(world_rng.choice(frames), c, *edges[c]) for c in (dst, *off)]
    counts = route_counts + tok.counts(lines[hops:])
    if sum(counts) + reserve > budget:
        raise refuse_input(length, lead_n + trail_n + sum(counts) + reserve,
                           f"a route of {hops:,} hops (--output-len {target:,})")
    if walk(edges, src, dst, hops) != route:  # the uniqueness proof: the one walk from SRC reaches DST at hop H
        raise AssertionError(f"path_traversal: the walk from {src} does not reach {dst} after {hops} hops")

    needles = [Needle(line, place_rng.uniform(0.0, 100.0), order=i, recorded=False) for i, line in enumerate(lines)]
    filler = OffRouteCities(random.Random(rng.getrandbits(64)), targets, [*_RESERVED, *chain, *off])
    plan = Plan(head=head, tail=tail, ctx_open=CTX_OPEN, ctx_close=CTX_CLOSE, needles=needles, filler=filler)
    meta = {"hops": hops, "route_cities": len(route), "off_route_needles": off_n, "source": src,
            "destination": dst}
    return SamplePlan(plan=plan, question=question, answer=answer, answers=[answer], meta=meta)
