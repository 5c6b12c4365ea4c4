"""Multi-hop questions over a knowledge graph, phrased by an LLM and kept only when checks pass (after LongMIT's MIMG).

After Chen et al., "What are the Essential Factors in Crafting Effective Long Context Multi-Hop Instruction Datasets?"
(arXiv 2409.01893): each sample's documents are the entities of a seeded world (``generators/_world.py``) as a
networkx knowledge graph; a question follows a chain of 2-4 edges (``--hops``) linked by shared entities. With
``--llm`` the model phrases each hop's single-hop question (with an evidence quote) and merges them into one question;
every candidate must pass the checks in ``_multihop_stages`` (quote verbatim, answer grounded in the graph,
answerable from the evidence alone, not closed-book, every hop necessary, no bridge named, no near-duplicate), and
the rejections are counted per check in ``meta`` and the card. The answer is never the model's: it is the chain's end
in the graph, and ``lcgen validate`` follows the chain through the context's own sentences. The evidence documents
sit at the requested depths among other entities' documents (``--distractors``) and haystack text that names no one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Literal

from lcgen.assemble import CONTEXT_SLOT, Needle, Plan, SamplePlan, split_prompt
from lcgen.errors import ParamError
from lcgen.haystack import Haystack, SentenceUnits
from lcgen.params import FamilyParams, param
from lcgen.registry import family
from lcgen.render import render
from lcgen.validators.metrics import multihop_qa as multihop_metric

from . import _multihop_stages as stages
from ._multihop_corpus import CorpusSource, corpus_pool, mentions
from ._multihop_world import SampleWorld, sample_world
from .qa import looks_like_a_fact


@dataclass(frozen=True, kw_only=True)
class MultihopParams(FamilyParams):
    """Knobs of the multihop-qa family."""

    hops: int = param(2, help="Edges the question's chain follows (2, 3 or 4); one evidence document per hop.",
                      min=2, max=4)
    documents: Literal["world", "haystack"] = param(
        "world", help="world: one document per entity of a seeded knowledge graph, answers checked against it; "
                      "haystack: chunks of --haystack documents, the facts proposed by --llm with verbatim quotes.")
    corpus_documents: int = param(8, help="--documents haystack: documents of the corpus per sample (up to three "
                                          "chunks of eight sentences each).", min=2, max=64)
    questions_per_chunk: int = param(6, help="Single-hop questions the LLM may write per evidence chunk (a chunk is "
                                            "one entity's document, 4-6 facts).", min=1, max=12)
    candidates: int = param(4, help="Chains (distinct first entities) a sample tries, in order, before --fallback.",
                            min=1, max=16)
    distractors: int = param(16, help="Other entities' documents placed among the evidence (the world holds 44).",
                             min=0, max=40)
    distractor_similarity: Literal["similar", "random"] = param(
        "similar", help="similar: documents of the evidence entities' kinds first, look-alikes (a shared surname, "
                        "region, industry or town) before the rest; random: any other entities.")
    strictness: Literal["strict", "standard", "basic"] = param(
        "strict", help="strict: every check; standard: all but every-hop-necessary (fewer calls); basic: only the "
                       "checks that need no model call.")
    fallback: Literal["template", "error"] = param(
        "template", help="When every candidate is rejected: template = lcgen's own question for the first chain "
                         "(recorded in meta.question_source), error = stop with one line.")


def regenerate(spec: Any) -> SampleWorld | CorpusSource:
    """the knowledge graph it was drawn from (world, documents and candidate chains), or for corpus documents the
    sample's pool of chunks with the chain the model's questions claim.

    The declared source: what the oracle checks the chain against, replayed from the recorded seed; no LLM call."""
    from lcgen.haystack import get_haystack
    from lcgen.make import sample_rng

    p = spec.params
    if p.get("documents") == "haystack":
        return CorpusSource(tuple(corpus_pool(get_haystack(spec.haystack), sample_rng(spec), p["corpus_documents"])),
                            spec.prepared)
    return sample_world(sample_rng(spec), p["hops"], p["candidates"])


def prepare(ctx: Any) -> Any:
    """The run-wide stage: the LLM's questions for every sample, checked and counted (``_multihop_stages``)."""
    from lcgen.haystack import get_haystack
    from lcgen.make import Prepared, sample_rng

    def begin(spec: Any) -> tuple[MultihopParams, SampleWorld | None, list | None]:
        p = MultihopParams(**spec.params)
        if p.documents == "haystack":
            return p, None, corpus_pool(get_haystack(spec.haystack), sample_rng(spec), p.corpus_documents)
        return p, sample_world(sample_rng(spec), p.hops, p.candidates), None

    payloads, summary = stages.run(ctx.specs, ctx.llm, ctx.stage, ctx.notify, begin)
    return Prepared(samples=payloads, card=render("multihop_qa/card.j2", **summary).strip() + "\n")


