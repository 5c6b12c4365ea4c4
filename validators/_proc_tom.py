"""Oracle for procedures/theory_of_mind: read the house, the question and every line of the story back out of
``input``, check each step is legal and every other line names nothing of the story, simulate the story with its
own code, and write the trace the prompt asks for. Every story line is a space, its text and a newline, and the
story closes with " </story>"; a line laid out otherwise is a problem."""

from __future__ import annotations

import re

from lcgen.frames import frame_lines, frame_regex
from lcgen.oracle import OracleInput, OracleResult
from lcgen.render import render

_T = "procedures/tom/"
_OPEN, _CLOSE = "<story>\n", " </story>"
_LEAD = " "  # every story line starts with one space (so each counts alone as in context for every tokenizer)
_NAME = {"agent": r"[A-Z][a-z]+", "room": r"[a-z]+", "container": r"[a-z]+", "object": r"[a-z]+",
         "first": r"[a-z]+", "second": r"[a-z]+", "k": r"[0-9]+", "clauses": r".+"}


def _regex(name: str) -> re.Pattern[str]:
    return frame_regex(frame_lines(_T + name)[0], _NAME)


def _house(head: str, problems: list[str]) -> tuple[list[str], dict[str, int]]:
    """The rooms, in the order the prompt lists them, and the room of every container."""
    rooms: list[str] = []
    room_of: dict[str, int] = {}
    pattern = _regex("house.j2")
    for line in head.split("\n"):
        m = pattern.fullmatch(line)
        if m is None:
            continue
        if m["room"] in rooms:
            problems.append(f"the house lists the {m['room']} twice")
        rooms.append(m["room"])
        for c in (m["first"], m["second"]):
            if c in room_of or m["first"] == m["second"]:
                problems.append(f"the {c} is listed in two places")
            room_of[c] = len(rooms) - 1
    if len(rooms) < 2:
        problems.append(f"the house has {len(rooms)} rooms")
    return rooms, room_of


def _step_zero(body: str, rooms: list[str], room_of: dict[str, int], problems: list[str]):
    """(agents with their rooms, objects with their containers), in the order Step 0 names them."""
    agent_clause, object_clause = _regex("place_agent.j2"), _regex("place_object.j2")
    agents: dict[str, int] = {}
    objects: dict[str, str] = {}
    pos = 0
    while pos < len(body):
        m = agent_clause.match(body, pos)
        if m is not None and m["room"] in rooms:
            if m["agent"] in agents:
                problems.append(f"Step 0 places {m['agent']} twice")
            agents[m["agent"]] = rooms.index(m["room"])
        else:
            m = object_clause.match(body, pos)
            if m is None or m["container"] not in room_of:
                problems.append(f"Step 0 cannot be read at {body[pos:pos + 40]!r}")
                break
            if m["object"] in objects:
                problems.append(f"Step 0 places the {m['object']} twice")
            objects[m["object"]] = m["container"]
        pos = m.end()
        if pos < len(body):
            if body[pos] != " ":
                problems.append(f"Step 0 cannot be read at {body[pos:pos + 40]!r}")
                break
            pos += 1
    return agents, objects


def _names_problems(entities: list[str]) -> list[str]:
    low = [e.casefold() for e in entities]
    out = []
    for i, a in enumerate(low):
        for j, b in enumerate(low):
            if i != j and a in b:
                out.append(f"the name {entities[i]!r} is part of {entities[j]!r}" if a != b else
                           f"the name {entities[i]!r} is used twice")
    return sorted(set(out))


