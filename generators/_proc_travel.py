"""procedures/travel_planning: the depth-first search log and day-by-day plan of the only trip that fits.

After LongProc's travel planning (itself after NATURAL PLAN's trip planning). A trip of D days over K cities, each
with a stay; some cities have fixed dates (an event); the direct one-way flights are the context, one line each.
The prompt states LongProc's search exactly (day by day; a fixed city arriving today is the only option, else the
free cities in the listed order; a direct flight from the previous city; no later departure than the next fixed
city's arrival; backtrack on failure) and the reference is its log, then the plan.

The instance is built around a hidden itinerary: its consecutive flights are the instance, then decoy flights among
the trip cities are added one at a time, each one a flight the search had just dropped for lack of a flight (so it
makes the search go further), kept only while the trip stays the only valid one (counted by a memoized search over
the sets of cities placed, apart from the logged search) and the log stays within ``--output-len``'s tolerance.
The engine's filler is further flights that each touch a city not on the trip, so they cannot change the search.
"""

from __future__ import annotations

import functools
import math
import random
import re
from dataclasses import dataclass

from lcgen.assemble import CONTEXT_SLOT, Needle, Plan, SamplePlan, split_prompt
from lcgen.errors import ParamError
from lcgen.frames import frame_lines, render_frame
from lcgen.params import FamilyParams
from lcgen.render import render

from ._proc_common import closest_size, invented_names, refuse_input, refuse_output, tolerance, within

MIN_CITIES = 2
MAX_CITIES = 30
STAY = (2, 6)  # days per city (at least 2, so the next city always starts on a later day)
BASE_SHARE = 0.5  # K is chosen so that the trace with no decoy flight is about this share of --output-len
ATTEMPTS = 64  # instances drawn at most per sample
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
COUNT_LIMIT = 200_000  # states the uniqueness count may visit before a decoy is refused as too costly to prove


@dataclass(frozen=True, kw_only=True)
class Knobs(FamilyParams):
    """travel_planning has no knobs of its own: --output-len sets the number of cities and the backtracking."""


@dataclass(frozen=True)
class City:
    name: str
    days: int
    start: int | None = None  # fixed dates (first and last day), or None
    end: int | None = None


@functools.lru_cache(maxsize=None)
def lines() -> dict[str, str]:
    """The trace's line frames by name (templates/procedures/travel/lines.j2)."""
    out = {}
    for line in frame_lines("procedures/travel/lines.j2"):
        name, _, frame = line.partition(" = ")
        out[name.strip()] = frame
    return out


def _line(name: str, **values: object) -> str:
    return render_frame(lines()[name], **values)


def flight_line(src: str, dst: str) -> str:
    """One line of the flight list, as a needle or a filler unit: " - from A to B\n". The leading space makes every
    line start at a pre-tokenizer boundary for byte-level BPE (after the previous line's newline) and for
    SentencePiece-like tokenizers alike (a Metaspace pre-tokenizer adds no "▁" before a text that starts with a
    space), so each line counts alone as it does in the list."""
    return " " + render_frame(_flight_frame(), src=src, dst=dst) + "\n"


@functools.lru_cache(maxsize=None)
def _flight_frame() -> str:
    return frame_lines("procedures/travel/flight.j2")[0]


def _indent(level: int) -> str:
    return "" if level == 0 else " " * level + "|- "


class _TooLong(Exception):
    pass


@dataclass
class Search:
    lines: list[str]
    plan: list[tuple[City, int, int]] | None
    misses: list[tuple[str, str]]  # (from, to) dropped for lack of a direct flight, in log order
    backtracks: int


