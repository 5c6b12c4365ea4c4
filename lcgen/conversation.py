"""``--format chat-history``: the context as a conversation of many user/assistant turns (after MR-NIAH and MRCR).

The family's prompt becomes the first user message (its head and the context's opening) and the last one (the
context's closing, its tail and question); between them an assistant acknowledgement, then turn pairs whose text
comes from the family's filler, and one turn pair per needle (the needle as the user's message, filler sentences as
the reply). The whole conversation is rendered with the chat template (lcgen's plain transcript when none is given)
and sized through the engine like any prompt: each unit is one whole turn pair with its joins, so a length is exact
in tokens of the rendered conversation, and depth is measured in them.

For the oracle, :func:`flatten` lays the messages out again as the family's own prompt (the turns' sentences in
order, as the family wrote them) with a map from its offsets to ``input``'s.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import numpy as np

from .assemble import Needle, Plan, draw_units
from .errors import ParamError
from .render import render

FORMATS = ("plain", "chat-history")
TRANSCRIPT = "chat/transcript.j2"  # the conversation as plain text, when no chat template is given
USER_UNITS, REPLY_UNITS = (1, 3), (1, 4)  # filler units per user message and per assistant reply (inclusive)
_MAX_SKIPPED = 10_000  # filler units that hold a turn's join text, skipped in a row before giving up


def transcript_template() -> Any:
    """lcgen's plain-text transcript (``User:``/``Assistant:`` turns) as a chat template."""
    from .chat import ChatTemplate
    from .render import environment

    env = environment("lcgen.templates")
    text = env.loader.get_source(env, TRANSCRIPT)[0]
    return ChatTemplate("lcgen:transcript", text, ())


@dataclass(frozen=True)
class Joins:
    """The template's text around a conversation's messages (see :meth:`ChatTemplate.conversation_joins`)."""

    first: str  # before the first user message (BOS, system prompt, role header), with its kept leading space
    after_first: str  # after the first user message up to the acknowledgement: kept trailing space + user_to_assistant
    user_to_assistant: str
    assistant_to_user: str
    before_last: str  # after assistant_to_user, before the last user message: its kept leading space
    end: str  # after the last user message: its kept trailing space and the generation prompt

    cut: int  # where assistant_to_user splits into the end of one unit and the start of the next

    @property
    def split(self) -> tuple[str, str]:
        """assistant_to_user as (what ends a unit, what starts the next)."""
        return self.assistant_to_user[:self.cut], self.assistant_to_user[self.cut:]


def unit_cut(join: str, specials: list[str]) -> int:
    """Where a unit boundary may fall inside the join between an assistant reply and the next user message, so
    that a unit counts the same on its own as in the text: before the join's last special token (tokenizers split
    there first, so no word and no SentencePiece "▁" crosses it), else before its trailing spaces (a space goes with
    the word after it)."""
    found = [join.rfind(t) for t in specials if t and t in join]
    if found:
        return max(found)
    return len(join.rstrip(" \t"))


def conversation_joins(chat: Any, head_message: str, tail_message: str, specials: list[str]) -> Joins:
    """The joins of an alternating conversation whose first and last user messages are these, found with sentinels.
    A template whose joins change along the conversation is refused: turns are sized one pair at a time."""
    from .chat import outer_space

    lead_h, trail_h = outer_space(head_message, head_message)
    lead_t, trail_t = outer_space(tail_message, tail_message)
    g = chat.conversation_gaps(lead_h, trail_h, lead_t, trail_t)
    u2a, a2u = g[3], g[2]
    if g[5] != u2a or g[4] != a2u:
        raise ParamError("--format chat-history: the chat template joins turns differently along the conversation")
    if not u2a.strip() or not a2u.strip():
        raise ParamError("--format chat-history: the chat template does not mark where a turn ends")
    if not g[1].endswith(u2a) or not g[6].startswith(a2u):
        raise ParamError("--format chat-history: the chat template joins the first or last turn differently")
    return Joins(g[0], g[1], u2a, a2u, g[6][len(a2u):], g[7], unit_cut(a2u, specials))


