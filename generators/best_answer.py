"""Best answer: one question about a fictitious world and many candidate answers, exactly one of them correct.

After Ada-LEval's BestAnswer (Wang et al., arXiv 2404.06480), with facts lcgen controls instead of Stack Overflow
votes, so correctness is provable. The prompt holds a short fact sheet (the records of the asked entity, of the
entities it points to or that point to it, and of look-alike neighbours; drawn from ``_world``), one question about
one fact of one entity, and candidates ``A1`` .. ``An``. Each candidate is a short helpful-style paragraph: a claim
and up to ``--support`` supporting sentences, every one a true fact of the sheet or a sentence that states no fact.
The correct candidate claims the asked fact; every other one is wrong in a recorded way (``meta.kinds``):

- ``wrong_entity``: the asked fact with the value a neighbour on the sheet has for it;
- ``wrong_number``: a nearby number that no fact of the world holds (numeric relations);
- ``wrong_value``: a value of the right type that no same-kind entity on the sheet has (other relations);
- ``wrong_relation``: the value of another relation of the asked entity, or of an entity one step from it;
- ``different_question``: only true facts, none of them the asked one.

Every candidate is built the same way (same sentence counts and phrasings), so the correct one is the longest no
more often than any other. ``--len`` is exact: candidates carry their labels, so they are the engine's needles
(filler ``None``), sized here with :func:`lcgen.sizing.frame` and fitted by swapping a few distractors for others
(``_fit``); their number follows from the length. Without ``--len``, ``--candidates`` sets it. The oracle in
``lcgen.validators.best_answer`` re-reads the sheet, the question and every sentence of every candidate.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from lcgen.assemble import CONTEXT_SLOT, Needle, Plan, SamplePlan, split_prompt
from lcgen.errors import ParamError
from lcgen.frames import frame_lines, render_frame
from lcgen.params import FamilyParams, param
from lcgen.registry import family
from lcgen.render import render
from lcgen.sizing import Frame, frame
from lcgen.validators.metrics import best_answer as best_answer_metric

from ._world import (
    COUNT,
    INDUSTRIES,
    INDUSTRY,
    NAMED,
    PROFESSION,
    PROFESSIONS,
    REGION,
    RELATIONS,
    YEAR,
    Fact,
    Relation,
    World,
    build_world,
    phrasings,
    record,
    say,
)

if TYPE_CHECKING:
    from lcgen.tokenizer import Tokenizer

TEMPLATES = "best_answer"
DISTRACTOR_KINDS = ("wrong_entity", "wrong_subject", "wrong_number", "wrong_value", "wrong_relation",
                    "different_question")
CORRECT = "correct"
Ask = Literal["random", "person_birth_year", "person_birthplace", "person_profession", "person_employer",
              "town_region", "town_founded", "town_population", "company_founded", "company_founder",
              "company_headquarters", "company_industry", "company_employees"]
_NEIGHBOURS = 3  # same-kind look-alikes on the sheet
_POINTING = 2  # entities whose record points at the asked one (its company, the people born in it), at most
_FRESH = 64  # values of a named type a wrong_value distractor may take, at least (new names where the world has few)
_NUMBERS = 256  # nearby numbers a wrong_number distractor may take, at most
_DRAW_LIMIT = 200  # draws in a row that give only texts already used before the candidates count as exhausted
_QUESTION_ATTEMPTS = 32
_RELATED = 0.7  # share of supporting sentences about the claim's subject (the rest: any fact of the sheet)
_SLOTS = 8  # candidates on each side of the fit whose text the fit may swap
_ALTERNATIVES = 12  # fresh distractors tried per slot
_FEW_SLOTS_ALTERNATIVES = 96  # tried in all when a short context has only a few slots
_FIT_ATTEMPTS = 12


@dataclass(frozen=True, kw_only=True)
class BestAnswerParams(FamilyParams):
    """Knobs of the best-answer family."""

    candidates: int = param(0, help="Candidate answers when --len is omitted (2 or more); with --len their number "
                            "follows from the length, so leave it 0.", min=0, max=50_000)
    support: int = param(3, help="Most supporting sentences per candidate (each draws 0 to this many, every one "
                         "true).", min=0, max=8)
    ask: Ask = param("random", help="The relation asked about (random: drawn per sample among those the "
                     "--distractors can serve).")
    distractors: str = param("all", help="Distractor kinds, a comma list of wrong_entity, wrong_subject, "
                             "wrong_number, wrong_value, wrong_relation, different_question (all: every kind that "
                             "applies).")


VARIANTS = {"single": {}}


def distractor_kinds(p: BestAnswerParams) -> tuple[str, ...]:
    """The kinds ``--distractors`` asks for, in the canonical order; ParamError naming the option otherwise."""
    if p.distractors.strip() == "all":
        return DISTRACTOR_KINDS
    named = [k.strip() for k in p.distractors.split(",")]
    unknown = [k for k in named if k not in DISTRACTOR_KINDS]
    if unknown or not named:
        raise ParamError(f"--distractors: {', '.join(unknown) or repr(p.distractors)} is not a kind (use all or a "
                         f"comma list of {', '.join(DISTRACTOR_KINDS)})")
    return tuple(k for k in DISTRACTOR_KINDS if k in named)


def possible_kinds(rel: Relation) -> set[str]:
    """Kinds that can apply to a relation at all (whether they do depends on the sheet)."""
    kinds = {"wrong_entity", "wrong_subject", "different_question", "wrong_number" if rel.numeric else "wrong_value"}
    if rel.value_type not in (PROFESSION, INDUSTRY, REGION):
        kinds.add("wrong_relation")
    return kinds


def _check(p: BestAnswerParams, variant: str, lengths: list[int | None]) -> None:
    """Refuse knobs that contradict each other before the first sample."""
    kinds = distractor_kinds(p)
    if p.ask != "random" and not possible_kinds(RELATIONS[p.ask]) & set(kinds):
        raise ParamError(f"--distractors: none of {', '.join(kinds)} applies to --ask {p.ask}")
    if None in lengths and p.candidates == 0:
        raise ParamError("--candidates: give the number of candidates (2 or more) when --len is omitted")
    if p.candidates == 1:
        raise ParamError("--candidates: 1 leaves nothing to choose from; give 2 or more")
    if any(n is not None for n in lengths) and p.candidates:
        raise ParamError(f"--candidates: with --len the number of candidates follows from the length; omit "
                         f"--candidates {p.candidates} or --len")


@dataclass
class Candidate:
    """One candidate answer: its text (without label) and what makes it right or wrong."""

    body: str
    kind: str
    claim: Fact  # the sentence that answers (or, for different_question, the fact stated instead)
    source: str | None = None  # wrong_entity: whose value it is; wrong_relation: the path to it


@dataclass
class Sheet:
    """The records the prompt shows, and every fact they state."""

    names: list[str]  # in the order shown
    facts: dict[str, list[Fact]]  # by subject, in record order


class Cycle:
    """Items in a shuffled round, reshuffled when used up: values spread evenly over the distractors."""

    def __init__(self, items: list, rng: random.Random):
        self.items, self.rng, self.queue = list(items), rng, []

    def __bool__(self) -> bool:
        return bool(self.items)

    def next(self):
        if not self.queue:
            self.queue = self.items[:]
            self.rng.shuffle(self.queue)
        return self.queue.pop()


@family(
    "best-answer",
    params=BestAnswerParams,
    variants=VARIANTS,
    version="0.1.0",
    papers=("Wang et al., Ada-LEval: Evaluating long-context LLMs with length-adaptable benchmarks, NAACL 2024, "
            "arXiv:2404.06480 (BestAnswer)",),
    depth_of="correct candidate",
    depth_meaning=(
        "Where the correct candidate sits. With --len: it is the candidate holding the token at that share of the "
        "candidates' tokens (0 = A1, 100 = An, the last). Without --len: it is A(1 + round(depth/100 x (N-1))). "
        "`depth` holds the correct candidate's measured depth."
    ),
    answer_format='The label of the correct candidate, e.g. A7, on a last line "Answer: A7".',
    metric=best_answer_metric.score_reply,
    unbounded_split=lambda p: f"n{p['candidates']}",
    difficulty=("relation", "asked_kind"),
    check=_check,
)
def best_answer(p: BestAnswerParams, variant: str, depth: float, rng: random.Random, length: int | None = None,
                tokenizer: Tokenizer | None = None) -> SamplePlan:
    """Plan one sample: a world, a question with its sheet, and the candidates at the exact length."""
    _check(p, variant, [length])
    kinds = distractor_kinds(p)
    world = build_world(random.Random(rng.getrandbits(64)))
    rel, subject, sheet, maker = _question(p, world, kinds, rng)
    question = render_frame(rng.choice(frame_lines(f"{TEMPLATES}/questions/{rel.id}.j2")), subject=subject)
    sheet_text = "\n\n".join(record(world, n) for n in sheet.names)
    head, tail = split_prompt(render(f"{TEMPLATES}/prompt.j2", sheet=sheet_text, question=question,
                                     context=CONTEXT_SLOT))
    gold = maker.gold()
    if length is None:
        order = _unbounded(maker, gold, p.candidates, depth)
    else:
        order = _fit(maker, gold, _frame(tokenizer, length, head, tail), depth, length)
    texts = [candidate_text(j, c.body) for j, c in enumerate(order, 1)]
    g = next(j for j, c in enumerate(order) if c is gold)
    # Every candidate is laid out as given; only the correct one is recorded as a needle (its offset and depth).
    needles = [Needle(t, 0.0, order=i, recorded=i == g) for i, t in enumerate(texts)]
    plan = Plan(head=head, tail=tail, ctx_open=CTX_OPEN, ctx_close=CTX_CLOSE, needles=needles, filler=None)
    answer = f"A{g + 1}"
    lengths = [len(c.body) for c in order]
    counts: dict[str, int] = {}
    for c in order:
        if c.kind != CORRECT:
            counts[c.kind] = counts.get(c.kind, 0) + 1
    meta = {
        "relation": rel.id, "asked_kind": rel.kind, "subject": subject, "answer_value": gold.claim.text,
        "candidates": len(order), "gold_index": g + 1, "sheet": sheet.names,
        "kinds": [c.kind for c in order],
        "claims": [[c.claim.subject, c.claim.relation.id, c.claim.text] for c in order],
        "sources": [c.source for c in order],
        "distractor_counts": dict(sorted(counts.items())),
        "gold_is_longest": lengths[g] == max(lengths),
        "gold_length_rank": round(sum(n < lengths[g] for n in lengths) / max(len(lengths) - 1, 1), 6),
    }
    return SamplePlan(plan=plan, question=question, answer=answer, answers=[answer], meta=meta)


CTX_OPEN, CTX_CLOSE = "<candidates>\n", " </candidates>"


def candidate_text(label: int, body: str) -> str:
    """A candidate as it stands in the prompt: a space, its label, its text and a blank line. Every piece of the
    context (candidates and the close) starts with a space, as a sentence unit does, so each counts the same alone
    as after the blank line before it, for tiktoken and SentencePiece tokenizers alike."""
    return "".join(candidate_parts(label, body))


def candidate_parts(label: int, body: str) -> tuple[str, str]:
    """The candidate's text in two pieces that each start with a space (" A3:" and " <text>\\n\\n"), so their
    tokens add up and a text is counted once whatever label it moves to."""
    before, after = render_frame(frame_lines(f"{TEMPLATES}/candidate.j2")[0], label=label, body="\x00").split("\x00")
    label_part = before.rstrip(" ")
    return " " + label_part, before[len(label_part):] + body + after + "\n\n"


def _frame(tokenizer, length: int, head: str, tail: str) -> Frame:
    from lcgen.tokenizer import as_tokenizer

    return frame(as_tokenizer(tokenizer), length, head, tail, CTX_OPEN, CTX_CLOSE, unit=candidate_text(1, "Mock."))


def _question(p: BestAnswerParams, world: World, kinds: tuple[str, ...], rng: random.Random):
    """The asked relation and entity, its sheet and a candidate maker, redrawn (a bounded number of times) until a
    distractor kind of ``kinds`` applies."""
    allowed = [r for r in RELATIONS.values() if possible_kinds(r) & set(kinds)]
    for _ in range(_QUESTION_ATTEMPTS):
        rel = RELATIONS[p.ask] if p.ask != "random" else rng.choice(allowed)
        subject = rng.choice(world.of_kind(rel.kind)).name
        sheet = _sheet(world, subject, rel, rng)
        maker = Maker(world, sheet, subject, rel, kinds, p.support, random.Random(rng.getrandbits(64)))
        if maker.kinds:
            return rel, subject, sheet, maker
    raise ParamError(f"--distractors: {', '.join(kinds)} found nothing to say about {_QUESTION_ATTEMPTS} drawn "
                     "questions; allow more kinds")


def _sheet(world: World, subject: str, rel: Relation, rng: random.Random) -> Sheet:
    """The asked entity, what its record points to, up to two entities that point to it, and look-alike
    neighbours of its kind (those whose asked value differs first), in a shuffled order."""
    asked = world.entity(subject)
    forward = [f.text for f in world.facts(subject) if f.relation.entity_valued]
    pointing = sorted({f.subject for f in world.pointing_at(subject)} - {subject} - set(forward))
    pointing = rng.sample(pointing, min(_POINTING, len(pointing)))
    others = [e for e in world.of_kind(rel.kind) if e.name != subject]
    rng.shuffle(others)

    def shared(e) -> int:
        same = sum(getattr(e, r.name) == getattr(asked, r.name) for r in RELATIONS.values() if r.kind == rel.kind)
        surname = rel.kind == "person" and e.name.split()[-1] == subject.split()[-1]
        return same + 2 * surname

    others.sort(key=lambda e: (getattr(e, rel.name) == getattr(asked, rel.name), -shared(e)))
    names = list(dict.fromkeys([subject, *forward, *pointing, *(e.name for e in others[:_NEIGHBOURS])]))
    names = [n for n in names if _in_world(world, n)]
    rng.shuffle(names)
    return Sheet(names, {n: world.facts(n) for n in names})


def _in_world(world: World, name: str) -> bool:
    try:
        world.entity(name)
    except KeyError:
        return False
    return True


def other_paths(sheet: Sheet, subject: str, rel: Relation) -> dict[str, str]:
    """Values of ``rel``'s type that the sheet gives for another relation of ``subject`` or of an entity one step
    from it, with the path to each: ``employer.headquarters`` (forward), ``^founder`` (the entity whose founder
    the subject is), ``^founder.founded`` (its founding year)."""
    out: dict[str, str] = {}
    kind_of = {n: facts[0].relation.kind for n, facts in sheet.facts.items()}
    for f in sheet.facts[subject]:
        if f.relation.id == rel.id:
            continue
        if f.relation.value_type == rel.value_type:
            out.setdefault(f.text, f.relation.name)
        if f.relation.entity_valued and f.text in sheet.facts:
            for g in sheet.facts[f.text]:
                if g.relation.value_type == rel.value_type:
                    out.setdefault(g.text, f"{f.relation.name}.{g.relation.name}")
    for other, facts in sheet.facts.items():
        for f in facts:
            if other == subject or not f.relation.entity_valued or f.text != subject:
                continue
            if kind_of[other] == rel.value_type:
                out.setdefault(other, f"^{f.relation.name}")
            for g in facts:
                if g is not f and g.relation.value_type == rel.value_type:
                    out.setdefault(g.text, f"^{f.relation.name}.{g.relation.name}")
    return out


class Maker:
    """Candidate bodies for one question: the correct one and an endless stream of distinct distractors."""

    def __init__(self, world: World, sheet: Sheet, subject: str, rel: Relation, kinds: tuple[str, ...], support: int,
                 rng: random.Random):
        self.rng, self.support, self.rel, self.subject = rng, support, rel, subject
        self.truth = world.fact(subject, rel)
        same_kind = [n for n in sheet.names if n != subject and sheet.facts[n][0].relation.kind == rel.kind]
        neighbour_values: dict[str, str] = {}
        for n in same_kind:
            neighbour_values.setdefault(world.fact(n, rel).text, n)
        neighbour_values.pop(self.truth.text, None)
        paths = {v: path for v, path in other_paths(sheet, subject, rel).items()
                 if v not in neighbour_values and v != self.truth.text and v != subject}
        taken = {self.truth.text, subject, *neighbour_values, *paths}
        self.pools: dict[str, Cycle] = {
            "wrong_entity": Cycle(sorted(neighbour_values.items()), rng),
            "wrong_subject": Cycle([n for n in same_kind if world.fact(n, rel).text != self.truth.text], rng),
            "wrong_relation": Cycle(sorted(paths.items()), rng),
            "different_question": Cycle([f for f in sheet.facts[subject] if f.relation.id != rel.id]
                                        + [world.fact(n, rel) for n in same_kind], rng),
        }
        if rel.numeric:
            self.pools["wrong_number"] = Cycle([(v, None) for v in self._numbers(world, sheet, taken)], rng)
        else:
            self.pools["wrong_value"] = Cycle([(v, None) for v in self._values(world, taken)], rng)
        self.kinds = [k for k in kinds if self.pools.get(k)]
        self.support_facts = [f for facts in sheet.facts.values() for f in facts
                              if not (f.subject == subject and f.relation.id == rel.id)]
        self.openers = frame_lines(f"{TEMPLATES}/openers.j2")
        self.closers = frame_lines(f"{TEMPLATES}/closers.j2")
        self.seen: set[str] = set()
        self._said: dict[tuple[str, str, str], tuple[str, ...]] = {}
        self._about: dict[str, list[Fact]] = {}

    def _numbers(self, world: World, sheet: Sheet, taken: set[str]) -> list[str]:
        """Nearby numbers no fact of the world holds (so none is any entity's value), written as facts write them."""
        near = int(self.truth.value)
        spread = 40 if self.rel.value_type == YEAR else 0.6
        out: list[str] = []
        for _ in range(4 * _NUMBERS):
            v = world.distinct_number(self.rel, near, self.rng, spread)
            text = None if v is None else (f"{v:,}" if self.rel.value_type == COUNT else str(v))
            if text is not None and text not in taken and text not in out:
                out.append(text)
            if len(out) == _NUMBERS:
                break
        return sorted(out)

    def _values(self, world: World, taken: set[str]) -> list[str]:
        """Values of the relation's type that no same-kind entity of the sheet has: the world's own (off the sheet
        or not), topped up with new names that belong to nobody."""
        t = self.rel.value_type
        if t == PROFESSION:
            pool = list(PROFESSIONS)
        elif t == INDUSTRY:
            pool = list(INDUSTRIES)
        elif t == REGION:
            pool = list(world.regions)
        else:
            pool = [e.name for e in world.of_kind(t)]
        out = [v for v in pool if v not in taken]
        while t in NAMED and len(out) < _FRESH:
            out.append(world.fresh(t))
        return out

    def _claim(self, kind: str) -> tuple[Fact, str | None]:
        item = self.pools[kind].next()
        if kind == "different_question":
            return item, None
        if kind == "wrong_subject":
            return Fact(item, self.rel, self.truth.value), item
        value, source = item
        return Fact(self.subject, self.rel, _parse(self.rel, value)), source

    def _related(self, subject: str) -> list[Fact]:
        """Support facts about ``subject`` or naming it: what a helpful answer about it would add."""
        if subject not in self._about:
            self._about[subject] = [f for f in self.support_facts if subject in (f.subject, f.text)]
        return self._about[subject]

    def sentence(self, fact: Fact) -> str:
        key = (fact.subject, fact.relation.id, fact.text)
        said = self._said.get(key)
        if said is None:
            said = self._said[key] = tuple(say(fact, f) for f in phrasings(fact.relation.id))
        return self.rng.choice(said)

    def _body(self, claim: Fact) -> str | None:
        """A helpful-style paragraph around ``claim``; None if exactly this text was made before."""
        rng = self.rng
        k = rng.randint(0, self.support)
        related = self._related(claim.subject)
        supports: list[Fact] = []
        for _ in range(4 * k):  # bounded: the pools may hold fewer facts than asked for
            if len(supports) == k:
                break
            pool = related if related and rng.random() < _RELATED else self.support_facts
            f = rng.choice(pool)
            if f != claim and f not in supports:
                supports.append(f)
        parts = [self.sentence(f) for f in supports]
        parts.insert(0 if not parts or rng.random() < 0.7 else 1, self.sentence(claim))
        if rng.random() < 0.5:
            parts.insert(0, rng.choice(self.openers))
        if rng.random() < 0.5:
            parts.append(rng.choice(self.closers))
        body = " ".join(parts)
        if body in self.seen:
            return None
        self.seen.add(body)
        return body

    def gold(self) -> Candidate:
        for _ in range(_DRAW_LIMIT):
            body = self._body(self.truth)
            if body is not None:
                return Candidate(body, CORRECT, self.truth)
        raise RuntimeError("the first candidate repeated a text")  # a bug: nothing was drawn before

    def distractor(self) -> Candidate:
        for _ in range(_DRAW_LIMIT):
            kind = self.rng.choice(self.kinds)
            claim, source = self._claim(kind)
            body = self._body(claim)
            if body is not None:
                return Candidate(body, kind, claim, source)
        raise ParamError(f"--support: after {len(self.seen):,} distinct candidates, {_DRAW_LIMIT} draws in a row "
                         f"gave only texts already used ({self.support} supporting sentences at most); raise "
                         "--support, allow more --distractors, or ask for fewer candidates (--len, --candidates)")


def _parse(rel: Relation, text: str) -> int | str:
    return int(text.replace(",", "")) if rel.numeric else text


def _unbounded(maker: Maker, gold: Candidate, n: int, depth: float) -> list[Candidate]:
    """``n`` candidates, the correct one at A(1 + round(depth/100 x (n-1)))."""
    order = [maker.distractor() for _ in range(n - 1)]
    order.insert(gold_position(depth, n), gold)
    return order


def gold_position(depth: float, n: int) -> int:
    """Index (0-based) of the correct candidate among ``n`` without a length: halves round up."""
    return int(depth / 100.0 * (n - 1) + 0.5)


class _Counts:
    """Token counts of candidates, (label, text) pairs, as the engine counts each candidate alone. The label and the
    text are counted apart (both start with a space, so they add up; the engine's count of the whole is the check)
    and each is cached: a candidate that moves to another label is not counted again."""

    def __init__(self, fr: Frame):
        self.fr = fr
        self.labels: dict[int, int] = {}
        self.texts: dict[str, int] = {}

    def __call__(self, pairs: list[tuple[int, str]]) -> list[int]:
        parts = [candidate_parts(label, body) for label, body in pairs]
        for known, pieces in ((self.labels, {label: part for (label, _), (part, _) in zip(pairs, parts)}),
                              (self.texts, {body: part for (_, body), (_, part) in zip(pairs, parts)})):
            missing = [key for key in pieces if key not in known]
            if missing:
                known.update(zip(missing, self.fr.counts([pieces[key] for key in missing])))
        return [self.labels[label] + self.texts[body] for label, body in pairs]


def _fit(maker: Maker, gold: Candidate, fr: Frame, depth: float, length: int) -> list[Candidate]:
    """Candidates whose token counts sum to exactly the frame's room, the correct one holding the token at ``depth``
    percent of them (the last one at 100).

    Distractors are drawn until their estimated tokens fill the room; then a few slots just before the correct
    candidate (they move it) and at the end (they do not) swap their text for fresh distractors, chosen by a small
    dynamic programme over token changes, until the total is exact and the correct one's start sits in its window.
    A fit that fails adds or drops a distractor, or moves the correct one by a slot, a bounded number of times.
    """
    room = fr.room
    count = _Counts(fr)
    smallest = count([(1, gold.body)])[0]
    if room <= 0:
        raise ParamError(f"--len: {length:,} tokens is too short for this sample; its fact sheet and instructions "
                         f"alone take {length - room:,}")
    if smallest >= room:
        raise ParamError(f"--len: {length:,} tokens leave {room:,} for the candidates, too few for two; the fact "
                         "sheet and instructions take the rest")
    pool: list[Candidate] = []
    spare: list[Candidate] = []
    total, mean = smallest, 40.0
    while total < room:
        n = max(8, min(4096, int((room - total) / mean * 1.05) + 4))
        batch = [maker.distractor() for _ in range(n)]
        got = count([(len(pool) + i + 2, c.body) for i, c in enumerate(batch)])
        mean = max(sum(got) / len(got), 1.0)
        for c, k in zip(batch, got):
            if total >= room:
                spare.append(c)
                continue
            pool.append(c)
            total += k
    target = depth / 100.0 * room

    def draw() -> Candidate:
        return spare.pop() if spare else maker.distractor()

    k = _gold_slot(count, pool, gold, target)
    for _ in range(_FIT_ATTEMPTS):
        order = pool[:k] + [gold] + pool[k:]
        counts = count([(j, c.body) for j, c in enumerate(order, 1)])
        fitted = _try_fit(order, counts, k, room, target, draw, count)
        if fitted is not None:
            return fitted
        before = sum(counts[:k])
        diff = room - sum(counts)
        if k < len(pool) and before + counts[k] <= target:  # the correct one ends before its token: move it later
            k += 1
        elif k > 0 and before > target:
            k -= 1
        elif diff > 0 or len(pool) < 2:
            pool.append(draw())
        else:
            pool.pop()
            k = min(k, len(pool))
    raise ParamError(f"--len: the {room:,} tokens {length:,} leaves for the candidates could not be filled exactly "
                     f"with whole candidates after {_FIT_ATTEMPTS} tries; use another (or a longer) --len")


def _gold_slot(count: _Counts, pool: list[Candidate], gold: Candidate, target: float) -> int:
    """How many distractors go before the correct candidate: as many as start at or before the target token."""
    counts = count([(j, c.body) for j, c in enumerate(pool, 1)])
    at, k = 0, 0
    for n in counts:
        if at + n > target:
            break
        at += n
        k += 1
    return k


def _try_fit(order, counts, k, room, target, draw, count) -> list[Candidate] | None:
    """Swap the texts of slots before the correct candidate (index ``k``) and at the end so the total is ``room``
    and the correct one starts at or before ``target`` and ends after it (or is the last one); None if no choice
    of the alternatives does it."""
    n = len(order)
    last = k == n - 1
    before_slots = list(range(max(0, k - _SLOTS), k))
    after_slots = [i for i in range(max(k + 1, n - _SLOTS), n)]
    start = sum(counts[:k])
    diff = room - sum(counts)
    hi = math.floor(target - start)  # start + d <= target
    lo = None if last else hi - counts[k] + 1  # start + d + counts[k] > target
    each = max(_ALTERNATIVES, _FEW_SLOTS_ALTERNATIVES // max(len(before_slots) + len(after_slots), 1))
    alternatives: dict[int, list[Candidate]] = {i: [draw() for _ in range(each)] for i in before_slots + after_slots}
    flat = [(i, c) for i in before_slots + after_slots for c in alternatives[i]]
    alt_counts = count([(i + 1, c.body) for i, c in flat])
    deltas: dict[int, list[int]] = {i: [0] for i in alternatives}
    for (i, _), m in zip(flat, alt_counts):
        deltas[i].append(m - counts[i])
    limit = 4 * max(counts) + abs(diff)
    ahead = _reachable([deltas[i] for i in before_slots], limit)
    behind = _reachable([deltas[i] for i in after_slots], limit)
    best = None
    for d, (changes, picks) in ahead.items():
        if d > hi or (lo is not None and d < lo) or (diff - d) not in behind:
            continue
        rest_changes, rest_picks = behind[diff - d]
        key = (changes + rest_changes, abs(d), d)
        if best is None or key < best[0]:
            best = (key, picks, rest_picks)
    if best is None:
        return None
    _, picks, rest_picks = best
    out = list(order)
    for i, j in zip(before_slots + after_slots, list(picks) + list(rest_picks)):
        if j:
            out[i] = alternatives[i][j - 1]
    final = count([(j, c.body) for j, c in enumerate(out, 1)])
    if sum(final) != room:
        raise RuntimeError("the fitted candidates do not add up to the room")  # a bug: counts are cached exactly
    return out


def _reachable(options: list[list[int]], limit: int) -> dict[int, tuple[int, tuple[int, ...]]]:
    """Total token changes the slots' options make -> (fewest slots changed, the option of each), within +-limit."""
    states: dict[int, tuple[int, tuple[int, ...]]] = {0: (0, ())}
    for opts in options:
        nxt: dict[int, tuple[int, tuple[int, ...]]] = {}
        for d, (changes, picks) in states.items():
            for j, od in enumerate(opts):
                nd = d + od
                if abs(nd) > limit:
                    continue
                cand = (changes + (j > 0), picks + (j,))
                if nd not in nxt or cand < nxt[nd]:
                    nxt[nd] = cand
        states = nxt
    return states
