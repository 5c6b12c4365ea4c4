"""procedures/theory_of_mind: every person's belief about one object after every step of a story (after LongProc's
ToM tracking).

People move between rooms and move objects between containers (two per room); whoever is elsewhere keeps an old
belief. The story's numbered step lines are the needles, at increasing depths; the rest of the context is narration
that names nothing of the story (templates/procedures/tom/filler.j2). Every line of the story starts with a space
and ends with a newline, and the close " </story>" starts with a space too, so each piece the engine counts alone
counts the same as in context, for tiktoken and SentencePiece-like tokenizers alike. The trace gives, after every
step 0..S, where the asked object is and, for each person, their room, whether they see it and what they believe;
then one final answer line. S is the number of steps whose trace comes closest to ``--output-len``. The trace is a
function of the story: each step is one legal action with a single outcome, and the prompt's rules fix every belief.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

from lcgen.assemble import CONTEXT_SLOT, Needle, Plan, SamplePlan, split_prompt
from lcgen.frames import frame_lines, render_frame
from lcgen.params import FamilyParams, param
from lcgen.render import render

from ._proc_common import closest_size, refuse_input, refuse_output, within

VARIANT = "theory_of_mind"
_T = "procedures/tom/"
_TAIL_STEPS = 6  # steps at the end of the story redrawn to give the asked belief the outcome chosen for the sample
_TAIL_TRIES = 300
_WORLD_TRIES = 16  # casts and houses tried when the trace's step sizes miss --output-len
_MAX_STEPS = 20_000
# Every story line (step or narration) is " " + text + "\n", and the close starts with a space: a SentencePiece-like
# tokenizer reads a line's first word as "▁Step" both alone and after the newline before it (a line starting at the
# newline would get its dummy prefix only when counted alone); tiktoken splits ".\n" + " Step" cleanly too.
LEAD = " "
CTX_OPEN, CTX_CLOSE = "<story>\n", " </story>"


@dataclass(frozen=True, kw_only=True)
class Knobs(FamilyParams):
    """theory_of_mind's knobs: the story's cast and house (its length follows --output-len)."""

    agents: int = param(2, help="theory_of_mind: people in the story; every trace line gives each one's room, sight "
                        "and belief.", min=2, max=6, variants=(VARIANT,))
    rooms: int = param(2, help="theory_of_mind: rooms of the house, two containers each.", min=2, max=6,
                       variants=(VARIANT,))
    objects: int = param(2, help="theory_of_mind: objects moved in the story; one is asked about, the others are "
                         "distractors.", min=1, max=6, variants=(VARIANT,))


@functools.lru_cache(maxsize=None)
def _lists(name: str) -> dict[str, tuple[str, ...]]:
    """A "kind: items" template as {kind: items}; names.j2 splits items on spaces, filler.j2 keeps one per line."""
    out: dict[str, tuple[str, ...]] = {}
    for line in frame_lines(_T + name):
        kind, _, items = line.partition(":")
        got = tuple(items.split()) if name == "names.j2" else (items.strip(),)
        out[kind.strip()] = out.get(kind.strip(), ()) + got
    return out


def names() -> dict[str, tuple[str, ...]]:
    """The agents, rooms, containers and objects a sample draws from."""
    return _lists("names.j2")


def filler_pieces() -> dict[str, tuple[str, ...]]:
    """The narration's frames, events, places and times."""
    return _lists("filler.j2")


