"""RULER's QA tasks: a short-context question padded with distractor documents to the exact length.

qa_1 follows SQuAD (one gold paragraph; distractors first from the same article, then from the pool), qa_2 HotpotQA
(the example's ten paragraphs, the two supporting ones first; distractors from the pool). Items come from
``--qa-source``: ``files:``/``hf:`` SQuAD v2 dev or HotpotQA dev (``generators/_ruler_qa_data.py``; each sample
draws its question, seeded, where RULER takes the i-th), or ``procedural``: lcgen's stand-in, documents about
invented towns and people whose facts the oracle can read back (so the answer is provably the only one). Documents
are numbered in text order ("Document 3:"); the whole context is sized here, at plan time, to the room the prompt
leaves: as many whole documents as fit, then the last one or two exchanged for spares of the exact size. A pool
that runs out is refused in one line unless ``--allow-repeat``.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from lcgen.assemble import CONTEXT_SLOT, Needle, Plan, SamplePlan, split_prompt
from lcgen.errors import ParamError
from lcgen.frames import frame_lines, render_frame
from lcgen.render import render
from lcgen.assemble import counts_after

from ._invented import syllables
from ._ruler_text import MAX_DRAWS

DATASETS = {"qa_1": "squad", "qa_2": "hotpotqa"}
PLACE = ("place_founded", "place_river", "place_export", "place_leader")
PERSON = ("person_born", "person_birthplace", "person_profession")
CHAINS = (("place_leader", "person_born"), ("place_leader", "person_birthplace"),
          ("place_leader", "person_profession"), ("person_birthplace", "place_founded"),
          ("person_birthplace", "place_river"), ("person_birthplace", "place_export"))
EXAMPLE_DOCUMENTS = 10  # a HotpotQA example's paragraphs (2 supporting + 8 distractors)
_SPARE = 512  # candidate documents counted beyond those that fit, to close the last tokens exactly
_CLOSE_TRIES = 32


def check_source(source: str, variant: str) -> None:
    if source != "procedural":
        from ._ruler_qa_data import load_qa_pool

        load_qa_pool(source, DATASETS[variant])


@dataclass(frozen=True)
class Item:
    """What a sample asks: the question, its answers, the gold documents (supporting first) and distractors."""

    question: str
    answers: tuple[str, ...]
    gold: tuple[str, ...]
    supporting: int
    article: str | None = None


def source(spec: Any) -> Any:
    """the QA item a file or Hub source gives the sample (its question, answers and gold documents; a procedural
    sample is solved from its text alone).

    The declared source, for qa_1 and qa_2 from a file or Hub item: the item drawn with the sample's seed, as the
    plan drew it. None for every other sample."""
    if spec.variant not in DATASETS or spec.params.get("qa_source", "procedural") == "procedural":
        return None
    from ._ruler_qa_data import load_qa_pool

    from lcgen.make import sample_rng

    pool = load_qa_pool(spec.params["qa_source"], DATASETS[spec.variant])
    item = pool.items[sample_rng(spec).randrange(len(pool.items))]  # the plan's first draw, replayed
    return {"question": item.question, "answers": list(item.answers), "gold": list(item.gold),
            "supporting": item.supporting}


# --- the procedural stand-in ------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _values() -> dict[str, tuple[str, ...]]:
    out = {}
    for line in frame_lines("ruler/qa/values.j2"):
        kind, _, items = line.partition(":")
        out[kind.strip()] = tuple(items.split("|") if "|" in items else items.split())
    return {k: tuple(v.strip() for v in vs) for k, vs in out.items()}


def fact_frames(relation: str) -> tuple[str, ...]:
    return frame_lines(f"ruler/qa/facts/{relation}.j2")


def question_frame(relation: str) -> str:
    return frame_lines(f"ruler/qa/questions/{relation}.j2")[0]


@functools.lru_cache(maxsize=1)
def bridges() -> dict[str, str]:
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in frame_lines("ruler/qa/bridges.j2"))}


class _World:
    """Invented towns and people for one sample; every name fresh (no name inside another)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.taken: set[str] = set()

    def _word(self, parts: int) -> str:
        for _ in range(MAX_DRAWS):
            w = syllables(self.rng, parts).capitalize()
            if w not in self.taken and len(w) > 3:
                self.taken.add(w)
                return w
        raise ParamError("--qa-source procedural: no fresh invented name found; ask for a shorter --len")

    def place(self) -> str:
        return self._word(self.rng.choice((2, 3)))

    def person(self) -> str:
        return f"{self._word(2)} {self._word(self.rng.choice((2, 3)))}"

    def value(self, relation: str) -> str:
        r = self.rng
        if relation == "place_founded":
            return str(r.randint(1100, 1899))
        if relation == "person_born":
            return str(r.randint(1900, 1999))
        if relation == "place_river":
            return self._word(2)
        if relation == "place_export":
            return r.choice(_values()["exports"])
        if relation == "person_profession":
            return r.choice(_values()["professions"])
        if relation == "place_leader":
            return self.person()
        return self.place()  # person_birthplace

    def document(self, subject: str, facts: dict[str, str], titled: bool) -> str:
        """The entity's facts, each in a phrasing drawn here, in a shuffled order (a title line for HotpotQA)."""
        order = list(facts)
        self.rng.shuffle(order)
        body = " ".join(render_frame(self.rng.choice(fact_frames(rel)), subject=subject, value=facts[rel])
                        for rel in order)
        return f"{subject}\n{body}" if titled else body

    def entity(self, kind: str, titled: bool, fixed: dict[str, str] | None = None, name: str | None = None
               ) -> tuple[str, dict[str, str], str]:
        relations = PLACE if kind == "place" else PERSON
        subject = name or (self.place() if kind == "place" else self.person())
        facts = {rel: (fixed or {}).get(rel) or self.value(rel) for rel in relations}
        return subject, facts, self.document(subject, facts, titled)