class TurnSource:
    """Filler as turn pairs: each unit is a user message and an assistant reply, a few filler units each, with the
    template's joins (``content + user_to_assistant + reply + core``, after the previous unit's ``core``)."""

    def __init__(self, units: Any, joins: Joins, rng: random.Random):
        self._units = units
        self._joins = joins
        self._rng = rng
        self.what = getattr(units, "what", None)
        core, space = joins.split
        self._start, self._end = space, core
        self._forbidden = tuple({joins.user_to_assistant, joins.assistant_to_user, core} - {""})

    def text(self, n: int) -> str:
        """``n`` filler units as one message's text (outer whitespace dropped; units holding a join are skipped)."""
        out: list[str] = []
        skipped = 0
        while len(out) < n:
            for unit in draw_units(self._units, n - len(out)):
                if "\n" in unit.strip() or any(f in unit for f in self._forbidden) or not unit.strip():
                    skipped += 1
                    if skipped > _MAX_SKIPPED:
                        raise ParamError(f"--format chat-history: {_MAX_SKIPPED:,} filler sentences in a row hold "
                                         f"the chat template's turn text; use another --haystack")
                    continue
                skipped = 0
                out.append(unit)
        return "".join(out).strip()

    def pair(self, user: str, reply: str) -> str:
        return self._start + user + self._joins.user_to_assistant + reply + self._end

    def draw(self) -> str:
        return self.pair(self.text(self._rng.randint(*USER_UNITS)), self.text(self._rng.randint(*REPLY_UNITS)))

    def draw_many(self, n: int) -> list[str]:
        return [self.draw() for _ in range(n)]


def unit_joiner(units: list[str]) -> tuple[str, str]:
    """The outer whitespace the family's units carry (taken off a message's text, put back to lay it out)."""
    if not units:
        return " ", ""
    unit = units[0]
    return unit[:len(unit) - len(unit.lstrip())], unit[len(unit.rstrip()):]


def to_conversation(plan: Plan, chat: Any, rng: random.Random, specials: list[str]) -> tuple[Plan, Joins, str, str]:
    """The family's ``plan`` as a conversation the engine can size: (plan, joins, first and last user messages).

    The engine's context is the turn pairs between the acknowledgement and the last user message: depths are
    shares of their tokens. The family's context opening and closing (``<document>``) stay in the first and last
    messages, as the family wrote them.
    """
    if plan.filler is None:
        raise ParamError("--format chat-history: this family has no filler to make turns of")
    if any(not n.text.strip() for n in plan.needles):
        raise ParamError("--format chat-history: a needle has no text")
    head_message, tail_message = plan.head + plan.ctx_open, plan.ctx_close + plan.tail
    joins = conversation_joins(chat, head_message, tail_message, specials)
    source = TurnSource(plan.filler, joins, rng)
    core, space = joins.split
    needles = [Needle(source.pair(n.text.strip(), source.text(rng.randint(*REPLY_UNITS))), n.depth, n.order,
                      recorded=n.recorded)
               for n in plan.needles]
    conversation = Plan(
        head=joins.first + head_message.strip() + joins.after_first + acknowledgement() + core,
        tail=space + joins.before_last + tail_message.strip() + joins.end,
        ctx_open="",
        ctx_close="",
        needles=needles,
        filler=source,
    )
    return conversation, joins, head_message, tail_message


def acknowledgement() -> str:
    """The assistant's reply to the first user message (the instructions)."""
    return render("chat/acknowledgement.j2").strip()


def messages_of(text: str, span: tuple[int, int], plan: Plan, joins: Joins, head_message: str,
                tail_message: str) -> list[dict[str, str]]:
    """The conversation's messages, read back off the assembled context (each unit one user/assistant pair)."""
    core, space = joins.split
    units = text[span[0] + len(plan.ctx_open):span[1] - len(plan.ctx_close)]
    out = [{"role": "user", "content": head_message}, {"role": "assistant", "content": acknowledgement()}]
    if units:
        body = units[len(space):len(units) - len(core)]
        for pair in body.split(joins.assistant_to_user):
            user, reply = pair.split(joins.user_to_assistant)
            out += [{"role": "user", "content": user}, {"role": "assistant", "content": reply}]
    out.append({"role": "user", "content": tail_message})
    return out