class Narration:
    """Filler: one line of narration that moves nobody and nothing and names no entity. Each line is a space, a
    sentence starting with a capital letter and a newline, so lines add up in tokens (an exact seam)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        pieces = filler_pieces()
        self.frames, self.events = pieces["frame"], pieces["event"]
        self.places, self.whens = pieces["place"], pieces["when"]

    def draw(self) -> str:
        r = self.rng
        event = r.choice(self.events)
        return LEAD + render_frame(r.choice(self.frames), event=event, event_lc=event[0].lower() + event[1:],
                                   place=r.choice(self.places), when=r.choice(self.whens)) + "\n"

    def draw_many(self, n: int) -> list[str]:
        return [self.draw() for _ in range(n)]


@dataclass
class _World:
    agents: list[str]
    rooms: list[str]
    containers: list[str]  # containers[2r], containers[2r + 1] are in rooms[r]
    objects: list[str]
    asked_agent: int
    asked_object: int

    def room_of(self, c: int) -> int:
        return c // 2


# A state is (rooms of the agents, containers of the objects); an action is one of
# ("go", agent, room), ("move", agent, object, container), ("carry", agent, object, room, container).
State = tuple[tuple[int, ...], tuple[int, ...]]


def _apply(state: State, action: tuple) -> State:
    where, inside = state
    if action[0] == "go":
        _, a, r = action
        return where[:a] + (r,) + where[a + 1:], inside
    if action[0] == "move":
        _, a, o, c = action
        return where, inside[:o] + (c,) + inside[o + 1:]
    _, a, o, r, c = action
    return where[:a] + (r,) + where[a + 1:], inside[:o] + (c,) + inside[o + 1:]


def _action(rng: random.Random, w: _World, state: State) -> tuple:
    """One legal action, drawn so that the asked object moves often and people are often apart."""
    where, inside = state
    n_rooms = len(w.rooms)
    pairs = [(a, o) for a in range(len(where)) for o in range(len(inside)) if w.room_of(inside[o]) == where[a]]
    together = len(set(where)) == 1
    if pairs and rng.random() < (0.3 if together else 0.6):
        asked = [pr for pr in pairs if pr[1] == w.asked_object]
        a, o = rng.choice(asked) if asked and rng.random() < 0.6 else rng.choice(pairs)
        here = where[a]
        if rng.random() < 0.5:
            return ("move", a, o, inside[o] ^ 1)  # the other container of the same room
        r = rng.choice([x for x in range(n_rooms) if x != here])
        return ("carry", a, o, r, 2 * r + rng.randrange(2))
    a = rng.randrange(len(where))
    return ("go", a, rng.choice([x for x in range(n_rooms) if x != where[a]]))


def _beliefs(w: _World, states: list[State], start: list[int | None] | None = None) -> list[list[int | None]]:
    """Every agent's belief (a container, or None) about the asked object after each state."""
    belief = list(start) if start is not None else [None] * len(w.agents)
    out = []
    for where, inside in states:
        c = inside[w.asked_object]
        belief = [c if where[a] == w.room_of(c) else belief[a] for a in range(len(where))]
        out.append(belief)
    return out


def _outcome(w: _World, state: State, belief: list[int | None]) -> str:
    b = belief[w.asked_agent]
    return "none" if b is None else ("true" if b == state[1][w.asked_object] else "false")


def _trace_line(w: _World, k: int, state: State, belief: list[int | None]) -> str:
    where, inside = state
    c = inside[w.asked_object]
    agents = [{"name": w.agents[a], "room": w.rooms[where[a]], "sees": where[a] == w.room_of(c),
               "belief": None if belief[a] is None else w.containers[belief[a]]} for a in range(len(where))]
    return render(_T + "trace_line.j2", k=k, object=w.objects[w.asked_object], container=w.containers[c],
                  room=w.rooms[w.room_of(c)], agents=agents).rstrip("\n")


def _final_line(w: _World, belief: list[int | None]) -> str:
    b = belief[w.asked_agent]
    return render(_T + "final.j2", agent=w.agents[w.asked_agent], object=w.objects[w.asked_object],
                  belief=None if b is None else w.containers[b]).rstrip("\n")


def _answer(lines: list[str], final: str) -> str:
    return render(_T + "answer.j2", lines=lines, final=final).rstrip("\n")


def _story_line(w: _World, k: int, action: tuple) -> str:
    if action[0] == "go":
        return render_frame(frame_lines(_T + "step_go.j2")[0], k=k, agent=w.agents[action[1]],
                            room=w.rooms[action[2]])
    if action[0] == "move":
        return render_frame(frame_lines(_T + "step_move.j2")[0], k=k, agent=w.agents[action[1]],
                            object=w.objects[action[2]], container=w.containers[action[3]])
    return render_frame(frame_lines(_T + "step_carry.j2")[0], k=k, agent=w.agents[action[1]],
                        object=w.objects[action[2]], room=w.rooms[action[3]], container=w.containers[action[4]])


