"""QA over facts lcgen knows, with LV-Eval's confusing facts and keyword replacement.

After LV-Eval (Yuan et al., arXiv 2402.05136): a question about one fact (``single_fact``) or about two chained
facts (``multi_fact``: "In which town was the founder of Harlow Works born?") of a seeded world of people, towns and
companies (``generators/_world.py``). Each fact the answer needs is one sentence of the context (the evidence), at
the requested depths, among haystack text that never mentions the world. ``--confusing-facts N`` adds N statements
that look like the evidence (same relation, same phrasings) but are about another subject, or about the asked
subject's other attributes, always true in the world, so they never contradict the answer. ``--replace-keywords``
writes every name and key term of the sample's facts, question and answer with fictional ones from a seeded map
(``meta.keyword_map``). The oracle in ``lcgen.validators.qa`` reads every fact sentence back with the world's own
phrasings and follows the question's chain.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lcgen.assemble import CONTEXT_SLOT, Needle, Plan, SamplePlan, split_prompt, text_order
from lcgen.errors import ParamError
from lcgen.frames import frame_lines, frame_regex, render_frame
from lcgen.haystack import Haystack, SentenceUnits, unit_text
from lcgen.params import FamilyParams, param
from lcgen.registry import family
from lcgen.render import render
from lcgen.validators.metrics import qa as qa_metric

from ._invented import real_en_names, runs, syllables
from ._world import (
    INDUSTRIES,
    INDUSTRY,
    PROFESSION,
    PROFESSIONS,
    RELATIONS,
    VALUE_PATTERNS,
    YEAR,
    Fact,
    NAME,
    World,
    build_world,
    phrasings,
    relations_of,
    say,
)

# The first fact's relation names the second fact's subject ("the founder of X"); second relations that would
# point back at the first subject (a founder's employer is the company itself) are left out.
BRIDGES: dict[str, tuple[str, ...]] = {
    "company_founder": ("person_birth_year", "person_birthplace", "person_profession"),
    "company_headquarters": ("town_region", "town_founded", "town_population"),
    "person_birthplace": ("town_region", "town_founded", "town_population"),
    "person_employer": ("company_founded", "company_headquarters", "company_industry", "company_employees"),
}
MAX_CONFUSERS = 200
_MAX_DRAWS = 2_000  # invented words drawn for one keyword before giving up


@dataclass(frozen=True, kw_only=True)
class QaParams(FamilyParams):
    """Knobs of the qa family."""

    confusing_facts: int = param(0, help="Statements that look like the evidence but are about another subject or "
                                         "another attribute (true in the world, never a second answer).",
                                 min=0, max=MAX_CONFUSERS)
    replace_keywords: bool = param(False, help="Write every name and key term of the facts, question and answer "
                                               "with fictional ones from a seeded map (meta.keyword_map).")


def _check(p: QaParams, variant: str, lengths: list[int | None]) -> None:
    """Each statement is a dozen tokens or more."""
    need = 120 + 14 * (p.confusing_facts + 2)
    for length in lengths:
        if length is not None and length < need:
            raise ParamError(f"--len: {length:,} tokens is too short for the question, its evidence and "
                             f"{p.confusing_facts} confusing facts (at least about {need:,})")


@family(
    "qa",
    params=QaParams,
    variants={"single_fact": {}, "multi_fact": {}},
    version="0.1.0",
    papers=("Yuan et al., LV-Eval: A Balanced Long-Context Benchmark with 5 Length Levels Up to 256K, "
            "arXiv:2402.05136",),
    depth_meaning=("Share of the context's tokens before the evidence sentence; multi_fact: the first fact's, the "
                   "second sits at depth + 50 (wrapping)."),
    depth_of="evidence",
    answer_format="The answer alone, as the article writes it.",
    uses_haystack=True,
    metric=qa_metric.score_reply,
    check=_check,
)
def qa(p: QaParams, variant: str, depth: float, rng: random.Random, haystack: Haystack) -> SamplePlan:
    """Plan one sample: a world, the asked chain of facts, the confusers, and filler that never mentions them."""
    world = build_world(rng)
    chain = _chain(world, variant, rng)
    answer_fact = chain[-1]
    confusers = _confusers(world, chain, p.confusing_facts, rng)
    mapping = _keyword_map(chain + [c for c, _ in confusers], rng) if p.replace_keywords else {}
    swap = _replacer(mapping)
    evidence = [_sentence(f, rng, swap) for f in chain]
    confusing = [(_sentence(c, rng, swap), kind, c) for c, kind in confusers]
    depths = [depth] if len(chain) == 1 else [depth, (depth + 50.0) % 100.0]
    needles = [Needle(unit_text(s, "en"), d, order=i) for i, (s, d) in enumerate(zip(evidence, depths))]
    extra = [Needle(unit_text(s, "en"), rng.uniform(0.0, 100.0), order=len(chain) + i)
             for i, (s, _, _) in enumerate(confusing)]
    seq = text_order(extra)  # confusers in text order, after the evidence in chain order
    extra, confusing = [extra[i] for i in seq], [confusing[i] for i in seq]
    question = swap(_question(chain)).rstrip("\n")
    answer = swap(answer_fact.text)
    head, tail = split_prompt(render("qa/prompt.j2", context=CONTEXT_SLOT, question=question))
    mentioned = _mentioned(chain + [c for c, _ in confusers], mapping)
    filler = SentenceUnits(haystack, rng, "en", avoid=mentioned, reject=looks_like_a_fact())
    plan = Plan(head=head, tail=tail, ctx_open="<article>", ctx_close=" </article>", needles=needles + extra,
                filler=filler)
    meta: dict[str, Any] = {
        "chain": [{"subject": swap(f.subject), "relation": f.relation.id, "value": swap(f.text)} for f in chain],
        "evidence": evidence,
        "confusing_facts": [{"sentence": s, "kind": kind, "subject": swap(c.subject), "relation": c.relation.id,
                             "value": swap(c.text)} for s, kind, c in confusing],
    }
    if mapping:
        meta["keyword_map"] = dict(sorted(mapping.items()))
    return SamplePlan(plan=plan, question=question, answer=answer, answers=_aliases(answer), meta=meta)


def _chain(world: World, variant: str, rng: random.Random) -> list[Fact]:
    """The facts the question needs, in order: one, or a bridge fact and the fact about its value."""
    if variant == "single_fact":
        relation = rng.choice(sorted(RELATIONS))
        subject = rng.choice(world.of_kind(RELATIONS[relation].kind)).name
        return [world.fact(subject, relation)]
    first_rel = rng.choice(sorted(BRIDGES))
    subject = rng.choice(world.of_kind(RELATIONS[first_rel].kind)).name
    first = world.fact(subject, first_rel)
    second = world.fact(str(first.value), rng.choice(BRIDGES[first_rel]))
    return [first, second]


def _question(chain: list[Fact]) -> str:
    subject = chain[0].subject
    if len(chain) == 2:
        subject = render_frame(frame_lines(f"qa/descriptions/{chain[0].relation.id}.j2")[0], subject=subject)
    return render_frame(frame_lines(f"qa/questions/{chain[-1].relation.id}.j2")[0], subject=subject)


def _confusers(world: World, chain: list[Fact], n: int, rng: random.Random) -> list[tuple[Fact, str]]:
    """n true facts of the world that look like the evidence: the same relation of another subject of the same
    kind (look-alikes first: people sharing a surname), or another relation of an asked subject; never the asked
    (subject, relation), and never stating the answer or an asked subject's name as a value."""
    asked = {(f.subject, f.relation.id) for f in chain}
    banned = {chain[-1].text} | {f.subject for f in chain}
    pool: list[tuple[Fact, str]] = []
    for f in chain:
        others = [e.name for e in world.of_kind(f.relation.kind) if e.name != f.subject]
        surname = f.subject.rsplit(" ", 1)[-1]
        others.sort(key=lambda name: (not name.endswith(" " + surname), name))
        pool += [(world.fact(o, f.relation), "other_subject") for o in others]
        pool += [(world.fact(f.subject, r), "other_attribute") for r in relations_of(f.relation.kind)
                 if r.id != f.relation.id]
    usable = [(c, kind) for c, kind in pool if (c.subject, c.relation.id) not in asked and c.text not in banned]
    unique = list({(c.subject, c.relation.id): (c, kind) for c, kind in usable}.values())
    if n <= len(unique):
        return rng.sample(unique, n)
    # The world is small (its years and counts are all distinct): the rest are about subjects it does not hold.
    out = rng.sample(unique, len(unique))
    for i in range(n - len(unique)):
        out.append((_about_a_stranger(world, chain[i % len(chain)], banned, rng), "other_subject"))
    return out


