"""Ancestral trace: follow a chain of kinship statements up to an ancestor, down to a descendant, or count generations.

After the Ancestral Trace Challenge of NeedleBench (Li et al., arXiv 2407.11963). A chain of ``needles`` statements
links ``needles + 1`` people, eldest first; each statement ("X is Y's father.", "Y's maternal grandmother is X.")
names one parent (one generation) or grandparent (two generations) with a sex-consistent name from a seeded Faker.
Every frame carries its kinship term, names are unique and never part of one another, and every question asks
for a target that exists, drawn so that where it sits on the chain (``answer_position``, 0 = the eldest member) or
how far it is from the asked person (``hops``) is uniform over what is valid. Distractors come from ``branches``
(lines of descendants hanging off chain members, always shorter than the chain below them) and ``families``
(unrelated lines, which may be longer than the chain).
Before returning, the plan proves on a networkx graph that there is no cycle, nobody has two recorded parents, every
term matches the elder's sex, the chain is the one longest line (so it can be recovered from text) and the question
has exactly one answer.

Without ``--len`` the context is the statements alone, in the ``order`` asked for (all needles at depth 0, their
tie-break the text position). With ``--len`` they are sentences in a ``--haystack``: the chain's statements at even
depths over [depth, min(100, depth + spread)] in their text order, distractor statements at uniform random depths.
No haystack sentence with a kinship word is used: after a statement, "her father, Brent Bruce" reads as a second
parent of the statement's person.

``depth`` records the measured depth of every statement: the chain's in chain order (eldest link first), then the
distractors' in text order. The anchor is none without ``--len`` (the closest statement to the target depth) and the
chain's first statement in the text with it. The oracle in ``lcgen.validators.ancestral_trace`` re-reads the
statements with the frames' own patterns, rebuilds the tree and answers from the text alone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from lcgen.assemble import CONTEXT_SLOT, Needle, Plan, SamplePlan, split_prompt, text_order
from lcgen.errors import ParamError
from lcgen.frames import render_frame
from lcgen.haystack import Haystack, SentenceUnits, unit_text
from lcgen.params import FamilyParams, param
from lcgen.registry import family
from lcgen.render import render
from lcgen.validators.metrics import ancestral_trace as ancestral_trace_metric

from ._kinship import (
    MAX_PEOPLE,
    SEXES,
    TEMPLATES,
    NameDrawer,
    NotUnique,
    frames,
    kin_graph,
    ordinal,
    prove_answer,
    prove_chain,
    speaks_of_kin,
    statement_floor,
    terms_for,
)

if TYPE_CHECKING:
    from lcgen.tokenizer import Tokenizer


@dataclass(frozen=True, kw_only=True)
class AncestralTraceParams(FamilyParams):
    """Knobs of the ancestral-trace family (all variants)."""

    needles: int = param(16, help="Kinship statements in the chain (it links needles + 1 people).", min=2, max=4096)
    lang: Literal["en", "zh"] = param("en", help="Language of statements, names and question (match the haystack).")
    order: Literal["shuffled", "forward", "backward"] = param(
        "shuffled", help="Statement order in the text: shuffled, eldest link first (forward) or last (backward).")
    branches: int = param(0, help="Distractor lines of descendants hanging off chain members.", min=0, max=4096)
    families: int = param(0, help="Distractor families: lines of people unrelated to the chain.", min=0, max=4096)
    branch_length: int = param(3, help="Statements per distractor branch or family (branches may be cut shorter).",
                               min=1, max=256)
    spread: float = param(30.0, help="With --len: the chain spreads evenly over [depth, depth + spread] percent.",
                          min=0.0, max=100.0)

    def __post_init__(self) -> None:
        super().__post_init__()
        most = self.max_people()
        if most > MAX_PEOPLE[self.lang]:
            raise ParamError(
                f"--needles/--branches/--families/--branch-length: these knobs ask for up to {most:,} people, above "
                f"the {MAX_PEOPLE[self.lang]:,} one {self.lang} sample can name (every name is distinct)"
            )

    def max_people(self) -> int:
        """People a sample of these knobs names at most: the chain, then branches (each cut to fit below its
        chain member) and families (each with its own eldest member)."""
        per_branch = min(self.branch_length, self.needles - 1)
        return self.needles + 1 + self.branches * per_branch + self.families * (self.branch_length + 1)


VARIANTS = {"eldest_ancestor": {}, "nth_ancestor": {}, "nth_descendant": {}, "relation_distance": {}}

Link = tuple[int, int, int]  # (elder, younger, generations) over person indices


@family(
    "ancestral-trace",
    params=AncestralTraceParams,
    variants=VARIANTS,
    version="0.2.0",
    papers=("Li et al., NeedleBench: Can LLMs Do Retrieval and Reasoning in Information-Dense Context?, "
            "arXiv:2407.11963 (Ancestral Trace Challenge)",),
    depth_of="chain",
    depth_meaning=(
        "Share of the context's tokens before each kinship statement: the chain's statements in chain order (eldest "
        "link first), then distractors in text order. With --len the chain's first statement in the text sits at "
        "the depth and the chain spreads over the next `spread` percent; without --len depth only labels the sample."
    ),
    answer_format="\\boxed{Full Name} (ancestor/descendant variants) or \\boxed{N} (relation_distance).",
    uses_haystack=True,
    unbounded_split=lambda p: f"n{p['needles']}",
    metric=ancestral_trace_metric.score_reply,
    difficulty=("statements", "two_generation_hops", "distractor_statements", "order", "hops", "answer_position"),
)
def ancestral_trace(p: AncestralTraceParams, variant: str, depth: float, rng: random.Random,
                    haystack: Haystack | None = None, length: int | None = None,
                    tokenizer: Tokenizer | None = None) -> SamplePlan:
    """Plan one sample; ``length`` None means no length target (the context is the statements alone).

    With a ``length`` and the sample's ``tokenizer``, a sample whose statements cannot fit is refused twice early:
    from a cheap estimate before any name is drawn, and from the statements' real counts before the graph proofs
    and the haystack are built (the engine would refuse it too, after all that work).
    """
    bounded = length is not None
    if bounded and haystack is None:
        raise ParamError("--haystack: ancestral-trace needs a haystack when --len is given")
    n = p.needles
    sexes = [rng.choice(SEXES) for _ in range(n + 1)]
    links: list[Link] = [(k, k + 1, rng.choice((1, 2))) for k in range(n)]
    gens = [g for _, _, g in links]
    asked, target, generations = _question(variant, gens, rng)
    groups = [list(range(n))] + _distractors(p, variant, asked, generations, gens, sexes, links, rng)
    if bounded and tokenizer is not None:
        _check_room(len(links), statement_floor(tokenizer, p.lang) * len(links), length, estimate=True)
    drawer = NameDrawer(rng, p.lang)
    names = [drawer.draw(sex) for sex in sexes]
    terms = [rng.choice(terms_for(p.lang, sexes[e], g)) for e, _, g in links]
    texts = [render_frame(rng.choice(frames(p.lang)), elder=names[e], younger=names[y], relation=terms[i])
             for i, (e, y, _) in enumerate(links)]
    units = [unit_text(t, p.lang) for t in texts]
    if bounded and tokenizer is not None:
        _check_room(len(links), sum(tokenizer.counts(units)), length)
    graph = kin_graph(names, sexes, [(e, y, terms[i], g) for i, (e, y, g) in enumerate(links)])
    prove_chain(graph, names[: n + 1])
    asked_names = [names[a] for a in asked]
    answer = str(generations) if variant == "relation_distance" else names[target]
    if prove_answer(graph, p.lang, variant, asked_names, generations) != answer:
        raise NotUnique(f"the graph answers {variant} differently from the plan")

    needles, position = _layout(p, groups, units, depth, rng, bounded)
    qctx = {"person": asked_names[0], "other": asked_names[-1], "n": generations, "ordinal": ordinal(generations),
            "span": f"{generations} generation{'' if generations == 1 else 's'}"}
    question = render(f"{TEMPLATES}/{p.lang}/{variant}.j2", **qctx).rstrip("\n")
    prompt = render(f"{TEMPLATES}/{p.lang}/prompt.j2", context=CONTEXT_SLOT, question=question, haystack=bounded)
    head, tail = split_prompt(prompt)
    filler = None
    if bounded:
        filler = SentenceUnits(haystack, rng, p.lang, avoid=names, reject=lambda s: _filler_reject(s, p.lang))
    plan = Plan(head=head, tail=tail, ctx_open="", ctx_close="", needles=needles, filler=filler)
    path = gens[min(asked + [target]) : max(asked + [target])]  # the links between the asked and target members
    meta = {
        "lang": p.lang,
        "order": p.order,
        "mode": "haystack" if bounded else "statements",
        "statements": n,
        "hops": len(path),
        "answer_position": target if variant != "relation_distance" else min(asked),
        "two_generation_hops": path.count(2),
        "chain_two_generation_hops": gens.count(2),
        "distractor_statements": len(links) - n,
        "asked": asked_names,
        "n": generations,
        "chain": names[: n + 1],
        "people": [[name, sex] for name, sex in zip(names, sexes)],
        "edges": [[names[e], names[y], terms[i], g] for i, (e, y, g) in enumerate(links)],
        "text_position": position,
    }
    return SamplePlan(plan=plan, question=question, answer=f"\\boxed{{{answer}}}", answers=[answer], meta=meta)


def _check_room(statements: int, tokens: float, length: int, estimate: bool = False) -> None:
    """Refuse a ``length`` that the kinship statements alone (``tokens`` of them, or at least that) already exceed."""
    if tokens > length:
        raise ParamError(
            f"--len: {length:,} tokens is too short for this sample; its {statements:,} kinship statements alone "
            f"take {'at least ' if estimate else ''}{int(tokens):,} tokens (ask for fewer with --needles, "
            "--branches, --families or --branch-length)"
        )


def _filler_reject(sentence: str, lang: str) -> bool:
    """Haystack sentences this family never uses: those with a kinship word, which may give a person of the
    statements a second parent (see ``_kinship.kin_words``). Every statement frame holds its relation term, a
    kinship word, so this also drops every sentence a frame reads as a statement (one search, not one per frame)."""
    return speaks_of_kin(sentence, lang)


def _question(variant: str, gens: list[int], rng: random.Random) -> tuple[list[int], int, int]:
    """Asked chain members, the target member and the generations between them; the target always exists.

    What varies is drawn first and uniformly over what is valid (chain members 0, eldest, to n): the asked person
    of eldest_ancestor (1..n, the answer is always member 0), the answer of nth_ancestor (0..n-1) and of
    nth_descendant (1..n), the number of statements relation_distance spans (1..n). The other end is then
    uniform over what is left.
    """
    n = len(gens)
    if variant == "eldest_ancestor":
        j = rng.randint(1, n)
        return [j], 0, sum(gens[:j])
    if variant == "nth_ancestor":
        i = rng.randint(0, n - 1)
        j = rng.randint(i + 1, n)
        return [j], i, sum(gens[i:j])
    if variant == "nth_descendant":
        j = rng.randint(1, n)
        i = rng.randint(0, j - 1)
        return [i], j, sum(gens[i:j])
    hops = rng.randint(1, n)
    i = rng.randint(0, n - hops)
    pair = [i, i + hops]
    rng.shuffle(pair)  # either member may be named first
    return pair, i + hops, sum(gens[i : i + hops])


def _distractors(p, variant, asked, generations, gens, sexes, links, rng) -> list[list[int]]:
    """Add distractor people and links in place; return the link indices of each branch and family.

    A branch hangs off chain member k and has at most n-1-k statements, so the chain stays the one longest line.
    For nth_descendant a branch step that would put someone exactly n generations below the asked person takes
    the other generation count instead, so the target stays unique (the graph proof checks it).
    """
    n = len(gens)
    groups = []
    for b in range(p.branches + p.families):
        is_branch = b < p.branches
        if is_branch:
            k = rng.randint(0, n - 2)
            steps = min(p.branch_length, n - 1 - k)
            prev = k
        else:
            steps, prev = p.branch_length, len(sexes)
            sexes.append(rng.choice(SEXES))
        below = None
        if is_branch and variant == "nth_descendant" and k >= asked[0]:
            below = sum(gens[asked[0]:k])
        group = []
        for _ in range(steps):
            sexes.append(rng.choice(SEXES))
            g = rng.choice((1, 2))
            if below is not None and below + g == generations:
                g = 3 - g
            below = None if below is None else below + g
            group.append(len(links))
            links.append((prev, len(sexes) - 1, g))
            prev = len(sexes) - 1
        groups.append(group)
    return groups


def _layout(p, groups, units, depth, rng, bounded) -> tuple[list[Needle], list[int]]:
    """Needles: the chain's in chain order, then the distractors' in text order; and each link's text position."""
    n = len(groups[0])
    if bounded:
        chain_seq = _ordered(groups[0], p.order, rng)
        top = min(100.0, depth + p.spread)
        needles = {link: Needle(units[link], depth + (top - depth) * r / (n - 1), order=r)
                   for r, link in enumerate(chain_seq)}
        extra = n
        for group in groups[1:]:
            ds = [rng.uniform(0.0, 100.0) for _ in group]
            ds = sorted(ds, reverse=p.order == "backward") if p.order != "shuffled" else ds
            for link, d in zip(group, ds):
                needles[link] = Needle(units[link], d, order=extra)
                extra += 1
    else:
        if p.order == "shuffled":
            seq = [link for group in groups for link in group]
            rng.shuffle(seq)
        else:  # each line in its own direction, the lines interleaved at random
            lines = [_ordered(group, p.order, rng) for group in groups]
            labels = [i for i, line in enumerate(lines) for _ in line]
            rng.shuffle(labels)
            seq, at = [], [0] * len(lines)
            for i in labels:
                seq.append(lines[i][at[i]])
                at[i] += 1
        needles = {link: Needle(units[link], 0.0, order=pos) for pos, link in enumerate(seq)}
    all_links = sorted(needles)
    by_text = [all_links[i] for i in text_order([needles[link] for link in all_links])]
    position = [0] * len(all_links)
    for pos, link in enumerate(by_text):
        position[link] = pos
    distractors = [link for link in by_text if link >= n]
    return [needles[link] for link in list(range(n)) + distractors], position


def _ordered(links: list[int], order: str, rng: random.Random) -> list[int]:
    if order == "forward":
        return list(links)
    if order == "backward":
        return links[::-1]
    out = list(links)
    rng.shuffle(out)
    return out
