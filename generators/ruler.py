"""RULER's 13 tasks at exact lengths: needles in a haystack, variable tracking, common and frequent words, QA.

After Hsieh et al. (RULER, arXiv 2404.06654; docs/ruler.md): the same variants, knobs and defaults as NVIDIA's
``scripts/synthetic.yaml``, the same prompt skeletons and answer formats (the answer prefix, which RULER appends
after the prompt, is ``meta.answer_prefix``), built by lcgen's engine to the exact token length instead of RULER's
search for the largest haystack that fits. Haystacks: RULER's noise line and needle distractors built in, the essay
haystack from ``--haystack`` (no essays are bundled; the procedural prose is the offline default). cwe, fwe and qa
write their whole context themselves, sized at plan time to the exact length. The oracle in
``lcgen.validators.ruler`` re-reads every sample; the metric is RULER's string_match_all / string_match_part.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from typing import Any, Literal

from lcgen.assemble import CONTEXT_SLOT, Needle, Plan, SamplePlan, counts_after, split_prompt
from lcgen.errors import ParamError
from lcgen.frames import frame_lines, render_frame
from lcgen.haystack import Haystack, SentenceUnits, unit_text
from lcgen.params import FamilyParams, param
from lcgen.registry import family
from lcgen.render import render
from lcgen.validators.metrics import ruler as ruler_metric

from . import _ruler_lists, _ruler_qa
from ._ruler_text import (
    MAX_DRAWS,
    NeedleLines,
    NoiseLines,
    fresh,
    grid_depths,
    join_keys,
    needle_line,
    noise_line,
    shortened_lines,
    shortened_text,
)

NIAH = ("niah_single_1", "niah_single_2", "niah_single_3", "niah_multikey_1", "niah_multikey_2", "niah_multikey_3",
        "niah_multivalue", "niah_multiquery")
LISTS = ("cwe", "fwe")
QA = ("qa_1", "qa_2")
# Generation budgets (RULER's tokens_to_generate): recorded in meta for harnesses, never part of the prompt.
BUDGETS = {**{v: 128 for v in NIAH}, "vt": 30, "cwe": 120, "fwe": 50, "qa_1": 32, "qa_2": 32}
MAGIC = "special magic"  # what an essay sentence must not say (it would read as a needle)
Kind = Literal["words", "numbers", "uuids"]


@dataclass(frozen=True, kw_only=True)
class RulerParams(FamilyParams):
    """RULER's knobs, named as in its scripts/synthetic.yaml (``--num-needle-k`` is ``num_needle_k``)."""

    type_haystack: Literal["noise", "essay", "needle"] = param(
        "essay", help="noise: RULER's one line repeated; essay: sentences of --haystack; needle: distractor "
                      "needles of the same form (niah), noise or essay (vt).", variants=NIAH + ("vt",))
    type_needle_k: Kind = param("words", help="Keys: adjective-noun words, 7-digit numbers or UUIDs.", variants=NIAH)
    type_needle_v: Kind = param("numbers", help="Values: words, numbers or UUIDs.", variants=NIAH)
    num_needle_k: int = param(1, help="Keys hidden (raised to --num-needle-q, as RULER does).", min=1, max=100,
                              variants=NIAH)
    num_needle_v: int = param(1, help="Values per key.", min=1, max=100, variants=NIAH)
    num_needle_q: int = param(1, help="Keys asked for; the answer is every value of them.", min=1, max=100,
                              variants=NIAH)
    num_chains: int = param(1, help="Variable chains; the first is asked, the others are distractors.", min=1,
                            max=50, variants=("vt",))
    num_hops: int = param(4, help="Assignments after the first in each chain.", min=1, max=50, variants=("vt",))
    freq_cw: int = param(30, help="Occurrences of each common word (6 below 4,096 tokens, as RULER).", min=2,
                         max=10_000, variants=("cwe",))
    freq_ucw: int = param(3, help="Occurrences of each other word (1 below 4,096 tokens, as RULER).", min=1,
                          max=1_000, variants=("cwe",))
    num_cw: int = param(10, help="Common words asked for.", min=1, max=100, variants=("cwe",))
    alpha: float = param(2.0, help="Zipf exponent of the coded words' counts (rank k occurs ~N k^-alpha / "
                                   "zeta(alpha) times).", min=1.05, max=10.0, variants=("fwe",))
    coded_wordlen: int = param(6, help="Letters of each coded word.", min=3, max=20, variants=("fwe",))
    qa_source: str = param(
        "procedural", help="QA items: procedural (lcgen's stand-in, offline), files:PATH (RULER's SQuAD v2 / "
                           "HotpotQA dev JSON) or hf:REPO[:CONFIG][:SPLIT][@REV].", variants=QA)