def search(cities: list[City], flights: set[tuple[str, str]], cap: int | None = None) -> Search:
    """LongProc's depth-first search, logged line by line; _TooLong past ``cap`` lines."""
    fixed = sorted((c for c in cities if c.start is not None), key=lambda c: c.start)
    out: list[str] = []
    misses: list[tuple[str, str]] = []
    fails = [0]
    start_point = lines()["start_point"]

    def visit(day: int, plan: list[tuple[City, int, int]], free: list[City]):
        if cap is not None and len(out) > cap:
            raise _TooLong
        d = 2 * len(plan)
        out.append(_indent(d) + _line("node", day=day, plan=", ".join(c.name for c, _, _ in plan)))
        if len(plan) == len(cities):
            out.append(_indent(d) + _line("done", count=len(cities)))
            return plan
        today = next((c for c in fixed if c.start == day), None)
        if today is not None:
            out.append(_indent(d) + _line("fixed_yes", day=day, city=today.name))
            options = [today]
        else:
            out.append(_indent(d) + _line("fixed_no", day=day, cities=", ".join(c.name for c in free)))
            options = free
        src = plan[-1][0].name if plan else start_point
        following = next((c for c in fixed if c.start > day), None)
        pad = _indent(d + 1)
        for c in options:
            end = day + c.days - 1
            out.append(pad + _line("try", city=c.name, start=day, days=c.days, end=end))
            if plan and (src, c.name) not in flights:
                out.append(pad + _line("flight_no", src=src, city=c.name))
                misses.append((src, c.name))
                continue
            out.append(pad + _line("flight_yes", src=src, city=c.name))
            if following is None:
                out.append(pad + _line("next_none", day=day))
            elif end > following.start:
                out.append(pad + _line("next_bad", day=day, fixed_city=following.name,
                                       fixed_first=following.start, fixed_last=following.end, city=c.name, end=end))
                continue
            else:
                out.append(pad + _line("next_ok", day=day, fixed_city=following.name,
                                       fixed_first=following.start, fixed_last=following.end, city=c.name, end=end))
            out.append(pad + _line("go"))
            found = visit(end, plan + [(c, day, end)], [f for f in free if f is not c])
            if found is not None:
                return found
        out.append(pad + _line("fail", day=day))
        fails[0] += 1
        return None

    head = [_line("intro")]
    if fixed:
        head += [_line("fixed_head")] + [_line("fixed_item", city=c.name, start=c.start, end=c.end) for c in fixed]
    else:
        head.append(_line("fixed_none"))
    free = [c for c in cities if c.start is None]
    if free:
        head += [_line("free_head")] + [_line("free_item", city=c.name, days=c.days) for c in free]
    else:
        head.append(_line("free_none"))
    plan = visit(1, [], free)
    return Search(head + [""] + out, plan, misses, fails[0])


def render_answer(found: Search) -> str:
    """The reference: the procedure block, then the plan block."""
    assert found.plan is not None
    plan_lines = []
    for i, (c, start, end) in enumerate(found.plan):
        if i == 0:
            plan_lines.append(_line("plan_first", start=start, end=end, city=c.name, days=c.days))
        else:
            plan_lines.append(_line("plan_visit", start=start, end=end, city=c.name, days=c.days))
        if i + 1 < len(found.plan):
            plan_lines.append(_line("plan_fly", day=end, src=c.name, dst=found.plan[i + 1][0].name))
    return ("<Solving Procedure>\n" + "\n".join(found.lines) + "\n</Solving Procedure>\n<Plan>\n"
            + "\n".join(plan_lines) + "\n</Plan>")


def count_trips(cities: list[City], flights: set[tuple[str, str]], limit: int = 2) -> int:
    """Valid itineraries (every city once, stays chained day to day, fixed cities on their dates, a direct flight
    between consecutive cities), counted up to ``limit`` by a memoized search over (cities placed, last city), written
    apart from :func:`search`. -1 when it would visit more than COUNT_LIMIT states."""
    k = len(cities)
    succ = [[j for j in range(k) if (cities[i].name, cities[j].name) in flights] for i in range(k)]
    fixed_at = {c.start: j for j, c in enumerate(cities) if c.start is not None}
    full = (1 << k) - 1
    memo: dict[tuple[int, int], int] = {}

    def ways(mask: int, last: int, day: int) -> int:
        if mask == full:
            return 1
        key = (mask, last)
        if key in memo:
            return memo[key]
        if len(memo) > COUNT_LIMIT:
            raise _TooLong
        total = 0
        must = fixed_at.get(day)
        for j in (succ[last] if last >= 0 else range(k)):
            if mask >> j & 1:
                continue
            c = cities[j]
            if c.start is not None and c.start != day:
                continue
            if must is not None and j != must:
                continue
            total += ways(mask | 1 << j, j, day + c.days - 1)
            if total >= limit:
                break
        memo[key] = min(total, limit)
        return memo[key]

    try:
        return ways(0, -1, 1)
    except _TooLong:
        return -1


@dataclass
class Instance:
    cities: list[City]  # in the question's order
    order: list[str]  # the hidden itinerary
    flights: set[tuple[str, str]]
    found: Search
    answer: str
    tokens: int
    decoys: int = 0