def _step_zero(w: _World, state: State) -> str:
    where, inside = state
    agent_frame, object_frame = frame_lines(_T + "place_agent.j2")[0], frame_lines(_T + "place_object.j2")[0]
    clauses = [render_frame(agent_frame, agent=w.agents[a], room=w.rooms[r]) for a, r in enumerate(where)]
    clauses += [render_frame(object_frame, object=w.objects[o], container=w.containers[c])
                for o, c in enumerate(inside)]
    return render_frame(frame_lines(_T + "step_zero.j2")[0], clauses=" ".join(clauses))


def _distinct(words: list[str]) -> bool:
    """No name is a substring of another (case-folded)."""
    low = [x.casefold() for x in words]
    return all(i == j or a not in b for i, a in enumerate(low) for j, b in enumerate(low))


def _world(p, rng: random.Random) -> _World:
    lists = names()
    pick = random.Random(rng.getrandbits(64))
    w = _World(agents=pick.sample(lists["agents"], p.agents), rooms=pick.sample(lists["rooms"], p.rooms),
               containers=pick.sample(lists["containers"], 2 * p.rooms), objects=pick.sample(lists["objects"],
                                                                                             p.objects),
               asked_agent=pick.randrange(p.agents), asked_object=pick.randrange(p.objects))
    if not _distinct(w.agents + w.rooms + w.containers + w.objects):  # the lists are built so; tests check them
        raise RuntimeError("templates/procedures/tom/names.j2: a name is a substring of another")
    return w


def _unseen_moves(w: _World, states: list[State]) -> tuple[int, int]:
    """(moves of the asked object, moves after which some person does not see it)."""
    moves = unseen = 0
    for before, after in zip(states, states[1:]):
        c = after[1][w.asked_object]
        if c != before[1][w.asked_object]:
            moves += 1
            unseen += any(r != w.room_of(c) for r in after[0])
    return moves, unseen


def _story(w: _World, n: int, states: list[State], actions: list, r: random.Random) -> None:
    for _ in range(n):
        actions.append(_action(r, w, states[-1]))
        states.append(_apply(states[-1], actions[-1]))


def _draw(p, rng: random.Random, tok) -> tuple:
    """A cast, a house and a long story; the step count whose trace comes closest to --output-len, and its tokens."""
    w = _world(p, rng)
    story_rng = random.Random(rng.getrandbits(64))
    first: State = (tuple(rng.randrange(p.rooms) for _ in range(p.agents)),
                    tuple(rng.randrange(2 * p.rooms) for _ in range(p.objects)))
    # How many steps could be needed: the first lines' tokens say how long a line is.
    states, actions = [first], [None]
    _story(w, 12, states, actions, story_rng)
    probe = [_trace_line(w, k, s, b) for k, (s, b) in enumerate(zip(states, _beliefs(w, states)))]
    per_line = max(sum(tok.counts(probe)) / len(probe), 1.0)
    n_max = min(int(2 * p.output_len / per_line) + 12, _MAX_STEPS)
    _story(w, n_max - (len(states) - 1), states, actions, story_rng)
    beliefs = _beliefs(w, states)
    lines = [_trace_line(w, k, s, b) for k, (s, b) in enumerate(zip(states, beliefs))]

    def tokens_of(n: int) -> int:
        return tok.count(_answer(lines[: n + 1], _final_line(w, beliefs[n])))

    steps = closest_size(tokens_of, 1, n_max, p.output_len)
    return w, states, actions, beliefs, lines, per_line, steps, tokens_of(steps)