VARIANTS: dict[str, dict[str, Any]] = {
    "niah_single_1": {"type_haystack": "noise", "type_needle_k": "words", "type_needle_v": "numbers"},
    "niah_single_2": {"type_haystack": "essay", "type_needle_k": "words", "type_needle_v": "numbers"},
    "niah_single_3": {"type_haystack": "essay", "type_needle_k": "words", "type_needle_v": "uuids"},
    "niah_multikey_1": {"type_haystack": "essay", "type_needle_k": "words", "type_needle_v": "numbers",
                        "num_needle_k": 4},
    "niah_multikey_2": {"type_haystack": "needle", "type_needle_k": "words", "type_needle_v": "numbers"},
    "niah_multikey_3": {"type_haystack": "needle", "type_needle_k": "uuids", "type_needle_v": "uuids"},
    "niah_multivalue": {"type_haystack": "essay", "type_needle_k": "words", "type_needle_v": "numbers",
                        "num_needle_v": 4},
    "niah_multiquery": {"type_haystack": "essay", "type_needle_k": "words", "type_needle_v": "numbers",
                        "num_needle_q": 4},
    "vt": {"type_haystack": "noise", "num_chains": 1, "num_hops": 4},
    "cwe": {"freq_cw": 30, "freq_ucw": 3, "num_cw": 10},
    "fwe": {"alpha": 2.0},
    "qa_1": {"qa_source": "procedural"},
    "qa_2": {"qa_source": "procedural"},
}
LM_EVAL_TASKS = {**{v: v for v in NIAH}, "vt": "ruler_vt", "cwe": "ruler_cwe", "fwe": "ruler_fwe",
                 "qa_1": "ruler_qa_squad", "qa_2": "ruler_qa_hotpot"}


def _check(p: RulerParams, variant: str, lengths: list[int | None]) -> None:
    """Refuse before the first sample what cannot be made."""
    if any(n is None for n in lengths):
        raise ParamError("--len: ruler needs a length")
    if variant in NIAH and p.type_haystack not in ("noise", "essay", "needle"):
        raise ParamError(f"--type-haystack: {p.type_haystack!r} is not one of noise, essay, needle")
    if variant == "vt" and p.type_haystack == "needle":
        raise ParamError("--type-haystack: vt takes noise or essay (RULER has no needle haystack for it)")
    if variant == "cwe":
        _ruler_lists.check_cwe(p, lengths)
    if variant in QA:
        _ruler_qa.check_source(p.qa_source, variant)


@family(
    "ruler",
    params=RulerParams,
    variants=VARIANTS,
    version="0.1.0",
    papers=("Hsieh et al., RULER: What's the Real Context Size of Your Long-Context Language Models?, "
            "arXiv:2404.06654",),
    depth_meaning=(
        "niah: one needle of the first asked key sits at the depth, every other needle at a depth drawn without "
        "replacement from RULER's 40-depth grid. vt: the first assignment of the asked chain (its later hops at "
        "random depths after it). qa: the document that answers (SQuAD) or the first supporting paragraph "
        "(HotpotQA). cwe and fwe have no depth (one sample per length)."
    ),
    answer_format="RULER's: every value (niah), every variable name (vt), the words (cwe, fwe), the answer (qa); "
                  "scored by substring as RULER does.",
    uses_haystack=True,
    turns=False,
    check=_check,
    metric=ruler_metric.score_reply,
    depthless=LISTS,
    lm_eval_tasks=LM_EVAL_TASKS,
    source=_ruler_qa.source,
    difficulty=("type_haystack",),
)
def ruler(p: RulerParams, variant: str, depth: float, rng: random.Random, haystack: Haystack,
          length: int | None = None, tokenizer: Any = None, allow_repeat: bool = False) -> SamplePlan:
    """Plan one sample of a RULER task."""
    if length is None:
        raise ParamError("--len: ruler needs a length")
    if variant in NIAH:
        sp = _niah(p, variant, depth, rng, haystack, length, tokenizer)
    elif variant == "vt":
        sp = _vt(p, depth, rng, haystack, length, tokenizer)
    elif variant == "cwe":
        sp = _ruler_lists.cwe(p, rng, length, tokenizer)
    elif variant == "fwe":
        sp = _ruler_lists.fwe(p, rng, length, tokenizer)
    else:
        sp = _ruler_qa.qa(p, variant, depth, rng, length, tokenizer, allow_repeat)
    sp.meta.update(tokens_to_generate=BUDGETS[variant])
    return sp


# --- NIAH -------------------------------------------------------------------------------------------------------