def _about_a_stranger(world: World, fact: Fact, banned: set[str], rng: random.Random) -> Fact:
    """The asked relation of a subject the world does not hold, with a value that is not the answer."""
    rel = fact.relation
    for _ in range(64):
        if rel.numeric:
            value: int | str | None = world.distinct_number(rel, int(fact.value), rng, 40 if rel.value_type == YEAR
                                                            else 0.6)
        elif rel.value_type == PROFESSION:
            value = rng.choice(PROFESSIONS)
        elif rel.value_type == INDUSTRY:
            value = rng.choice(INDUSTRIES)
        else:
            value = world.fresh(rel.value_type)
        if value is not None and Fact(fact.subject, rel, value).text not in banned:
            return Fact(world.fresh(rel.kind), rel, value)
    raise ParamError("--confusing-facts: no value left for a confusing fact; ask for fewer")


def _sentence(fact: Fact, rng: random.Random, swap: Callable[[str], str]) -> str:
    """The fact in one of its phrasings, names and key terms replaced (before rendering, so articles agree)."""
    value = fact.value if fact.relation.numeric else swap(fact.text)
    return say(Fact(swap(fact.subject), fact.relation, value), rng.choice(phrasings(fact.relation.id)))


def _aliases(answer: str) -> list[str]:
    """The answer as written, and a count without its thousands separators."""
    bare = answer.replace(",", "")
    return [answer, bare] if bare != answer and bare.isdigit() else [answer]


