"""Needles in prose: facts hidden in natural text, retrieved one at a time, many at once, or combined.

After NeedleBench (Li et al., arXiv 2407.11963): single-needle retrieval, multi-needle retrieval and multi-needle
reasoning, at exact token lengths in any ``--haystack``. Needles are whole sentences placed between haystack
sentences. Each fact names a fictitious person and a code that occurs nowhere else; every haystack sentence that
mentions a needle's names or answers is dropped (the leakage guard), as is any that reads like a needle. In
``multi_reasoning`` a chain of comparisons ("A is taller than B") is split across depths and only all of them
together give the answer. The oracle in ``lcgen.validators.needles`` re-reads the needles with the frames' own
patterns.
"""

from __future__ import annotations

import functools
import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from lcgen.assemble import CONTEXT_SLOT, Needle, Plan, SamplePlan, split_prompt, text_order
from lcgen.frames import frame_lines, frame_regex, render_frame
from lcgen.haystack import Haystack, SentenceUnits, unit_text
from lcgen.params import FamilyParams, param
from lcgen.registry import family
from lcgen.render import render
from lcgen.validators.metrics import needles as needles_metric

ATTRIBUTES = {
    "en": ("access code", "locker code", "badge number", "archive key", "ticket code", "vault password"),
    "zh": ("通行码", "储物柜编号", "徽章号码", "档案密钥", "票据编号", "保险库密码"),
}
# (dimension, more, less, most, least) per language
DIMENSIONS = {
    "en": (("height", "taller", "shorter", "tallest", "shortest"), ("age", "older", "younger", "oldest", "youngest"),
           ("weight", "heavier", "lighter", "heaviest", "lightest")),
    "zh": (("身高", "高", "矮", "最高", "最矮"), ("年龄", "年长", "年轻", "最年长", "最年轻"),
           ("体重", "重", "轻", "最重", "最轻")),
}
CODE_WORDS = ("AMBER", "BASALT", "CINDER", "DELTA", "EMBER", "FALCON", "GARNET", "HARBOR", "INDIGO", "JUNIPER",
              "KESTREL", "LANTERN", "MARBLE", "NIMBUS", "ONYX", "PEBBLE", "QUARTZ", "RAVEN", "SAFFRON", "TUNDRA")
NAME = {"en": r"[A-Z][\w'\-]*(?: [A-Z][\w'\-]*)+", "zh": r"[\u4e00-\u9fff]{2,4}"}
VALUE = r"[A-Z]+-\d{4}"


@dataclass(frozen=True, kw_only=True)
class NeedlesParams(FamilyParams):
    """Knobs of the needles family."""

    needles: int = param(4, help="Needles to retrieve, or comparisons in the reasoning chain.", min=2, max=200,
                         variants=("multi_retrieval", "multi_reasoning"))
    placement: Literal["uniform", "clustered"] = param(
        "uniform", help="uniform: needle i at depth + i*100/k (wrapping); clustered: all consecutive at the depth.",
        variants=("multi_retrieval", "multi_reasoning"))
    lang: Literal["en", "zh"] = param("en", help="Language of needles and questions (pick a haystack to match).")


VARIANTS = {"single_retrieval": {}, "multi_retrieval": {}, "multi_reasoning": {}}


def fact_frames(lang: str) -> tuple[str, ...]:
    return frame_lines(f"needles/{lang}/facts.j2")


def comparison_frames(lang: str) -> tuple[str, ...]:
    return frame_lines(f"needles/{lang}/comparisons.j2")


@functools.lru_cache(maxsize=4)
def looks_like_needle(lang: str) -> Callable[[str], bool]:
    """True for text some needle phrasing could read as a needle (a cheap keyword test guards the full one)."""
    # Every fact holds a code; every comparison holds its frame's longest literal ("than", "Compared with", "比").
    literals = {max(re.split(r"\{\{\s*\w+\s*\}\}", f), key=len) for f in comparison_frames(lang)}
    keys = re.compile("|".join([VALUE] + sorted(map(re.escape, literals))))
    patterns = needle_patterns(lang)
    return lambda text: bool(keys.search(text)) and any(rx.search(text) for rx in patterns)


def needle_patterns(lang: str) -> list[re.Pattern[str]]:
    """Regexes of every needle frame (facts and comparisons), to keep look-alike haystack sentences out."""
    words = "|".join(w for dims in DIMENSIONS[lang] for w in dims[1:3])
    fill = {"name": NAME[lang], "a": NAME[lang], "b": NAME[lang], "value": VALUE,
            "attribute": "|".join(map(re.escape, ATTRIBUTES[lang])), "more": words, "less": words}
    return [frame_regex(f, fill) for f in fact_frames(lang) + comparison_frames(lang)]


