"""Oracle for procedures/path_traversal: parse every city sentence of the world back, search the graph, write the
route.

Written apart from the generator: the world is read line by line, each line one space and then a frame of
``templates/procedures/path/city.j2`` turned into a regular expression (the space keeps every line, and the close
" </World>", additive for SentencePiece-like tokenizers), every inconsistency is a problem (a line that does not
parse or does not start with exactly one space, a close not after one space, a city listed twice, a connection
to a city that is not listed, a city connecting to itself), the route is found by a plain breadth-first search
over the parsed connections, and a depth-first count of simple paths checks that it is the only one.
"""

from __future__ import annotations

import re
from collections import deque

from lcgen.frames import frame_lines, frame_regex, render_frame
from lcgen.oracle import OracleInput, OracleResult
from lcgen.render import render

_OPEN = "<World>\n"
_CLOSE = "</World>"
_LEAD = " "  # what starts every city line and the close
_NAME = r"[A-Z][a-z]+"
_TRANSIT = r"bus|train|plane|ferry"
_PATH_BUDGET = 2_000_000  # DFS steps at most while counting simple paths (linear when every city has one way out)


def _city_patterns() -> list[re.Pattern[str]]:
    return [frame_regex(f, {"city": _NAME, "dest": _NAME, "transit": _TRANSIT})
            for f in frame_lines("procedures/path/city.j2")]


def _question_pattern() -> re.Pattern[str]:
    return frame_regex(frame_lines("procedures/path/question.j2")[0], {"src": _NAME, "dst": _NAME})


def _empty(problems: list[str], span: tuple[int, int] = (0, 0)) -> OracleResult:
    return OracleResult(answer="", answers=[""], needle_offsets=[], anchor=None, context_span=span,
                        problems=problems)


def count_simple_paths(out: dict[str, list[str]], src: str, dst: str, cap: int = 2) -> int | None:
    """Simple paths from ``src`` to ``dst`` (stopping at ``cap``); None when the search is over its budget."""
    found, steps = 0, 0
    stack = [(src, iter(out.get(src, ())))]
    on_path = {src}
    while stack:
        steps += 1
        if steps > _PATH_BUDGET:
            return None
        city, nexts = stack[-1]
        nxt = next(nexts, None)
        if nxt is None:
            stack.pop()
            on_path.discard(city)
            continue
        if nxt == dst:
            found += 1
            if found >= cap:
                return found
        elif nxt not in on_path:
            on_path.add(nxt)
            stack.append((nxt, iter(out.get(nxt, ()))))
    return found


def solve(sample: OracleInput) -> OracleResult:
    text, problems = sample.input, []
    if text.count(_OPEN) != 1 or text.count(_CLOSE) != 1:
        return _empty([f"the input must hold {_OPEN.strip()} and {_CLOSE} exactly once"])
    start = text.index(_OPEN)
    close = text.find(_CLOSE, start)  # the tag; the context's close is the space before it and the tag
    if close < 0:
        return _empty([f"{_CLOSE} does not follow {_OPEN.strip()}"])
    span = (start, close + len(_CLOSE))
    body_start, body_end = start + len(_OPEN), close - len(_LEAD)
    if body_end < body_start or text[body_end:close] != _LEAD:
        problems.append(f"{_CLOSE} does not follow one space at the start of its line")
        body_end = close

    patterns = _city_patterns()
    edges: dict[str, list[tuple[str, str]]] = {}  # city -> its connections out, in text order
    lower: dict[str, str] = {}
    unit_offsets: list[int] = []
    pos = body_start
    while pos < body_end:
        stop = text.find("\n", pos, body_end)
        if stop < 0:
            problems.append(f"the world does not end with a complete line at character {pos}")
            break
        line = text[pos:stop]
        unit_offsets.append(pos)
        lead = line.startswith(_LEAD) and not line[len(_LEAD):].startswith((" ", "\t"))
        m = next((m for m in (p.fullmatch(line[len(_LEAD):]) for p in patterns) if m is not None), None) \
            if lead else None
        if not lead:
            problems.append(f"line at character {pos} does not start with exactly one space: {line[:80]!r}")
        elif m is None:
            problems.append(f"unparsable line at character {pos}: {line[:80]!r}")
        else:
            city, dest, transit = m.group("city"), m.group("dest"), m.group("transit")
            if city.lower() in lower:
                problems.append(f"{city} is listed more than once" + ("" if lower[city.lower()] == city else
                                                                      f" (also as {lower[city.lower()]})"))
            lower.setdefault(city.lower(), city)
            if dest == city:
                problems.append(f"{city} connects to itself")
            edges.setdefault(city, []).append((dest, transit))
        pos = stop + 1
    for city, outs in edges.items():
        if len(outs) != 1:
            problems.append(f"{city} has {len(outs)} outgoing connections, not one")
        for dest, _ in outs:
            if dest not in edges:
                problems.append(f"{city} connects to {dest}, which is not a listed city"
                                + (" (listed with other case)" if dest.lower() in lower else ""))

    qm = _question_pattern().fullmatch(sample.question.strip())
    if qm is None:
        problems.append(f"the question cannot be read: {sample.question[:80]!r}")
        return OracleResult(answer="", answers=[""], needle_offsets=[], anchor=None, context_span=span,
                            unit_offsets=unit_offsets, problems=problems)
    src, dst = qm.group("src"), qm.group("dst")
    if sample.question.strip() not in text:
        problems.append("the question is not in the input")
    for city in (src, dst):
        if city not in edges:
            problems.append(f"{city}, named in the question, is not a listed city")
    if src == dst:
        problems.append("the question asks for a route from a city to itself")

    # Breadth-first search over the parsed connections (any number of them per city).
    out = {city: sorted({d for d, _ in outs}) for city, outs in edges.items()}
    parent: dict[str, str] = {src: src}
    queue = deque([src])
    while queue and dst not in parent:
        city = queue.popleft()
        for nxt in out.get(city, ()):
            if nxt not in parent:
                parent[nxt] = city
                queue.append(nxt)
    if src == dst or dst not in parent:
        if src != dst:
            problems.append(f"{dst} cannot be reached from {src}")
        return OracleResult(answer="", answers=[""], needle_offsets=[], anchor=None, context_span=span,
                            unit_offsets=unit_offsets, problems=problems)
    route = [dst]
    while route[-1] != src:
        route.append(parent[route[-1]])
    route.reverse()
    paths = count_simple_paths(out, src, dst)
    if paths is None:
        problems.append(f"the simple paths from {src} to {dst} could not be counted within the search budget")
    elif paths != 1:
        problems.append(f"more than one route leads from {src} to {dst}")
    hops = []
    for a, b in zip(route, route[1:]):
        ways = sorted({t for d, t in edges[a] if d == b})
        if len(ways) != 1:
            problems.append(f"{a} connects to {b} by {' and '.join(ways)}")
        hops.append((a, ways[0], b))

    step = frame_lines("procedures/path/step.j2")[0]
    lines = [render_frame(step, src=a, transit=t, dest=b) for a, t, b in hops]
    answer = render("procedures/path/trace.j2", lines=lines).rstrip("\n")
    return OracleResult(answer=answer, answers=[answer], needle_offsets=[], anchor=None, context_span=span,
                        unit_offsets=unit_offsets, problems=problems, measured={"hops": len(hops)})