def _check(p: MultihopParams, variant: str, lengths: list[int | None]) -> None:
    """The evidence and distractor documents take about 35 tokens each."""
    need = 200 + 40 * (p.hops + p.distractors)
    for length in lengths:
        if length is not None and length < need:
            raise ParamError(f"--len: {length:,} tokens is too short for {p.hops} evidence and {p.distractors} "
                             f"distractor documents (at least about {need:,}; ask for fewer --distractors)")


@family(
    "multihop-qa",
    params=MultihopParams,
    variants={"multi_hop": {}},
    version="0.1.0",
    papers=("Chen et al., What are the Essential Factors in Crafting Effective Long Context Multi-Hop Instruction "
            "Datasets? Insights and Best Practices (LongMIT, MIMG), arXiv:2409.01893",),
    depth_meaning=("Share of the context's tokens before the first hop's evidence document; hop k's sits at "
                   "depth + 100·k/hops (wrapping)."),
    depth_of="evidence",
    answer_format="The answer alone, as the passages write it.",
    uses_haystack=True,
    metric=multihop_metric.score_reply,
    check=_check,
    difficulty=("hops", "question_source"),
    source=regenerate,
    prepare=prepare,
    distinct_questions=True,
)
def multihop_qa(p: MultihopParams, variant: str, depth: float, rng: random.Random, haystack: Haystack,
                length: int | None = None, prepared: Any = None) -> SamplePlan:
    """Plan one sample: the world (as the run-wide stage drew it), the chosen chain's documents at their depths,
    distractor documents, and filler that names no entity."""
    if p.documents == "haystack":
        return _corpus_plan(p, depth, rng, haystack, length, prepared)
    sw = sample_world(rng, p.hops, p.candidates)
    if not sw.candidates:
        raise ParamError(f"--hops: the world holds no chain of {p.hops} hops")
    if prepared is None:  # a sample built on its own, without the run-wide stage: as a run without --llm
        prepared = stages.lone_payload(p, sw)
    chain = sw.candidates[prepared["candidate"]]
    evidence = chain.entities
    others = _distractors(sw, evidence, p, rng)
    depths = _depths(depth, p.hops)
    longest = max(len(d.text) for d in sw.documents.values())
    needles = [Needle(" " + sw.documents[e].text, d, order=k) for k, (e, d) in enumerate(zip(evidence, depths))]
    extra = [Needle(" " + sw.documents[o].text, _clear_of(depths, longest, length, rng), order=p.hops + i,
                    recorded=False) for i, o in enumerate(others)]
    avoid = sorted({n for n in sw.world.names.taken} | {chain.answer})
    meta: dict[str, Any] = {
        "hops": p.hops,
        "chain": [h.to_dict() for h in chain.hops],
        "evidence": [sw.documents[e].text for e in evidence],
        "distractor_documents": others,
    }
    return _sample(needles + extra, avoid, chain.answer, prepared, meta, haystack, rng)


def _depths(depth: float, hops: int) -> list[float]:
    return [(depth + 100.0 * k / hops) % 100.0 if k else depth for k in range(hops)]