@family(
    "needles",
    params=NeedlesParams,
    variants=VARIANTS,
    version="0.2.0",
    papers=("Li et al., NeedleBench: Can LLMs Do Retrieval and Reasoning in Information-Dense Context?, "
            "arXiv:2407.11963",),
    depth_meaning=(
        "Share of the document's tokens before the needle sentence. single_retrieval: the needle; multi_*: the "
        "first needle (uniform: needle i at depth + i*100/k, wrapping; clustered: consecutive at the depth)."
    ),
    answer_format="The code (retrieval) or full name (reasoning) as written; a JSON list for several.",
    uses_haystack=True,
    metric=needles_metric.score_reply,
)
def needles(p: NeedlesParams, variant: str, depth: float, rng: random.Random, haystack: Haystack) -> SamplePlan:
    """Plan one sample: needle sentences, the question, and haystack filler that never mentions them."""
    from faker import Faker

    fake = Faker("zh_CN" if p.lang == "zh" else "en_US")
    fake.seed_instance(rng.getrandbits(64))
    k = 1 if variant == "single_retrieval" else p.needles
    people = _names(fake, rng, k + (1 if variant == "multi_reasoning" else 0), p.lang)
    if p.placement == "clustered" or k == 1:
        depths = [depth] * k
    else:
        depths = [depth] + [(depth + i * 100.0 / k) % 100.0 for i in range(1, k)]
    if variant == "multi_reasoning":
        needles_, question_ctx, answers, meta, avoid = _reasoning(p, rng, people, depths)
    else:
        needles_, question_ctx, answers, meta, avoid = _retrieval(p, rng, people, depths)
    question = render(f"needles/{p.lang}/{variant}.j2", **question_ctx).rstrip("\n")
    head, tail = split_prompt(render(f"needles/{p.lang}/prompt.j2", context=CONTEXT_SLOT, question=question))
    filler = SentenceUnits(haystack, rng, p.lang, avoid=avoid, reject=looks_like_needle(p.lang))
    ctx_open, ctx_close = ("<document>\n", "</document>") if p.lang == "zh" else ("<document>", " </document>")
    plan = Plan(head=head, tail=tail, ctx_open=ctx_open, ctx_close=ctx_close, needles=needles_, filler=filler)
    answer = answers[0] if variant != "multi_retrieval" else json.dumps(answers, ensure_ascii=False)
    meta["lang"] = p.lang
    return SamplePlan(plan=plan, question=question, answer=answer, answers=answers, meta=meta)


def _names(fake, rng: random.Random, n: int, lang: str) -> list[str]:
    """n distinct full names, none a substring of another."""
    out: list[str] = []
    while len(out) < n:
        name = fake.name() if lang == "zh" else f"{fake.first_name()} {fake.last_name()}"
        if re.fullmatch(NAME[lang], name) and not any(name in o or o in name for o in out):
            out.append(name)
    return out


def _retrieval(p: NeedlesParams, rng: random.Random, people: list[str], depths: list[float]):
    attributes = [rng.choice(ATTRIBUTES[p.lang]) for _ in people]
    values: list[str] = []
    while len(values) < len(people):
        v = f"{rng.choice(CODE_WORDS)}-{rng.randrange(1000, 10000)}"
        if v not in values:
            values.append(v)
    frames = fact_frames(p.lang)
    texts = [render_frame(rng.choice(frames), name=n, attribute=a, value=v)
             for n, a, v in zip(people, attributes, values)]
    needles_ = [Needle(unit_text(t, p.lang), d, order=i) for i, (t, d) in enumerate(zip(texts, depths))]
    meta = {"names": people, "attributes": attributes, "values": values, "sentences": texts}
    return needles_, {"names": people, "attributes": attributes}, values, meta, people + values


def _reasoning(p: NeedlesParams, rng: random.Random, people: list[str], depths: list[float]):
    dimension, more, less, most, least = rng.choice(DIMENSIONS[p.lang])
    ranked = people[:]  # ranked[0] has the most of the dimension
    rng.shuffle(ranked)
    frames = comparison_frames(p.lang)
    texts = [render_frame(rng.choice(frames), a=ranked[i], b=ranked[i + 1], more=more, less=less)
             for i in range(len(ranked) - 1)]
    # The comparisons go into the text in a shuffled order, so no single needle gives the answer away.
    order = list(range(len(texts)))
    rng.shuffle(order)
    needles_ = [Needle(unit_text(texts[j], p.lang), depths[pos], order=pos) for pos, j in enumerate(order)]
    ask_most = rng.random() < 0.5
    answer = ranked[0] if ask_most else ranked[-1]
    seq = text_order(needles_)
    meta = {"ranked": ranked, "dimension": dimension, "asked": most if ask_most else least,
            "sentences": [texts[order[i]] for i in seq]}
    needles_ = [needles_[i] for i in seq]  # recorded in text order
    ctx = {"dimension": dimension, "extreme": most if ask_most else least}
    return needles_, ctx, [answer], meta, people
