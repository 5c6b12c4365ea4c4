"""Holistic queries: database operations (selection, aggregation, extremes, grouping, joins) over verbalized rows.

After HoloBench (Maekawa, Iso, Bhutani, arXiv 2410.11996, ICLR 2025), without its bugs: every row of a small
seeded database (``_tables*``: company, retail, aviation and wine domains) is one sentence; the rows the query
needs (the *relevant* rows, the needles) sit among *distractor* rows that provably cannot change the answer: rows
of the queried table that fail a condition, belong to a group not asked about or join nothing, and rows of the
domain's other tables (``_holistic_distractors``). For join, rows only the joined-table condition excludes (a
joined row that fails it, with main-table rows that meet every other condition) are placed too, so that condition
always matters. Every key is unique, so no row repeats.

Knobs mean what they say, in tokens of the sample's tokenizer: ``--len`` is the whole prompt; ``--relevant`` is
the number of relevant rows and ``--density`` the share of the context's tokens they take (one of them, or both if
they agree within ``density_tolerance``); ``--position`` places them by token depth (``_holistic_layout``). When
they leave the filler only a few rows' worth of tokens, ``_holistic_fit`` makes that a number the filler can hit
exactly, or refuses the sample. The gold answer is the query's SQL (``_holistic_query``) run by polars over exactly
the relevant rows in the context (``_holistic_answer``); the oracle in ``lcgen.validators.holistic_queries``
re-reads every row and the question and re-runs the query in sqlite3 over all rows of the context, distractors
included.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Literal

from lcgen.assemble import CONTEXT_SLOT, Plan, SamplePlan, split_prompt
from lcgen.errors import ParamError
from lcgen.params import FamilyParams, param
from lcgen.registry import family
from lcgen.render import render
from lcgen.sizing import frame
from lcgen.validators.metrics import holistic_queries as holistic_queries_metric

from ._holistic_answer import gold_answer
from ._holistic_distractors import Distractors
from ._holistic_fit import Row, fit_rows, step_tokens
from ._holistic_layout import CTX_CLOSE, CTX_OPEN, DEFAULT_RELEVANT, Unfit, density_tolerance, place, relevant_rows
from ._holistic_query import AGGREGATES, draw_query, question_text
from ._tables import DOMAINS, TEMPLATES
from ._tables_values import Keys, Pools

_ATTEMPTS = 64
_UNFIT_ATTEMPTS = 8  # draws whose rows cannot be fitted to the length before the sample is refused
_ROW_TOKENS_GUESS = 30  # only to pick an extreme's column with room for distinct values


@dataclass(frozen=True, kw_only=True)
class HolisticQueriesParams(FamilyParams):
    """Knobs of the holistic-queries family."""

    relevant: int = param(0, help="Rows that affect the answer (0: as many as --density asks for, or 8 without it).",
                          min=0, max=200_000)
    density: float = param(0.0, help="Share of the context's tokens taken by the relevant rows (0: whatever "
                           "--relevant rows take).", min=0.0, max=0.95)
    position: Literal["uniform", "begin", "middle", "end", "bimodal"] = param(
        "uniform", help="Where relevant rows sit by token depth: evenly spaced from the sample's depth, one block at "
        "the start, centred on 50%, at the end, or half a block at each end.")
    predicates: int = param(1, help="Conditions in the query (join: the first is on the joined table).", min=0, max=3)
    aggregate: Literal["random", "count", "sum", "avg", "max", "min"] = param(
        "random", help="aggregation: count/sum/avg; extreme: max/min; group_by: any (random: drawn per sample).",
        variants=("aggregation", "extreme", "group_by"))
    groups: int = param(3, help="Groups the question asks about.", min=2, max=8, variants=("group_by",))
    fanout: int = param(2, help="Main-table rows joined to each matching row of the joined table.", min=1, max=20,
                        variants=("join",))
    domain: Literal["random", "company", "retail", "aviation", "wine"] = param(
        "random", help="The database the tables come from (random: drawn per sample).")


VARIANTS = {"selection": {}, "aggregation": {}, "extreme": {}, "group_by": {}, "join": {}}


def _check_knobs(p: HolisticQueriesParams, variant: str, lengths: list[int | None]) -> None:
    """Knobs that contradict the variant or each other, refused before the first sample."""
    allowed = AGGREGATES.get(variant)
    if p.aggregate != "random" and (allowed is None or p.aggregate not in allowed):
        use = ", ".join(("random",) + (allowed or ()))
        raise ParamError(f"--aggregate: {p.aggregate} does not apply to {variant} (use {use})")
    if variant == "join" and p.predicates < 1:
        raise ParamError("--predicates: join needs at least 1 (the condition on the joined table)")
    step = p.fanout + 1
    if p.relevant and variant == "join" and p.relevant % step:
        raise ParamError(f"--relevant: {p.relevant} is not a multiple of {step} (join with --fanout {p.fanout}: each "
                         f"matching joined row brings {p.fanout} main-table rows)")
    if p.relevant and variant == "group_by" and p.relevant < p.groups:
        raise ParamError(f"--relevant: {p.relevant} is fewer than --groups {p.groups} (each group asked about needs "
                         "a row)")


@family(
    "holistic-queries",
    params=HolisticQueriesParams,
    variants=VARIANTS,
    version="0.2.0",
    papers=("Maekawa, Iso, Bhutani, Holistic Reasoning with Long-Context LMs: A Benchmark for Database Operations "
            "on Massive Textual Data, ICLR 2025, arXiv:2410.11996",),
    depth_of="relevant row",
    depth_meaning="Share of the context's tokens before each relevant row, in text order. uniform: one row at the "
    "sample's depth, the rest evenly spaced (wrapping); begin/middle/end/bimodal: fixed blocks, and the sample's "
    "depth must fall inside one. join: `depth` then lists the rows only the joined-table condition excludes (and the "
    "joined rows they point to), spread outside the blocks.",
    answer_format="A JSON list of keys (selection, join), of \"group: value\" strings sorted by group (group_by), "
    "or one number or key; averages with two decimals, halves rounded up.",
    metric=holistic_queries_metric.score_reply,
    difficulty=("relevant", "density_requested", "position", "predicates", "aggregate", "groups", "fanout", "domain"),
    check=_check_knobs,
    content_in_tokens=True,
)
def holistic_queries(p: HolisticQueriesParams, variant: str, depth: float, rng: random.Random,
                     length: int | None = None, tokenizer=None) -> SamplePlan:
    """Plan one sample; ``length`` is the target in tokens (densities are shares of it), ``tokenizer`` the
    sample's tokenizer or its name (cl100k_base until the core passes it)."""
    if length is None:
        raise ParamError("--len: holistic-queries needs a target length (density and distractors are shares of it)")
    from lcgen.tokenizer import as_tokenizer

    tok = as_tokenizer(tokenizer)
    _check_knobs(p, variant, [length])  # also when planned outside `lcgen make` (tests, other tools)
    pools = Pools(random.Random(rng.getrandbits(64)))
    base = rng.getrandbits(64)
    unfit = 0
    for attempt in range(_ATTEMPTS):  # a new query when an answer would also be part of the question, or (a few
        try:  # times) when this query's rows cannot be fitted to the length
            sp = _attempt(p, variant, depth, random.Random(f"holistic-queries/{base}/{attempt}"), length, tok, pools)
        except Unfit:
            unfit += 1
            if unfit == _UNFIT_ATTEMPTS:
                raise
            continue
        if sp is not None:
            return sp
    raise RuntimeError("no query without an answer inside its question")  # a bug, not user input