def _sample(needles: list[Needle], avoid: list[str], answer: str, prepared: dict[str, Any], meta: dict[str, Any],
            haystack: Haystack, rng: random.Random, world: bool = True) -> SamplePlan:
    question = render("multihop_qa/question.j2", text=prepared["question"]).strip()
    head, tail = split_prompt(render("multihop_qa/prompt.j2", context=CONTEXT_SLOT, question=question))
    # Around world documents no filler sentence may read as a fact; a corpus is facts: only its answers are kept out.
    filler = SentenceUnits(haystack, rng, "en", avoid=avoid, reject=looks_like_a_fact() if world else None)
    plan = Plan(head=head, tail=tail, ctx_open="<documents>", ctx_close=" </documents>", needles=needles,
                filler=filler)
    meta = {**meta, **{k: prepared[k] for k in ("candidate", "question_source", "single_hop_questions",
                                                "merge_steps", "checks", "rejected_candidates", "llm",
                                                "prompt_templates") + (("claims",) if "claims" in prepared else ())}}
    bare = answer.replace(",", "")
    answers = [answer] + ([bare] if bare != answer and bare.isdigit() else [])
    return SamplePlan(plan=plan, question=question, answer=answer, answers=answers, meta=meta)


def _corpus_plan(p: MultihopParams, depth: float, rng: random.Random, haystack: Haystack, length: int | None,
                 prepared: Any) -> SamplePlan:
    """A corpus sample: the claimed chain's chunks at their depths, other chunks of the pool as distractors (none
    holding an answer), and filler of the same corpus without any sentence that names an answer."""
    pool = corpus_pool(haystack, rng, p.corpus_documents)
    if prepared is None or "claims" not in prepared:
        raise ParamError("--documents haystack: the model proposes the facts of corpus documents; give --llm")
    claims = prepared["claims"]
    chunks = claims["chunks"]
    answers = [h["answer"] for h in claims["hops"]]
    depths = _depths(depth, p.hops)
    longest = max(len(c.text) for c in pool)
    needles = [Needle(" " + pool[c].text, d, order=k) for k, (c, d) in enumerate(zip(chunks, depths))]
    others = [k for k in range(len(pool)) if k not in chunks and not any(mentions(pool[k].text, a) for a in answers)]
    others = rng.sample(others, min(p.distractors, len(others)))
    extra = [Needle(" " + pool[o].text, _clear_of(depths, longest, length, rng), order=p.hops + i, recorded=False)
             for i, o in enumerate(others)]
    meta = {"hops": p.hops, "chain": claims["hops"], "evidence": [pool[c].text for c in chunks],
            "distractor_documents": [f"chunk {o}" for o in others]}
    return _sample(needles + extra, sorted(set(answers)), answers[-1], prepared, meta, haystack, rng, world=False)


def _clear_of(depths: list[float], longest: int, length: int | None, rng: random.Random) -> float:
    """A depth for a distractor document that does not end past an evidence document's target (which would push it
    off its depth): outside the share of the context one document takes just before each target."""
    if not length:
        return rng.uniform(0.0, 100.0)
    window = 100.0 * (longest / 3.0) / length  # a generous bound of one document's share (>= 3 characters a token)
    for _ in range(64):
        d = rng.uniform(0.0, 100.0)
        if all(not (e - window <= d <= e) for e in depths):
            return d
    return 100.0 if all(e < 100.0 - window for e in depths) else 0.0


def _distractors(sw: SampleWorld, evidence: list[str], p: MultihopParams, rng: random.Random) -> list[str]:
    """Other entities whose documents stand among the evidence: look-alikes first when asked for."""
    world = sw.world
    others = [name for name in sw.documents if name not in evidence]
    if p.distractor_similarity == "random":
        return rng.sample(others, min(p.distractors, len(others)))
    kinds = {world.kind_of(e) for e in evidence}
    marks = set()
    for e in evidence:
        marks.add(e.rsplit(" ", 1)[-1])
        marks |= {f.text for f in world.facts(e) if not f.relation.numeric}
    rng.shuffle(others)

    def closeness(name: str) -> tuple[int, int]:
        doc = sw.documents[name].text
        alike = any(m in doc for m in marks)
        return (world.kind_of(name) not in kinds, not alike)

    return sorted(others, key=closeness)[: p.distractors]


__all__ = ["MultihopParams", "regenerate"]