def _niah(p: RulerParams, variant: str, depth: float, rng: random.Random, haystack: Haystack, length: int,
          tok: Any) -> SamplePlan:
    k = max(p.num_needle_k, p.num_needle_q)
    taken: set[str] = set()
    keys = [fresh(p.type_needle_k, rng, taken, "--num-needle-k") for _ in range(k)]
    values = [[fresh(p.type_needle_v, rng, taken, "--num-needle-v") for _ in range(p.num_needle_v)] for _ in keys]
    queried = rng.sample(range(k), p.num_needle_q)
    frame = frame_lines("ruler/needle.j2")[0]
    texts = [(i, needle_line(frame, p.type_needle_v, keys[i], v)) for i in range(k) for v in values[i]]
    anchor = rng.choice([j for j, (i, _) in enumerate(texts) if i == queried[0]])
    depths = grid_depths(rng, len(texts) - 1, depth)
    depths.insert(anchor, depth)
    lines = p.type_haystack != "essay"
    placed = sorted(zip(depths, range(len(texts))), key=lambda t: t)  # text order: by depth, then plan order
    # Only the queried keys' needles are recorded (depth, needle_offsets): the others read as the needle haystack's
    # distractors do, so no reader of the text alone could tell them apart.
    asked = set(queried)
    needles = [Needle(texts[j][1] + "\n" if lines else unit_text(texts[j][1], "en"), d, order=n,
                      recorded=texts[j][0] in asked) for n, (d, j) in enumerate(placed)]
    in_text = [texts[j] for _, j in placed]
    # The answer: each queried key's values in text order, keys in the question's order.
    answers = [line.rsplit(" ", 1)[1][:-1] for i in queried for key, line in in_text if key == i]
    one = len(answers) == 1
    words = {"one": one, "kind": p.type_needle_v[:-1], "kinds": p.type_needle_v, "query": join_keys(
        [keys[i] for i in queried])}
    question = render("ruler/niah_question.j2", **words).rstrip("\n")
    instruction = render("ruler/niah_instruction.j2", **words).rstrip("\n")
    prompt = render("ruler/niah_prompt.j2", instruction=instruction, context=CONTEXT_SLOT, question=question)
    head, tail = split_prompt(prompt.rstrip("\n"))
    avoid = set(keys) | {v for vs in values for v in vs}
    extra, filler = _haystack(p.type_haystack, rng, haystack, avoid, tok, length, head, tail, needles, frame=frame,
                              kinds=(p.type_needle_k, p.type_needle_v))
    plan = Plan(head=head, tail=tail, ctx_open="", ctx_close="" if lines else " \n", needles=needles + extra,
                filler=filler, needle_after=_line_before(p.type_haystack, frame))
    meta = {"keys": [keys[i] for i in queried], "all_keys": keys, "type_haystack": p.type_haystack,
            "answer_prefix": render("ruler/niah_prefix.j2", **words).rstrip("\n")}
    return SamplePlan(plan=plan, question=question, answer=", ".join(answers), answers=answers, meta=meta)


def _haystack(kind: str, rng: random.Random, haystack: Haystack, avoid: set[str], tok: Any, length: int, head: str,
              tail: str, needles: list[Needle], *, frame: str = "", kinds: tuple[str, str] = ("words", "numbers")):
    """The filler of a haystack type, and the unrecorded needles it needs: for noise, the few shortened lines at the
    context's end that make the whole lines fit exactly."""
    if kind == "essay":
        return [], SentenceUnits(haystack, rng, "en", avoid=sorted(avoid), reject=_reads_like_a_needle)
    if kind == "needle":
        return [], NeedleLines(rng, frame, kinds[0], kinds[1], avoid)
    from lcgen.sizing import frame as frame_of

    fr = frame_of(tok, length, head, tail, "", "", unit=noise_line() + "\n")
    line, *prefixes = counts_after(tok, [noise_line() + "\n"] + [shortened_text(k) for k in range(1, 5)],
                                   noise_line() + "\n")
    room = fr.room - sum(counts_after(tok, [n.text for n in needles], noise_line() + "\n"))
    if room < 0:
        raise ParamError(f"--len: {length:,} tokens is too short for this sample's prompt and needles")
    cut = shortened_lines(room, line, prefixes, f"{length:,} tokens")
    # At the context's start, after any needle placed at depth 0 (a needle at the end stays last).
    extra = [Needle(shortened_text(k), 0.0, order=len(needles) + i, recorded=False) for i, k in enumerate(cut)]
    return extra, NoiseLines()


def _line_before(kind: str, frame: str) -> str:
    """What a needle line follows in a line haystack (a noise line, or a distractor of the needle's form); ""
    for an essay, whose needles start with a space like its sentences."""
    if kind == "noise":
        return noise_line() + "\n"
    if kind == "needle":
        return render_frame(frame, type_needle_v="numbers", key="mock-key", value="1000000") + "\n"
    return ""