def _attempt(p, variant, depth, rng, length, tok, pools) -> SamplePlan | None:
    guess = p.relevant or (p.density * length / _ROW_TOKENS_GUESS if p.density else DEFAULT_RELEVANT)
    q = draw_query(p, variant, rng, guess)
    dom = DOMAINS[q.domain]
    question = question_text(q, rng)
    head, tail = split_prompt(render(f"{TEMPLATES}/prompt.j2", domain=dom.label, context=CONTEXT_SLOT,
                                     question=question))
    fr = frame(tok, length, head, tail, CTX_OPEN, CTX_CLOSE)
    context = fr.context
    keys = {t.name: Keys(t.col(t.key), pools, rng) for t in dom.tables}
    block = relevant_rows(p, q, rng, pools, keys, fr)
    rows = [r for s in block.items for r in s]
    units = [u for s in block.units for u in s]
    answer, answers, sql = gold_answer(q, rows)
    if any(a in question for a in answers):
        return None
    order = list(range(len(units)))
    rng.shuffle(order)  # the text order of relevant rows planned at the same depth
    rel_dims = {r[1][dom.dim.key] for r in rows if r[0] == dom.dim.name}
    filler = Distractors(q, pools, keys, rel_dims, random.Random(rng.getrandbits(64)))
    relevant = [Row(name, r, u, n) for (name, r), u, n in zip(rows, units, (n for s in block.counts for n in s))]
    sizes = [len(s) for s in block.items]
    fitted = fit_rows(p, q, relevant, filler, fr, sizes)
    tokens = sum(r.tokens for r in fitted.relevant)
    extra_rng = random.Random(filler.rng.getrandbits(64)) if fitted.extra else None
    needles = place(p.position, depth, [r.unit for r in fitted.relevant], [r.tokens for r in fitted.relevant],
                    context, order, [r.unit for r in fitted.extra], extra_rng)
    plan = Plan(head=head, tail=tail, ctx_open=CTX_OPEN, ctx_close=CTX_CLOSE, needles=needles, filler=fitted.filler)
    largest_step = max(step_tokens(fitted.relevant, sizes))
    meta = {
        "domain": q.domain, "table": q.table, "sql": sql, "query": asdict(q),
        "relevant": len(rows), "relevant_requested": p.relevant or None,
        "density_requested": p.density or None, "density_measured": round(tokens / context, 6),
        "density_tolerance": round(density_tolerance(p.density, bool(p.relevant), largest_step, context), 6)
        if p.density else None,
        "relevant_tokens": tokens, "position": p.position, "predicates": len(q.conds),
        "aggregate": q.aggregate, "groups": len(q.groups) or None, "fanout": q.fanout or None,
        "join_excluded": sum(r.table == q.table for r in fitted.extra) if variant == "join" else None,
    }
    return SamplePlan(plan=plan, question=question, answer=answer, answers=answers, meta=meta)