def _mentioned(facts: list[Fact], mapping: dict[str, str]) -> list[str]:
    """Names, values and key terms the filler must never mention (originals and replacements)."""
    out = set()
    for f in facts:
        out |= {f.subject, f.text}
    out |= set(mapping) | set(mapping.values())
    return sorted(out)


def _keyword_map(facts: list[Fact], rng: random.Random) -> dict[str, str]:
    """Every name and key term (profession, industry) the facts use, mapped to an invented one (``_invented``), word
    by word and consistently, so look-alikes stay look-alikes (two people named Frank keep one new surname): name
    words become capitalized syllable words, term words lower-case ones, none a Faker name, none sharing a run of
    three characters with any original, and none part of another."""
    keys: list[tuple[str, bool]] = []
    for f in facts:
        keys.append((f.subject, True))
        if f.relation.value_type in (PROFESSION, INDUSTRY):
            keys.append((f.text, False))
        elif not f.relation.numeric:
            keys.append((f.text, True))
    banned = set().union(*(runs(k) for k, _ in keys))
    words: dict[tuple[str, bool], str] = {}

    def invent() -> str:
        for _ in range(_MAX_DRAWS):
            word = syllables(rng, rng.choice((2, 3)))
            if (not runs(word) & banned and word not in real_en_names()
                    and all(word not in t and t not in word for t in words.values())):
                return word
        raise ParamError("--replace-keywords: no invented word found; ask for fewer confusing facts")

    mapping: dict[str, str] = {}
    for key, is_name in sorted(dict.fromkeys(keys)):
        parts = []
        for word in key.split(" "):
            if (word, is_name) not in words:
                words[(word, is_name)] = invent()
            parts.append(words[(word, is_name)])
        mapping[key] = " ".join(w.capitalize() if is_name else w for w in parts)
    return mapping


def _replacer(mapping: dict[str, str]) -> Callable[[str], str]:
    """Replace every key of ``mapping`` in a text, longest first, in one pass (so no replacement is replaced)."""
    if not mapping:
        return lambda text: text
    rx = re.compile("|".join(re.escape(k) for k in sorted(mapping, key=lambda k: (-len(k), k))))
    return lambda text: rx.sub(lambda m: mapping[m.group(0)], text)


@functools.lru_cache(maxsize=1)
def fact_patterns() -> list[tuple[str, re.Pattern[str]]]:
    """(relation id, regex) of every phrasing of every relation, subject and value as named groups."""
    out = []
    for rel_id, rel in RELATIONS.items():
        value = VALUE_PATTERNS[rel.value_type]
        for frame in phrasings(rel_id):
            out.append((rel_id, frame_regex(frame, {"subject": NAME, "value": value, "a_value": rf"(?:a|an) {value}"})))
    return out


@functools.lru_cache(maxsize=1)
def looks_like_a_fact() -> Callable[[str], bool]:
    """True for a sentence some phrasing of the world could read as a fact (a cheap keyword test first)."""
    literals = set()
    for rel_id in RELATIONS:
        for frame in phrasings(rel_id):
            literals.add(max(re.split(r"\{\{\s*\w+\s*\}\}", frame), key=len).strip())
    keys = re.compile("|".join(sorted(map(re.escape, literals))))
    patterns = [rx for _, rx in fact_patterns()]
    return lambda text: bool(keys.search(text)) and any(rx.search(text) for rx in patterns)


__all__ = ["BRIDGES", "QaParams", "fact_patterns", "looks_like_a_fact"]