def _reads_like_a_needle(sentence: str) -> bool:
    """An essay sentence that a reader could take for a needle or an assignment is left out."""
    return MAGIC in sentence.lower() or "VAR " in sentence


# --- variable tracking --------------------------------------------------------------------------------------------


def _names(rng: random.Random, n: int, letters: int, taken: set[str]) -> list[str]:
    out: list[str] = []
    for _ in range(n + MAX_DRAWS):
        if len(out) == n:
            return out
        name = "".join(rng.choices(string.ascii_uppercase, k=letters))
        if name not in taken and name != "VAR" and not any(name in t or t in name for t in taken):
            taken.add(name)
            out.append(name)
    raise ParamError(f"--num-chains: {n} distinct variable names not found; ask for fewer chains or hops")


def _chains(rng: random.Random, chains: int, hops: int, letters: int, taken: set[str], values: set[int],
            frames: tuple[str, str]) -> tuple[list[list[str]], list[list[str]], list[int]]:
    """Names, statements and values of ``chains`` chains of ``hops`` assignments after the first."""
    names, statements, firsts = [], [], []
    for _ in range(chains):
        chain = _names(rng, hops + 1, letters, taken)
        for _ in range(MAX_DRAWS):
            value = rng.randint(10_000, 99_999)
            if value not in values:
                values.add(value)
                break
        lines = [render_frame(frames[0], name=chain[0], value=value)]
        lines += [render_frame(frames[1], name=b, previous=a) for a, b in zip(chain, chain[1:])]
        names.append(chain)
        statements.append(lines)
        firsts.append(value)
    return names, statements, firsts


def _vt(p: RulerParams, depth: float, rng: random.Random, haystack: Haystack, length: int, tok: Any) -> SamplePlan:
    frames = frame_lines("ruler/vt_statement.j2")
    taken: set[str] = set()
    used: set[int] = set()
    names, statements, values = _chains(rng, p.num_chains, p.num_hops, 5, taken, used, frames)
    lines = p.type_haystack == "noise"
    placements: list[tuple[float, int, str, bool]] = []  # (depth, chain, text, recorded)
    for c, chain in enumerate(statements):
        start = depth if c == 0 else rng.uniform(0.0, 100.0)
        later = sorted(rng.uniform(start, 100.0) for _ in chain[1:])
        for d, text in zip([start] + later, chain):
            placements.append((d, c, text, True))
    placements.sort(key=lambda t: t[0])
    needles = [Needle(text + "\n" if lines else unit_text(text + ".", "en"), d, order=n)
               for n, (d, _, text, _) in enumerate(placements)]
    example = _vt_example(p, rng, taken, used, frames, length)
    value = values[0]
    question = render("ruler/vt_question.j2", value=value).rstrip("\n")
    prompt = render("ruler/vt_prompt.j2", example=example, context=CONTEXT_SLOT, question=question).rstrip("\n")
    head, tail = split_prompt(prompt)
    extra, filler = _haystack(p.type_haystack, rng, haystack, taken | {str(v) for v in used}, tok, length, head,
                              tail, needles)
    plan = Plan(head=head, tail=tail, ctx_open="", ctx_close="" if lines else " \n", needles=needles + extra,
                filler=filler, needle_after=_line_before(p.type_haystack, frames[0]))
    prefix = render("ruler/vt_prefix.j2", count=len(names[0]), value=value).rstrip("\n")
    meta = {"chains": names, "type_haystack": p.type_haystack, "answer_prefix": prefix}
    return SamplePlan(plan=plan, question=question, answer=" ".join(names[0]), answers=list(names[0]), meta=meta)


def _vt_example(p: RulerParams, rng: random.Random, taken: set[str], used: set[int], frames: tuple[str, str],
                length: int) -> str:
    """RULER's one-shot example: a small sample with 3-letter names, its own noise lines, and its answer."""
    hops = min(10, p.num_hops)
    names, statements, values = _chains(rng, p.num_chains, hops, 3, taken, used, frames)
    noise = [noise_line()] * (5 if length < 4096 else 10)
    for chain in statements:
        spots = sorted(rng.sample(range(len(noise) + 1), len(chain)), reverse=True)
        for spot, text in zip(spots, reversed(chain)):
            noise.insert(spot, text)
    question = render("ruler/vt_question.j2", value=values[0]).rstrip("\n")
    body = render("ruler/vt_prompt.j2", example="", context="\n".join(noise) + "\n", question=question)
    prefix = render("ruler/vt_prefix.j2", count=len(names[0]), value=values[0]).rstrip("\n")
    return body.rstrip("\n") + prefix + " ".join(names[0])
