"""Oracle for procedures/travel_planning: read the trip and every flight back out of ``input``, run the stated
search again (written here, apart from the generator) to write its log and plan, and count every valid itinerary
with a forward pass over the sets of cities placed: exactly one must exist."""

from __future__ import annotations

import functools
import re

from lcgen.frames import frame_lines, frame_regex, render_frame
from lcgen.oracle import OracleInput, OracleResult

OPEN, CLOSE = "<Flights>\n", " </Flights>"
LEAD = " "  # every line of the flight list starts with one space
STATE_LIMIT = 400_000  # (cities placed, last city) states the count may hold before it gives up
_TRIP = re.compile(r"^Question: Plan a trip of (\d+) days in total that visits these (\d+) cities")
_CITY = re.compile(r"^- (\w+): (\d+) days(?:, fixed from Day (\d+) to Day (\d+) for an event there)?\.$")


@functools.lru_cache(maxsize=None)
def _frames() -> dict[str, str]:
    return {name.strip(): frame for name, _, frame in
            (line.partition(" = ") for line in frame_lines("procedures/travel/lines.j2"))}


@functools.lru_cache(maxsize=None)
def _flight_line() -> re.Pattern[str]:
    return frame_regex(frame_lines("procedures/travel/flight.j2")[0], {"src": r"\S+", "dst": r"\S+"})


def _say(name: str, **values: object) -> str:
    return render_frame(_frames()[name], **values)


def _read_trip(question: str, problems: list[str]):
    """(total days, [(name, days, first, last)] in the question's order)."""
    rows = question.split("\n")
    head = _TRIP.match(rows[0]) if rows else None
    if head is None:
        raise ValueError("the question does not state the trip")
    total, k = int(head[1]), int(head[2])
    cities = []
    for row in rows[1:]:
        m = _CITY.match(row)
        if m is None:
            problems.append(f"unreadable line in the question: {row[:60]!r}")
            continue
        first = int(m[3]) if m[3] else None
        last = int(m[4]) if m[4] else None
        cities.append((m[1], int(m[2]), first, last))
    if len(cities) != k:
        problems.append(f"the question names {k} cities and lists {len(cities)}")
    names = [c[0] for c in cities]
    if len(set(names)) != len(names):
        problems.append("a city is listed twice")
    if sum(c[1] - 1 for c in cities) + 1 != total:
        problems.append(f"the stays do not add up to {total} days (flight days counted twice)")
    starts = []
    for name, days, first, last in cities:
        if days < 2:
            problems.append(f"{name} has a stay of {days} day(s); the search needs at least 2")
        if first is not None:
            starts.append(first)
            if last - first + 1 != days or first < 1 or last > total:
                problems.append(f"{name}'s fixed dates Day {first}-{last} do not fit its {days} days in the trip")
    if len(set(starts)) != len(starts):
        problems.append("two fixed cities arrive on the same day")
    return total, cities


def _read_flights(text: str, problems: list[str]):
    """The context span, the start of each line, and the flights in list order. A line is one space, a flight in
    the stated format, then a newline; anything else is unreadable."""
    if text.count(OPEN) != 1:
        raise ValueError(f"{OPEN.strip()} occurs {text.count(OPEN)} times in the input")
    start = text.index(OPEN)
    stop = text.find(CLOSE, start)
    if stop < 0:
        raise ValueError("the flight list is not closed")
    pattern = _flight_line()
    offsets, flights, pos = [], [], start + len(OPEN)
    while pos < stop:
        eol = text.find("\n", pos, stop)
        row = text[pos:stop if eol < 0 else eol]
        m = pattern.fullmatch(row[len(LEAD):]) if row.startswith(LEAD) else None
        if m is None or eol < 0:
            problems.append(f"unreadable line in the flight list at character {pos}: {row[:60]!r}")
        else:
            flights.append((m["src"], m["dst"]))
        offsets.append(pos)
        pos = stop if eol < 0 else eol + 1
    return (start, stop + len(CLOSE)), offsets, flights