def _draw(rng: random.Random, names: list[str], k: int) -> tuple[list[City], list[str], set[tuple[str, str]]]:
    """A hidden itinerary of k cities, its fixed cities and the question's order; the flights are its own."""
    trip = rng.sample(names, k)
    days = [rng.randint(*STAY) for _ in range(k)]
    n_fixed = rng.randint(0, max(1, k // 3)) if k > 2 else rng.randint(0, 1)
    fixed_pos = set(rng.sample(range(k), n_fixed))
    cities, day = {}, 1
    for i, (name, n) in enumerate(zip(trip, days)):
        cities[name] = City(name, n, day, day + n - 1) if i in fixed_pos else City(name, n)
        day += n - 1
    listed = list(trip)
    rng.shuffle(listed)
    flights = {(trip[i], trip[i + 1]) for i in range(k - 1)}
    return [cities[n] for n in listed], trip, flights


def _instance(cities, order, flights, tok, cap) -> Instance | None:
    try:
        found = search(cities, flights, cap)
    except _TooLong:
        return None
    if found.plan is None or [c.name for c, _, _ in found.plan] != order:
        return None
    answer = render_answer(found)
    return Instance(cities, order, flights, found, answer, tok.count(answer))


def _fill(rng: random.Random, inst: Instance, target: int, tok, cap: int) -> Instance:
    """Add decoy flights the search had dropped, one at a time, while the trip stays unique and the trace stays
    under the tolerance's top, until the trace is within tolerance of ``target`` (or no decoy is left)."""
    tol = tolerance(target)
    refused: set[tuple[str, str]] = set()
    for _ in range(len(inst.cities) ** 2 + 1):  # each round adds or refuses one pair: bounded by the pairs
        if inst.tokens >= target - tol // 2:
            break
        candidates = sorted(set(inst.found.misses) - refused)
        if not candidates:
            break
        pair = rng.choice(candidates)
        flights = inst.flights | {pair}
        nxt = _instance(inst.cities, inst.order, flights, tok, cap)
        if nxt is None or nxt.tokens > target + tol or count_trips(inst.cities, flights) != 1:
            refused.add(pair)
            continue
        nxt.decoys = inst.decoys + 1
        inst = nxt
    return inst


def _base_tokens(seed: int, names: list[str], k: int, tok, cap: int) -> int:
    cities, order, flights = _draw(random.Random(seed), names, k)
    inst = _instance(cities, order, flights, tok, cap)
    return cap * 100 if inst is None else inst.tokens


def choose(rng: random.Random, names: list[str], target: int, tok) -> Instance:
    """The instance whose trace is within tolerance of ``target``; ParamError in one line when none is drawn."""
    cap = max(200, 4 * target // 10)  # lines: a log line is at least ~12 tokens
    seed = rng.getrandbits(64)
    hi = min(MAX_CITIES, len(names))
    k = closest_size(lambda n: _base_tokens(seed + n, names, n, tok, cap), MIN_CITIES, hi,
                     max(1, int(BASE_SHARE * target)))
    best: Instance | None = None
    for attempt in range(ATTEMPTS):
        cities, order, flights = _draw(random.Random(rng.getrandbits(64)), names, k)
        inst = _instance(cities, order, flights, tok, cap)
        too_long = inst is None or inst.tokens > target + tolerance(target)
        if not too_long:
            inst = _fill(rng, inst, target, tok, cap)
            if within(inst.tokens, target):
                return inst
        if inst is not None and (best is None or abs(inst.tokens - target) < abs(best.tokens - target)):
            best = inst
        if attempt % 2 == 1:  # two draws at each size, then one city fewer (too long) or more (too short)
            k = max(MIN_CITIES, k - 1) if too_long else min(hi, k + 1)
    got = best.tokens if best is not None else 0
    if got > target and k == MIN_CITIES:
        raise refuse_output(target, got, f"even a trip of {MIN_CITIES} cities with no backtracking has a longer "
                            "search log and plan")
    if got > target or k < hi:  # near the floor one backtrack adds a whole branch: the sizes jump past the target
        raise refuse_output(target, got, f"the {ATTEMPTS} trips drawn near that size all jump past it (one more "
                            "backtrack adds a whole branch); try another --seed or a nearby --output-len")
    raise refuse_output(target, got, f"no trip of {MIN_CITIES}-{MAX_CITIES} cities drawn in {ATTEMPTS} tries has a "
                        "search log that long")


class OtherFlights:
    """Filler: one flight line each (:func:`flight_line`), touching at least one city that is not on the trip (so
    the search never reads it), never a flight listed twice."""

    def __init__(self, rng: random.Random, trip: list[str], others: list[str], taken: set[tuple[str, str]]):
        self.rng = rng
        self.trip = trip
        self.others = others
        self.used = set(taken)  # membership only

    def draw(self) -> str:
        rng = self.rng
        for _ in range(1000):
            roll = rng.random()
            if roll < 0.25:
                a, b = rng.choice(self.trip), rng.choice(self.others)
            elif roll < 0.5:
                a, b = rng.choice(self.others), rng.choice(self.trip)
            else:
                a, b = rng.choice(self.others), rng.choice(self.others)
            if a != b and (a, b) not in self.used:
                self.used.add((a, b))
                return flight_line(a, b)
        raise ParamError("--len: the pool of other cities ran out of distinct flights; use a shorter --len")


def _demo() -> tuple[list[str], str, str]:
    """The prompt's worked example: its question lines, its flights, its reference answer."""
    cities, flights = [], []
    for line in frame_lines("procedures/travel/demo.j2"):
        kind, _, rest = line.partition(" = ")
        words = rest.split()
        if kind.strip() == "city":
            nums = [int(w) for w in words[1:]]
            cities.append(City(words[0], nums[0], *nums[1:]))
        else:
            flights.append((words[0], words[1]))
    found = search(cities, set(flights))
    days = sum(c.days for c in cities) - len(cities) + 1
    question = render("procedures/travel/question.j2", days=days, cities=[_row(c) for c in cities]).rstrip("\n")
    frame = frame_lines("procedures/travel/flight.j2")[0]
    listed = ", ".join(render_frame(frame, src=a, dst=b).lstrip("- ") for a, b in flights)
    return question.split("\n"), listed, render_answer(found)


def _row(c: City) -> dict:
    return {"city": c.name, "days": c.days, "fixed": c.start is not None, "start": c.start, "end": c.end}


def build(p, rng: random.Random, length: int, tok) -> SamplePlan:
    """Plan one travel_planning sample: the instance whose trace hits --output-len, its flights as needles."""
    target = p.output_len
    demo_question, demo_flights, demo_answer = _demo()
    demo_names = [line.partition(" = ")[2].split()[0] for line in frame_lines("procedures/travel/demo.j2")
                  if line.startswith("city")]
    n_others = max(40, math.ceil(math.sqrt(length)) + 20)
    names = invented_names(random.Random(rng.getrandbits(64)), MAX_CITIES + n_others, taken=demo_names)
    trip_pool, others = names[:MAX_CITIES], names[MAX_CITIES:]
    inst = choose(random.Random(rng.getrandbits(64)), trip_pool, target, tok)
    trip = [c.name for c in inst.cities]
    flights = sorted(inst.flights)
    needles = [Needle(flight_line(a, b), rng.uniform(0.0, 100.0), order=i, recorded=False)
               for i, (a, b) in enumerate(flights)]
    days = sum(c.days for c in inst.cities) - len(inst.cities) + 1
    question = render("procedures/travel/question.j2", days=days, cities=[_row(c) for c in inst.cities]).rstrip("\n")
    shown = {name: _PLACEHOLDER.sub(r"<\1>", frame) for name, frame in lines().items()}
    prompt = render("procedures/travel/prompt.j2", lines=shown, demo_question=demo_question,
                    demo_flights=demo_flights, demo_answer=demo_answer, context=CONTEXT_SLOT, question=question)
    head, tail = split_prompt(prompt)
    ctx_open, ctx_close = "<Flights>\n", " </Flights>"  # the close, counted alone too, starts with a space
    fixed_n = tok.count(head + ctx_open) + tok.count(ctx_close + tail)
    needed = fixed_n + sum(tok.counts([n.text for n in needles]))
    if needed > length:
        raise refuse_input(length, needed, f"the prompt (with its worked example) and the {len(trip)}-city "
                           f"trip's {len(flights)} flights")
    filler = OtherFlights(random.Random(rng.getrandbits(64)), trip, others, set(inst.flights))
    plan = Plan(head=head, tail=tail, ctx_open=ctx_open, ctx_close=ctx_close, needles=needles, filler=filler)
    meta = {
        "cities": len(trip),
        "fixed_cities": sum(c.start is not None for c in inst.cities),
        "days": days,
        "trip_flights": len(flights),
        "decoy_flights": inst.decoys,
        "search_lines": len([ln for ln in inst.found.lines if ln]),
        "backtracks": inst.found.backtracks,
        "itinerary": inst.order,
    }
    return SamplePlan(plan=plan, question=question, answer=inst.answer, answers=[inst.answer], meta=meta)