def _procedural_item(variant: str, world: _World) -> Item:
    rng, titled = world.rng, variant == "qa_2"
    if variant == "qa_1":
        kind = rng.choice(("place", "person"))
        subject, facts, doc = world.entity(kind, titled)
        relation = rng.choice(PLACE if kind == "place" else PERSON)
        question = render_frame(question_frame(relation), subject=subject)
        return Item(question, (facts[relation],), (doc,), 1)
    first, second = rng.choice(CHAINS)
    kind = "place" if first.startswith("place") else "person"
    subject, facts, doc = world.entity(kind, titled)
    bridge = facts[first]
    _, bridge_facts, bridge_doc = world.entity("person" if kind == "place" else "place", titled, name=bridge)
    subject_words = render_frame(bridges()[first], subject=subject)
    question = render_frame(question_frame(second), subject=subject_words)
    others = [world.entity(rng.choice(("place", "person")), titled)[2] for _ in range(EXAMPLE_DOCUMENTS - 2)]
    return Item(question, (bridge_facts[second],), (doc, bridge_doc, *others), 2)


class _Procedural:
    """Endless distractor documents about fresh entities."""

    def __init__(self, world: _World, titled: bool):
        self.world, self.titled = world, titled

    def take(self, n: int) -> list[str]:
        return [self.world.entity(self.world.rng.choice(("place", "person")), self.titled)[2] for _ in range(n)]


class _FromPool:
    """Distractors from a real pool in a seeded order (SQuAD: the same article's paragraphs first), never a gold
    document; with ``repeat`` the order starts over when spent, else the pool running out is refused."""

    def __init__(self, pool: Any, item: Any, rng: random.Random, repeat: bool, target: int):
        gold = set(item.gold)
        same = [pool.documents[i] for i in pool.by_article.get(item.article, ())] if item.article else []
        same = [d for d in same if d not in gold]
        rng.shuffle(same)
        taken = gold | set(same)
        rest = [d for d in pool.documents if d not in taken]
        rng.shuffle(rest)
        self.order, self.pos, self.passes = same + rest, 0, 0
        self.pool, self.repeat, self.target = pool, repeat, target

    def take(self, n: int) -> list[str]:
        """Up to n more distractors (fewer once a pool without ``repeat`` is spent)."""
        out: list[str] = []
        while len(out) < n:
            if self.pos == len(self.order):
                if not self.repeat or not self.order:
                    self.exhausted = True
                    break
                self.pos, self.passes = 0, self.passes + 1
            take = min(n - len(out), len(self.order) - self.pos)
            out.extend(self.order[self.pos:self.pos + take])
            self.pos += take
        return out

    exhausted = False

    def refusal(self) -> ParamError:
        return ParamError(f"--qa-source: {self.pool.source} has only {len(self.order):,} distractor documents, "
                          f"too few for --len {self.target:,}; pass --allow-repeat to let documents repeat (as RULER "
                          "does)")