def _count(cities, links: dict[str, set[str]]) -> int:
    """Valid itineraries, counted forward layer by layer over (cities placed, last city); -1 past STATE_LIMIT."""
    index = {c[0]: i for i, c in enumerate(cities)}
    arrive = {c[2]: c[0] for c in cities if c[2] is not None}
    layer: dict[tuple[int, str | None], int] = {(0, None): 1}
    seen = 0
    for _ in range(len(cities)):
        nxt: dict[tuple[int, str | None], int] = {}
        for (placed, last), ways in sorted(layer.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
            day = 1 + sum(cities[i][1] - 1 for i in range(len(cities)) if placed >> i & 1)
            for name, _, first, _ in cities:
                bit = 1 << index[name]
                if placed & bit or (last is not None and name not in links.get(last, ())):
                    continue
                if (first is not None and first != day) or (day in arrive and arrive[day] != name):
                    continue
                key = (placed | bit, name)
                nxt[key] = min(nxt.get(key, 0) + ways, 2)
        seen += len(nxt)
        if seen > STATE_LIMIT:
            return -1
        layer = nxt
    return min(sum(layer.values()), 2)


def _solve_log(cities, links: dict[str, set[str]]):
    """The stated search, logged: (log lines, plan as [(name, days, first day, last day)] or None)."""
    fixed = sorted((c for c in cities if c[2] is not None), key=lambda c: c[2])
    free = [c for c in cities if c[2] is None]
    log = [_say("intro")]
    if fixed:
        log.append(_say("fixed_head"))
        log += [_say("fixed_item", city=c[0], start=c[2], end=c[3]) for c in fixed]
    else:
        log.append(_say("fixed_none"))
    if free:
        log.append(_say("free_head"))
        log += [_say("free_item", city=c[0], days=c[1]) for c in free]
    else:
        log.append(_say("free_none"))
    log.append("")

    def pad(level: int) -> str:
        return " " * level + "|- " if level else ""

    def step(day: int, plan: list, left: list):
        here, inner = pad(2 * len(plan)), pad(2 * len(plan) + 1)
        log.append(here + _say("node", day=day, plan=", ".join(s[0] for s in plan)))
        if len(plan) == len(cities):
            log.append(here + _say("done", count=len(cities)))
            return plan
        arriving = [c for c in fixed if c[2] == day]
        if arriving:
            log.append(here + _say("fixed_yes", day=day, city=arriving[0][0]))
        else:
            log.append(here + _say("fixed_no", day=day, cities=", ".join(c[0] for c in left)))
        origin = plan[-1][0] if plan else _frames()["start_point"]
        later = [c for c in fixed if c[2] > day]
        for name, days, _, _ in (arriving[:1] or left):
            leave = day + days - 1
            log.append(inner + _say("try", city=name, start=day, days=days, end=leave))
            if plan and name not in links.get(origin, ()):
                log.append(inner + _say("flight_no", src=origin, city=name))
                continue
            log.append(inner + _say("flight_yes", src=origin, city=name))
            if not later:
                log.append(inner + _say("next_none", day=day))
            else:
                f = later[0]
                values = dict(day=day, fixed_city=f[0], fixed_first=f[2], fixed_last=f[3], city=name,
                              end=leave)
                if leave > f[2]:
                    log.append(inner + _say("next_bad", **values))
                    continue
                log.append(inner + _say("next_ok", **values))
            log.append(inner + _say("go"))
            got = step(leave, plan + [(name, days, day, leave)], [c for c in left if c[0] != name])
            if got:
                return got
        log.append(inner + _say("fail", day=day))
        return None

    return log, step(1, [], free)


def _render(log: list[str], plan) -> str:
    rows = []
    for i, (name, days, first, last) in enumerate(plan):
        rows.append(_say("plan_first" if i == 0 else "plan_visit", start=first, end=last, city=name, days=days))
        if i + 1 < len(plan):
            rows.append(_say("plan_fly", day=last, src=name, dst=plan[i + 1][0]))
    return ("<Solving Procedure>\n" + "\n".join(log) + "\n</Solving Procedure>\n<Plan>\n" + "\n".join(rows)
            + "\n</Plan>")


def solve(sample: OracleInput) -> OracleResult:
    problems: list[str] = []
    total, cities = _read_trip(sample.question, problems)
    if sample.question not in sample.input:
        problems.append("the question is not in the input")
    span, offsets, flights = _read_flights(sample.input, problems)
    on_trip = {c[0] for c in cities}
    links: dict[str, set[str]] = {}
    listed: set[tuple[str, str]] = set()
    for a, b in flights:
        if (a, b) in listed:
            problems.append(f"the flight from {a} to {b} is listed twice")
        listed.add((a, b))
        if a == b:
            problems.append(f"a flight from {a} to itself")
        if a in on_trip and b in on_trip:
            links.setdefault(a, set()).add(b)
    trips = _count(cities, links)
    if trips == -1:
        problems.append(f"the itineraries could not be counted within {STATE_LIMIT:,} states")
    elif trips != 1:
        problems.append("no valid itinerary exists" if trips == 0 else "more than one itinerary is valid")
    log, plan = _solve_log(cities, links)
    if plan is None:
        problems.append("the search finds no plan")
        answer = ""
    else:
        answer = _render(log, plan)
    return OracleResult(answer=answer, answers=[answer], needle_offsets=[], anchor=None, context_span=span,
                        unit_offsets=offsets, problems=problems,
                        measured={"cities": len(cities), "days": total,
                                  "trip_flights": sum(len(v) for v in links.values())})