def build(p, rng: random.Random, length: int, tok) -> SamplePlan:
    """Plan one theory_of_mind sample: a long story drawn once, cut at the step count whose trace comes closest to
    --output-len; its last few steps redrawn so the asked belief is true or false as drawn for the sample."""
    want = "false" if rng.random() < 0.5 else "true"
    tail_rng = random.Random(rng.getrandbits(64))
    best = None
    for _ in range(_WORLD_TRIES):  # another cast and house when the step sizes jump over the tolerance window
        drawn = _draw(p, random.Random(rng.getrandbits(64)), tok)
        if best is None or abs(drawn[-1] - p.output_len) < abs(best[-1] - p.output_len):
            best = drawn
        if within(drawn[-1], p.output_len):
            break
    w, states, actions, beliefs, lines, per_line, steps, got = best
    if not within(got, p.output_len):
        why = (f"one step's trace line takes about {per_line:.0f} tokens with --agents {p.agents}; "
               + ("raise --output-len or lower --agents" if steps == 1 else "change --output-len or --agents"))
        raise refuse_output(p.output_len, got, why)
    keep = steps + 1
    states, actions, beliefs, lines = states[:keep], actions[:keep], beliefs[:keep], lines[:keep]

    # Redraw the last steps until the asked person's final belief is as wanted (bounded; else keep what came out).
    if _outcome(w, states[-1], beliefs[-1]) != want:
        cut = max(steps - _TAIL_STEPS, 0)
        for _ in range(_TAIL_TRIES):
            r = random.Random(tail_rng.getrandbits(64))
            new_states, new_actions = states[: cut + 1], actions[: cut + 1]
            _story(w, steps - cut, new_states, new_actions, r)
            new_beliefs = beliefs[: cut + 1] + _beliefs(w, new_states[cut + 1:], beliefs[cut])
            if _outcome(w, new_states[-1], new_beliefs[-1]) != want:
                continue
            new_lines = lines[: cut + 1] + [_trace_line(w, k, new_states[k], new_beliefs[k])
                                            for k in range(cut + 1, steps + 1)]
            n = tok.count(_answer(new_lines, _final_line(w, new_beliefs[-1])))
            if within(n, p.output_len):
                states, actions, beliefs, lines = new_states, new_actions, new_beliefs, new_lines
                break
    answer = _answer(lines, _final_line(w, beliefs[-1]))

    story_lines = [LEAD + _step_zero(w, states[0]) + "\n"] + [LEAD + _story_line(w, k, actions[k]) + "\n"
                                                              for k in range(1, steps + 1)]
    needles = [Needle(text, 100.0 * k / len(story_lines), order=k, recorded=False)
               for k, text in enumerate(story_lines)]
    house_frame = frame_lines(_T + "house.j2")[0]
    house = [render_frame(house_frame, room=room, first=w.containers[2 * r], second=w.containers[2 * r + 1])
             for r, room in enumerate(w.rooms)]
    question = render(_T + "question.j2", agent=w.agents[w.asked_agent],
                      object=w.objects[w.asked_object]).rstrip("\n")
    head, tail = split_prompt(render(_T + "prompt.j2", context=CONTEXT_SLOT, question=question, house=house,
                                     n_agents=p.agents, object=w.objects[w.asked_object], last=steps,
                                     agent=w.agents[w.asked_agent]).rstrip("\n"))
    ctx_open, ctx_close = CTX_OPEN, CTX_CLOSE
    fixed = tok.counts([head + ctx_open, ctx_close + tail, *story_lines])
    needed = sum(fixed)
    if needed > length:
        raise refuse_input(length, needed, f"a story of {steps:,} steps (its trace is --output-len "
                                           f"{p.output_len:,} tokens)")
    moves, unseen = _unseen_moves(w, states)
    meta = {"agents": p.agents, "rooms": p.rooms, "objects": p.objects, "steps": steps,
            "asked_agent": w.agents[w.asked_agent], "asked_object": w.objects[w.asked_object],
            "final_belief": _outcome(w, states[-1], beliefs[-1]), "asked_object_moves": moves,
            "unseen_moves": unseen, "story_tokens": sum(fixed[2:])}
    plan = Plan(head=head, tail=tail, ctx_open=ctx_open, ctx_close=ctx_close, needles=needles,
                filler=Narration(random.Random(rng.getrandbits(64))))
    return SamplePlan(plan=plan, question=question, answer=answer, answers=[answer], meta=meta)