@dataclass
class Flat:
    """A conversation laid out as the family's own prompt, with where each stretch of it sits in ``input``."""

    text: str
    flat_starts: np.ndarray
    input_starts: np.ndarray
    units: tuple[int, int]  # where the turn pairs start and end in ``text``
    units_in_input: tuple[int, int]  # and in ``input`` (the engine's context span)
    unit_starts: list[int]  # where each turn pair starts in ``input``
    unit_flat_starts: list[int]  # and in ``text``
    user_ends: list[int]  # where each turn pair's user message ends in ``input``

    def needle_starts(self, offsets: list[int]) -> list[int]:
        """Offsets in ``input`` that fall in a turn pair's user message, moved to the pair's start (a needle is a
        whole user message, and the engine records where its unit starts); others are left where they are."""
        out = []
        for o in offsets:
            k = int(np.searchsorted(self.unit_starts, o, side="right")) - 1
            out.append(self.unit_starts[k] if k >= 0 and o <= self.user_ends[k] else o)
        return out

    def to_input(self, offsets: Any) -> np.ndarray:
        pos = np.asarray(offsets, dtype=np.int64)
        seg = np.maximum(np.searchsorted(self.flat_starts, pos, side="right") - 1, 0)
        return self.input_starts[seg] + (pos - self.flat_starts[seg])


def flatten(messages: list[dict[str, str]], text: str, joiner: tuple[str, str], joins: Joins) -> Flat:
    """The family's prompt as the conversation carries it: the first message, each later user message and reply
    (not the acknowledgement) between ``joiner``'s two strings (the whitespace the family's units start and end
    with: " " before an English sentence, a newline after a Chinese one), the last message.

    Each stretch maps to where its text sits in ``text`` (the rendered conversation), and the start of each turn
    pair to the start of its unit there.
    """
    if len(messages) < 3 or len(messages) % 2 == 0:
        raise ValueError("a chat-history sample has an odd number of messages, at least three")
    core, space = joins.split
    head, ack, tail = messages[0]["content"], messages[1]["content"], messages[-1]["content"]
    marks: list[tuple[int, int]] = []  # (flat offset, input offset), in flat order
    parts = [head]
    lead = len(head) - len(head.lstrip())
    marks.append((lead, _find(text, head.strip(), 0)))
    cursor = _find(text, ack, marks[-1][1] + len(head.strip())) + len(ack) + len(core)
    flat = len(head)
    marks.append((flat, cursor))  # the first unit's start
    first_unit = cursor
    unit_starts, unit_flat_starts, user_ends = [], [], []
    lead, trail = joiner
    for k in range(2, len(messages) - 1, 2):
        unit_start = cursor
        unit_starts.append(unit_start)
        unit_flat_starts.append(flat)
        for n, piece in enumerate((messages[k]["content"], messages[k + 1]["content"])):
            at = _find(text, piece, cursor)
            marks += [(flat, unit_start if n == 0 else cursor), (flat + len(lead), at)]
            flat += len(lead) + len(piece)
            cursor = at + len(piece)
            marks.append((flat, cursor))
            flat += len(trail)
            parts += [lead, piece, trail]
            if n == 0:
                user_ends.append(cursor)
        cursor += len(core)
    units, units_in_input = (len(head), flat), (first_unit, cursor)
    marks.append((flat, cursor))  # the last unit's end
    lead = len(tail) - len(tail.lstrip())
    marks.append((flat + lead, _find(text, tail.strip(), cursor)))
    parts.append(tail)
    starts = np.asarray([f for f, _ in marks], dtype=np.int64)
    return Flat("".join(parts), starts, np.asarray([i for _, i in marks], dtype=np.int64), units, units_in_input,
                unit_starts, unit_flat_starts, user_ends)


def _find(text: str, piece: str, start: int) -> int:
    at = text.find(piece, start)
    if at < 0:
        raise ValueError("a message is not in input where the conversation puts it")
    return at