# --- the sample ----------------------------------------------------------------------------------------------------


def qa(p: Any, variant: str, depth: float, rng: random.Random, length: int, tok: Any,
       allow_repeat: bool) -> SamplePlan:
    from lcgen.sizing import frame

    titled = variant == "qa_2"
    if p.qa_source == "procedural":
        world = _World(rng)
        item = _procedural_item(variant, world)
        supply: Any = _Procedural(world, titled)
    else:
        from ._ruler_qa_data import load_qa_pool

        pool = load_qa_pool(p.qa_source, DATASETS[variant])
        got = pool.items[rng.randrange(len(pool.items))]  # the sample's first draw (``source`` replays it)
        item = Item(got.question, tuple(got.answers), tuple(got.gold), got.supporting, got.article)
        supply = _FromPool(pool, item, rng, allow_repeat, length)
    question = render("ruler/qa_question.j2", question=item.question).rstrip("\n")
    prompt = render("ruler/qa_prompt.j2", context=CONTEXT_SLOT, question=question).rstrip("\n")
    head, tail = split_prompt(prompt)
    tail = tail.lstrip("\n")  # every document ends with its blank line
    fr = frame(tok, length, head, tail, "", "", unit="Document 1:\nMock.\n\n")
    docs, anchor_at = _fit(fr, tok, item, supply, depth, rng)
    units = [_header(i + 1) + d + "\n\n" for i, d in enumerate(docs)]
    supporting = set(range(item.supporting))
    recorded = [anchor_at[j] for j in sorted(supporting)]
    needles, start = [], 0
    for at in sorted(recorded):
        if at > start:
            needles.append(Needle("".join(units[start:at]), 0.0, order=len(needles), recorded=False))
        needles.append(Needle(units[at], 0.0, order=len(needles)))
        start = at + 1
    if start < len(units):
        needles.append(Needle("".join(units[start:]), 0.0, order=len(needles), recorded=False))
    plan = Plan(head=head, tail=tail, ctx_open="", ctx_close="", needles=needles, filler=None,
                in_context=True)
    meta = {"answer_prefix": render("ruler/qa_prefix.j2").rstrip("\n"), "documents": len(docs),
            "gold_documents": [i + 1 for i in sorted(anchor_at.values())],
            "supporting_documents": [i + 1 for i in sorted(recorded)], "qa_source": p.qa_source,
            "type_haystack": "documents"}
    if p.qa_source != "procedural":
        repeats = len(docs) - len(set(docs))
        if repeats:
            meta["repeated_documents"] = repeats
    answers = list(dict.fromkeys(item.answers))
    return SamplePlan(plan=plan, question=question, answer=answers[0], answers=answers, meta=meta)