def solve(sample: OracleInput) -> OracleResult:
    text = sample.input
    problems: list[str] = []
    if text.count(_OPEN) != 1:
        raise ValueError(f"the input has {text.count(_OPEN)} story openings")
    start = text.index(_OPEN)
    end = text.find(_CLOSE.lstrip(), start)
    if end < 0:
        raise ValueError("the story is not closed")
    span = (start, end + len(_CLOSE.lstrip()))
    if text[end - 1] == _CLOSE[0]:
        end -= 1
    else:
        problems.append(f"the story's close does not start with a space: {text[end - 10:span[1]]!r}")
    rooms, room_of = _house(text[:start], problems)
    q = re.fullmatch(r"Question: Where does ([A-Z][a-z]+) believe the ([a-z]+) is\?", sample.question)
    if q is None:
        raise ValueError(f"the question cannot be read: {sample.question!r}")
    asked_agent, asked_object = q.group(1), q.group(2)

    body = text[start + len(_OPEN):end]
    if body and not body.endswith("\n"):
        problems.append("the story's last line does not end before the closing tag")
    offsets, lines, pos = [], [], start + len(_OPEN)
    for line in body.split("\n")[:-1] if body.endswith("\n") else body.split("\n"):
        offsets.append(pos)
        pos += len(line) + 1
        if not line.startswith(_LEAD) or line[len(_LEAD):len(_LEAD) + 1].isspace():
            problems.append(f"a story line does not start with exactly one space: {line[:60]!r}")
        lines.append(line[len(_LEAD):] if line.startswith(_LEAD) else line)

    zero = _regex("step_zero.j2")
    forms = {"go": _regex("step_go.j2"), "move": _regex("step_move.j2"), "carry": _regex("step_carry.j2")}
    steps: list[tuple[str, re.Match[str]]] = []
    narration: list[str] = []
    agents: dict[str, int] = {}
    objects: dict[str, str] = {}
    for line in lines:
        if not line.startswith("Step"):
            narration.append(line)
            continue
        if not steps:
            m = zero.fullmatch(line)
            if m is None:
                problems.append(f"the first step line is not Step 0: {line[:60]!r}")
                continue
            agents, objects = _step_zero(m["clauses"], rooms, room_of, problems)
            steps.append(("zero", m))
            continue
        read = [(kind, m) for kind, pattern in forms.items() if (m := pattern.fullmatch(line)) is not None]
        if len(read) != 1:
            problems.append(f"a step line cannot be read: {line[:60]!r}" if not read else
                            f"a step line reads as {len(read)} actions: {line[:60]!r}")
            continue
        kind, m = read[0]
        if int(m["k"]) != len(steps):
            problems.append(f"step {m['k']} comes where step {len(steps)} should")
        steps.append((kind, m))
    if not steps:
        raise ValueError("the story has no Step 0")
    entities = [*agents, *objects, *rooms, *room_of]
    problems.extend(_names_problems(entities))
    if asked_agent not in agents or asked_object not in objects:
        raise ValueError(f"the question asks about {asked_agent} and the {asked_object}, not both in Step 0")
    words = [e.casefold() for e in entities]
    for line in narration:
        low = line.casefold()
        if not line.strip():
            problems.append("a blank line in the story")
        named = [w for w in words if w in low]
        if named or "step" in low:
            problems.append(f"a narration line names {', '.join(named) or 'a step'}: {line[:60]!r}")

    # Simulate: where everyone and everything is, and every person's belief about the asked object.
    agent_names = list(agents)
    where = dict(agents)
    inside = dict(objects)
    belief: dict[str, str | None] = {a: None for a in agent_names}
    trace: list[str] = []
    moves = unseen = 0
    for k, (kind, m) in enumerate(steps):
        before = inside[asked_object]
        if kind == "go":
            a, r = m["agent"], m["room"]
            if a not in where or r not in rooms:
                problems.append(f"step {k} names an unknown person or room")
            elif rooms.index(r) == where[a]:
                problems.append(f"step {k}: {a} is already in the {r}")
            else:
                where[a] = rooms.index(r)
        elif kind in ("move", "carry"):
            a, o, c = m["agent"], m["object"], m["container"]
            if a not in where or o not in inside or c not in room_of:
                problems.append(f"step {k} names an unknown person, object or container")
            elif room_of[inside[o]] != where[a]:
                problems.append(f"step {k}: the {o} is not in {a}'s room")
            elif kind == "move":
                if room_of[c] != where[a] or c == inside[o]:
                    problems.append(f"step {k}: the {c} is not the other container of {a}'s room")
                else:
                    inside[o] = c
            else:
                r = m["room"]
                if r not in rooms or rooms.index(r) == where[a] or room_of[c] != rooms.index(r):
                    problems.append(f"step {k}: {a} cannot take the {o} to the {c} in the {r}")
                else:
                    where[a], inside[o] = rooms.index(r), c
        place = inside[asked_object]
        room = room_of[place]
        if k and place != before:
            moves += 1
            unseen += any(where[a] != room for a in agent_names)
        people = []
        for a in agent_names:
            sees = where[a] == room
            if sees:
                belief[a] = place
            people.append({"name": a, "room": rooms[where[a]], "sees": sees, "belief": belief[a]})
        trace.append(render(_T + "trace_line.j2", k=k, object=asked_object, container=place, room=rooms[room],
                            agents=people).rstrip("\n"))
    final = render(_T + "final.j2", agent=asked_agent, object=asked_object,
                   belief=belief[asked_agent]).rstrip("\n")
    answer = render(_T + "answer.j2", lines=trace, final=final).rstrip("\n")
    held = belief[asked_agent]
    measured = {"steps": len(steps) - 1, "agents": len(agents), "rooms": len(rooms), "objects": len(objects),
                "asked_agent": asked_agent, "asked_object": asked_object,
                "final_belief": "none" if held is None else ("true" if held == inside[asked_object] else "false"),
                "asked_object_moves": moves, "unseen_moves": unseen}
    return OracleResult(answer=answer, answers=[answer], needle_offsets=[], anchor=None, context_span=span,
                        unit_offsets=offsets, problems=problems, measured=measured)