def _fit(fr: Any, tok: Any, item: Item, supply: Any, depth: float,
         rng: random.Random) -> tuple[list[str], dict[int, int]]:
    """The documents in text order whose numbered units take exactly ``fr.room`` tokens, and where each gold
    document sits (gold index -> position). The first gold document goes to the boundary nearest ``depth``."""
    room = fr.room
    headers: list[int] = []
    cum = [0]

    def header_cum(n: int) -> int:
        """Tokens of the first ``n`` documents' headers ("Document 1:", ...)."""
        if len(headers) < n:
            start = len(headers) + 1
            headers.extend(counts_after(tok, [_header(i) for i in range(start, max(n, 2 * start) + 1)], "Mock.\n\n"))
            cum.extend(list(accumulate(headers[len(cum) - 1:], initial=cum[-1]))[1:])
        return cum[n]

    gold = list(item.gold)
    gold_t = counts_after(tok, [d + "\n\n" for d in gold], _header(1))
    candidates: list[str] = []
    cand_t: list[int] = []
    fixed = sum(gold_t)
    if header_cum(len(gold)) + fixed > room:
        raise ParamError(f"--len: {fr.target:,} tokens is too short for the question's own documents "
                         f"({header_cum(len(gold)) + fixed:,} tokens)")
    mean = max(sum(gold_t) / len(gold_t), 8.0)
    while True:
        want = int((room - fixed - sum(cand_t)) / (mean + 4) * 1.1) + _SPARE - (len(cand_t) - _fitting(
            room, fixed, cand_t, header_cum, len(gold)))
        if want <= 0:
            break
        batch = supply.take(max(want, 16))
        candidates.extend(batch)
        cand_t.extend(counts_after(tok, [d + "\n\n" for d in batch], _header(1)))
        if getattr(supply, "exhausted", False) or len(cand_t) - _fitting(room, fixed, cand_t, header_cum,
                                                                           len(gold)) >= _SPARE:
            break
    n = _fitting(room, fixed, cand_t, header_cum, len(gold))
    if getattr(supply, "exhausted", False) and n == len(cand_t):
        raise supply.refusal()  # every document of the pool fits and the room is not full
    chosen = _close(room, fixed, n, cand_t, header_cum, len(gold))
    if chosen is None:
        raise ParamError(f"--len: {fr.target:,} tokens cannot be hit exactly with --tokenizer {tok.name}: no set "
                         "of documents takes exactly the room left")
    distractors = [candidates[i] for i in chosen]
    sizes = [cand_t[i] for i in chosen]
    order = list(range(len(distractors)))
    rng.shuffle(order)
    distractors, sizes = [distractors[i] for i in order], [sizes[i] for i in order]
    # The other gold documents go to random slots among the distractors first; then the first gold document goes to
    # the boundary nearest the depth, counted in tokens of that arrangement (its documents and their headers).
    seq: list[tuple[int, str, int]] = [(-1, d, t) for d, t in zip(distractors, sizes)]  # (gold index or -1, ...)
    for g in range(1, len(gold)):
        seq.insert(rng.randrange(len(seq) + 1), (g, gold[g], gold_t[g]))
    header_cum(len(seq) + 1)
    before = [0, *accumulate(t + h for (_, _, t), h in zip(seq, headers))]
    target = depth / 100.0 * room
    first = min(range(len(seq) + 1), key=lambda k: (abs(before[k] - target), k))
    seq.insert(first, (0, gold[0], gold_t[0]))
    positions = {g: at for at, (g, _, _) in enumerate(seq) if g >= 0}
    out = [d for _, d, _ in seq]
    return out, positions


def _header(n: int) -> str:
    """Document n's header line (templates/ruler/qa_document.j2)."""
    return _header_frame().replace("{n}", str(n))


@functools.lru_cache(maxsize=1)
def _header_frame() -> str:
    return render("ruler/qa_document.j2", n="{n}").rstrip("\n") + "\n"


def _fitting(room: int, fixed: int, cand_t: list[int], header_cum: Any, n_gold: int) -> int:
    """How many candidates, in order, fit with the gold documents and every header."""
    total, n = fixed + header_cum(n_gold), 0
    for t in cand_t:
        if total + t + header_cum(n_gold + n + 1) - header_cum(n_gold + n) > room:
            break
        total += t + header_cum(n_gold + n + 1) - header_cum(n_gold + n)
        n += 1
    return n


def _close(room: int, fixed: int, n: int, cand_t: list[int], header_cum: Any, n_gold: int) -> list[int] | None:
    """Indexes of candidates whose documents and headers fill ``room`` exactly: the first ``n`` with their last
    zero, one or two exchanged for one or two spares whose sizes close the rest, dropping a few more from the end
    when none do."""
    for keep in range(n, max(n - _CLOSE_TRIES, -1), -1):
        if fixed + sum(cand_t[:keep]) + header_cum(n_gold + keep) == room:
            return list(range(keep))
        for dropped in (0, 1, 2):
            if dropped > keep:
                break
            base = keep - dropped
            spare: dict[int, list[int]] = {}
            for i in range(base, len(cand_t)):
                spare.setdefault(cand_t[i], []).append(i)
            for added in (1, 2):
                need = room - fixed - sum(cand_t[:base]) - header_cum(n_gold + base + added)
                got = _pick(spare, need, added)
                if got is not None:
                    return list(range(base)) + got
    return None


def _pick(spare: dict[int, list[int]], need: int, count: int) -> list[int] | None:
    """``count`` (1 or 2) distinct spare candidates whose sizes sum to ``need``."""
    if count == 1:
        return spare[need][:1] if need in spare else None
    for a in sorted(spare):
        b = need - a
        if b < a:
            break
        if b in spare and (a != b or len(spare[a]) > 1):
            return [spare[a][0], spare[b][0] if a != b else spare[a][1]]
    return None
