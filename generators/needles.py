"""Needles in prose: facts hidden in natural text, retrieved one at a time, many at once, or combined.

After NeedleBench (Li et al., arXiv 2407.11963): single-needle retrieval, multi-needle retrieval and multi-needle
reasoning, at exact token lengths in any ``--haystack``. Needles are whole sentences placed between haystack
sentences. Each fact names a fictitious person and a code that occurs nowhere else; every haystack sentence that
mentions a needle's names or answers is dropped (the leakage guard), as is any that reads like a needle. In
``multi_reasoning`` a chain of comparisons ("A is taller than B") is split across depths and only all of them
together give the answer. After LV-Eval (Yuan et al., arXiv 2402.05136), ``--confusing-facts`` adds look-alike
statements that never answer the question and ``--replace-keywords`` swaps the needles' names and code words for
invented ones. The oracle in ``lcgen.validators.needles`` re-reads the needles with the frames' own patterns.
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
from lcgen.errors import ParamError
from lcgen.frames import frame_lines, frame_regex, render_frame
from lcgen.haystack import Haystack, SentenceUnits, unit_text
from lcgen.params import FamilyParams, param
from lcgen.registry import family
from lcgen.render import render
from lcgen.validators.metrics import needles as needles_metric

from ._invented import pieces, real_en_names, runs, syllables

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
MIN_SENTENCE_TOKENS = 4  # no needle or confusing fact is shorter (the cheap bound of the pre-flight check)
_MAX_DRAWS = 2_000  # draws of one fresh name, code or replacement before giving up


@dataclass(frozen=True, kw_only=True)
class NeedlesParams(FamilyParams):
    """Knobs of the needles family."""

    needles: int = param(4, help="Needles to retrieve, or comparisons in the reasoning chain.", min=2, max=200,
                         variants=("multi_retrieval", "multi_reasoning"))
    placement: Literal["uniform", "clustered"] = param(
        "uniform", help="uniform: needle i at depth + i*100/k (wrapping); clustered: all consecutive at the depth.",
        variants=("multi_retrieval", "multi_reasoning"))
    lang: Literal["en", "zh"] = param("en", help="Language of needles and questions (pick a haystack to match).")
    confusing_facts: int = param(
        0, help="Look-alike statements at seeded depths that never answer the question (LV-Eval's CFI): a look-alike "
                "person or another attribute (retrieval), another dimension (reasoning); listed in meta.",
        min=0, max=200)
    replace_keywords: bool = param(
        False, help="Replace the needles' names and code words with invented ones from a seeded map (LV-Eval's "
                    "KPR), recorded in meta.keyword_map.")


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


def _check(p: NeedlesParams, variant: str, lengths: list[int | None]) -> None:
    """Refuse before the first sample what cannot fit: every needle and confusing fact takes a few tokens. (A cheap
    bound; the engine refuses exactly, sample by sample, whatever still does not fit.)"""
    k = 1 if variant == "single_retrieval" else p.needles
    least = (k + p.confusing_facts) * MIN_SENTENCE_TOKENS
    for length in lengths:
        if length is not None and p.confusing_facts and least > length:
            raise ParamError(f"--confusing-facts: {k} needles and {p.confusing_facts} confusing facts take at least "
                             f"{least:,} tokens, more than --len {length:,}")


@family(
    "needles",
    params=NeedlesParams,
    variants=VARIANTS,
    version="0.3.0",
    papers=("Li et al., NeedleBench: Can LLMs Do Retrieval and Reasoning in Information-Dense Context?, "
            "arXiv:2407.11963",
            "Yuan et al., LV-Eval: A Balanced Long-Context Benchmark with 5 Length Levels Up to 256K, "
            "arXiv:2402.05136"),
    depth_meaning=(
        "Share of the document's tokens before the needle sentence. single_retrieval: the needle; multi_*: the "
        "first needle (uniform: needle i at depth + i*100/k, wrapping; clustered: consecutive at the depth). "
        "Confusing facts sit at seeded random depths and are listed after the needles."
    ),
    answer_format="The code (retrieval) or full name (reasoning) as written; a JSON list for several.",
    uses_haystack=True,
    check=_check,
    metric=needles_metric.score_reply,
)
def needles(p: NeedlesParams, variant: str, depth: float, rng: random.Random, haystack: Haystack) -> SamplePlan:
    """Plan one sample: needle sentences, the question, and haystack filler that never mentions them."""
    from faker import Faker

    fake = Faker("zh_CN" if p.lang == "zh" else "en_US")
    fake.seed_instance(rng.getrandbits(64))
    k = 1 if variant == "single_retrieval" else p.needles
    people = _names(fake, k + (1 if variant == "multi_reasoning" else 0), p.lang)
    if p.placement == "clustered" or k == 1:
        depths = [depth] * k
    else:
        depths = [depth] + [(depth + i * 100.0 / k) % 100.0 for i in range(1, k)]
    draft = _reasoning(p, rng, people, depths) if variant == "multi_reasoning" else _retrieval(p, rng, people, depths)
    # The options draw from the sample's Faker stream (seeded from rng above), never from rng itself: with them on,
    # the needles, the question and the order of the filler stay those of the same sample without them.
    options = fake.random
    confusers = draft.confusers(fake, options, p.confusing_facts) if p.confusing_facts else []
    names = list(dict.fromkeys(draft.names() + [n for c in confusers for n in c.names()]))
    values = draft.values() + [c.slots["value"] for c in confusers if "value" in c.slots]
    codes = sorted({v.rpartition("-")[0] for v in values})
    keyword_map = _keyword_map(p.lang, options, names, codes) if p.replace_keywords else {}
    swap = _Swap(keyword_map)
    needles_, question_ctx, answers, meta = draft.write(swap)
    extra = []
    for c in confusers:
        text = c.text(swap)
        extra.append(Needle(unit_text(text, p.lang), c.depth, order=c.order))
        meta.setdefault("confusing_facts", []).append({"sentence": text, **c.record(swap)})
    question = render(f"needles/{p.lang}/{variant}.j2", **question_ctx).rstrip("\n")
    head, tail = split_prompt(render(f"needles/{p.lang}/prompt.j2", context=CONTEXT_SLOT, question=question))
    avoid = names + values
    if keyword_map:  # the originals stay out of the filler too: validate fails a row that still holds one
        avoid += codes + [swap(x) for x in names + values]
        meta["keyword_map"] = keyword_map
    filler = SentenceUnits(haystack, rng, p.lang, avoid=avoid, reject=looks_like_needle(p.lang))
    ctx_open, ctx_close = ("<document>\n", "</document>") if p.lang == "zh" else ("<document>", " </document>")
    plan = Plan(head=head, tail=tail, ctx_open=ctx_open, ctx_close=ctx_close, needles=needles_ + extra,
                filler=filler)
    answer = answers[0] if variant != "multi_retrieval" else json.dumps(answers, ensure_ascii=False)
    meta["lang"] = p.lang
    return SamplePlan(plan=plan, question=question, answer=answer, answers=answers, meta=meta)


def _names(fake, n: int, lang: str) -> list[str]:
    """n distinct full names, none a substring of another."""
    out: list[str] = []
    for _ in range(n * 100 + _MAX_DRAWS):
        if len(out) == n:
            return out
        name = fake.name() if lang == "zh" else f"{fake.first_name()} {fake.last_name()}"
        if re.fullmatch(NAME[lang], name) and not _overlaps(name, out):
            out.append(name)
    if len(out) == n:
        return out
    raise ParamError(f"--needles: {n} distinct names not found in {n * 100 + _MAX_DRAWS:,} draws; ask for fewer")


def _overlaps(name: str, others: list[str]) -> bool:
    """True if ``name`` equals, contains or is contained in one of ``others``."""
    return any(name in o or o in name for o in others)


class _Swap:
    """The keyword map applied to one name or code ("AMBER-4821" becomes "<replacement>-4821"); identity when
    empty."""

    def __init__(self, mapping: dict[str, str]):
        self.mapping = mapping

    def __call__(self, text: str) -> str:
        if text in self.mapping:
            return self.mapping[text]
        word, dash, digits = text.rpartition("-")
        return f"{self.mapping[word]}-{digits}" if dash and word in self.mapping else text


_SWAPPED = ("name", "a", "b", "value")  # the slots of a frame that hold keywords


@dataclass
class _Statement:
    """One needle or confusing fact before it is written: its frame and slots (names and codes as drawn)."""

    frame: str
    slots: dict[str, str]
    depth: float
    order: int
    kind: str = ""  # a confusing fact's kind; "" for a needle
    dimension: str = ""  # a confusing comparison's dimension

    def text(self, swap: _Swap) -> str:
        return render_frame(self.frame, **{k: swap(v) if k in _SWAPPED else v for k, v in self.slots.items()})

    def names(self) -> list[str]:
        return [self.slots[k] for k in ("name", "a", "b") if k in self.slots]

    def record(self, swap: _Swap) -> dict[str, object]:
        """What meta lists of a confusing fact, as written: retrieval {kind, name, attribute, value}; reasoning
        {kind, names: [more, less], dimension, value: the comparative that holds of names[0] over names[1]}."""
        if "value" in self.slots:
            return {"kind": self.kind, "name": swap(self.slots["name"]), "attribute": self.slots["attribute"],
                    "value": swap(self.slots["value"])}
        return {"kind": self.kind, "names": [swap(self.slots["a"]), swap(self.slots["b"])],
                "dimension": self.dimension, "value": self.slots["more"]}


def _split_name(name: str, lang: str) -> tuple[str, str]:
    """A full name's two parts in written order: (given, family) in English, (surname, given) in Chinese."""
    if lang == "zh":
        cut = 2 if len(name) > 2 and name[:2] in _zh_double_surnames() else 1
        return name[:cut], name[cut:]
    given, _, family_ = name.partition(" ")
    return given, family_


def _join_name(parts: tuple[str, str], lang: str) -> str:
    return "".join(parts) if lang == "zh" else " ".join(parts)


@functools.lru_cache(maxsize=1)
def _zh_double_surnames() -> frozenset[str]:
    from faker.providers.person.zh_CN import Provider

    return frozenset(s for s in Provider.last_names if len(s) == 2)


def _look_alike(fake, rand: random.Random, of: str, lang: str, taken: list[str]) -> str:
    """A fresh name that keeps one part of ``of`` (its given or its family name) and none of ``taken``'s names."""
    parts = _split_name(of, lang)
    fresh = (fake.first_name, fake.last_name) if lang == "en" else (fake.last_name, fake.first_name)
    for _ in range(_MAX_DRAWS):
        keep = rand.randrange(2)
        new = list(parts)
        new[1 - keep] = fresh[1 - keep]()
        name = _join_name((new[0], new[1]), lang)
        if re.fullmatch(NAME[lang], name) and not _overlaps(name, taken):
            return name
    raise ParamError(f"--confusing-facts: no fresh name like {of!r} found in {_MAX_DRAWS:,} draws; ask for fewer")


def _fresh_code(rand: random.Random, taken: set[str]) -> str:
    for _ in range(_MAX_DRAWS):
        value = f"{rand.choice(CODE_WORDS)}-{rand.randrange(1000, 10000)}"
        if value not in taken:
            taken.add(value)
            return value
    raise ParamError(f"--confusing-facts: no fresh code found in {_MAX_DRAWS:,} draws; ask for fewer")


@dataclass
class _Retrieval:
    """A retrieval sample as drawn: one fact per asked person."""

    lang: str
    facts: list[_Statement]
    people: list[str]
    attributes: list[str]
    answers: list[str]  # the asked people's codes, in question order

    def names(self) -> list[str]:
        return list(self.people)

    def values(self) -> list[str]:
        return list(self.answers)

    def confusers(self, fake, rand: random.Random, n: int) -> list[_Statement]:
        """n facts in the needles' frames that answer nothing asked: a look-alike person with an asked person's
        attribute, or an asked person with an attribute nobody asked of them; every code fresh."""
        told = set(zip(self.people, self.attributes))  # (person, attribute) pairs some fact gives
        taken, codes = list(self.people), set(self.answers)
        frames = fact_frames(self.lang)
        out = []
        for _ in range(n):
            i = rand.randrange(len(self.people))
            person, attr_of = self.people[i], self.attributes[i]
            untold = [a for a in ATTRIBUTES[self.lang] if (person, a) not in told]
            if untold and rand.random() < 0.5:
                kind, name, attribute = "other_attribute", person, rand.choice(untold)
            else:
                kind, name, attribute = "other_subject", _look_alike(fake, rand, person, self.lang, taken), attr_of
                taken.append(name)
            told.add((name, attribute))
            slots = {"name": name, "attribute": attribute, "value": _fresh_code(rand, codes)}
            out.append(_Statement(rand.choice(frames), slots, rand.uniform(0.0, 100.0), 0, kind))
        return _at_depths(out, len(self.facts))

    def write(self, swap: _Swap):
        texts = [f.text(swap) for f in self.facts]
        needles_ = [Needle(unit_text(t, self.lang), f.depth, order=f.order) for t, f in zip(texts, self.facts)]
        names, values = [swap(n) for n in self.people], [swap(v) for v in self.answers]
        meta = {"names": names, "attributes": self.attributes, "values": values, "sentences": texts}
        return needles_, {"names": names, "attributes": self.attributes}, values, meta


def _retrieval(p: NeedlesParams, rng: random.Random, people: list[str], depths: list[float]) -> _Retrieval:
    attributes = [rng.choice(ATTRIBUTES[p.lang]) for _ in people]
    values: list[str] = []
    while len(values) < len(people):
        v = f"{rng.choice(CODE_WORDS)}-{rng.randrange(1000, 10000)}"
        if v not in values:
            values.append(v)
    frames = fact_frames(p.lang)
    facts = [_Statement(rng.choice(frames), {"name": n, "attribute": a, "value": v}, d, i)
             for i, (n, a, v, d) in enumerate(zip(people, attributes, values, depths))]
    return _Retrieval(p.lang, facts, people, attributes, values)


def _at_depths(confusers: list[_Statement], first_order: int) -> list[_Statement]:
    """Confusing facts in depth order, after the needles in plan order: the text then lists them in that order."""
    confusers.sort(key=lambda c: c.depth)
    for j, c in enumerate(confusers):
        c.order = first_order + j
    return confusers


def other_dimensions(lang: str, asked: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The dimensions a confusing comparison may use: none of their comparatives holds or is held in the asked
    dimension's ("年轻" holds "轻", so a Chinese weight question never meets an age comparison)."""
    words = asked[1:3]
    return [d for d in DIMENSIONS[lang] if d != asked and not any(w in v or v in w for w in d[1:3] for v in words)]


@dataclass
class _Reasoning:
    """A reasoning sample as drawn: the chain's comparisons in text order."""

    lang: str
    comparisons: list[_Statement]
    ranked: list[str]
    dimension: tuple[str, ...]
    ask_most: bool

    def names(self) -> list[str]:
        return list(self.ranked)

    def values(self) -> list[str]:
        return []

    def confusers(self, fake, rand: random.Random, n: int) -> list[_Statement]:
        """n comparisons in another dimension: of two of the chain's people, or of a look-alike outside the chain
        and anyone; each dimension follows one hidden order, so no two of them contradict each other."""
        dims = other_dimensions(self.lang, self.dimension)
        rank: dict[tuple[str, str], float] = {}  # (dimension, person): hidden position
        compared: set[tuple[str, frozenset[str]]] = set()
        people, frames, out = list(self.ranked), comparison_frames(self.lang), []
        for _ in range(n):
            dim = rand.choice(dims)
            pair = self._uncompared(rand, dim[0], compared) if rand.random() < 0.5 else None
            if pair is not None:
                a, b = pair
            else:
                a = _look_alike(fake, rand, rand.choice(self.ranked), self.lang, people)
                people.append(a)
                b = rand.choice([x for x in people if x != a])
            compared.add((dim[0], frozenset((a, b))))
            for x in (a, b):
                rank.setdefault((dim[0], x), rand.random())
            if rank[dim[0], a] < rank[dim[0], b]:
                a, b = b, a
            slots = {"a": a, "b": b, "more": dim[1], "less": dim[2]}
            out.append(_Statement(rand.choice(frames), slots, rand.uniform(0.0, 100.0), 0, "other_dimension", dim[0]))
        return _at_depths(out, len(self.comparisons))

    def _uncompared(self, rand: random.Random, dim: str, compared: set) -> tuple[str, str] | None:
        """Two of the chain's people not yet compared in ``dim``, or None after a few tries."""
        for _ in range(16):
            a, b = rand.sample(self.ranked, 2)
            if (dim, frozenset((a, b))) not in compared:
                return a, b
        return None

    def write(self, swap: _Swap):
        texts = [c.text(swap) for c in self.comparisons]
        needles_ = [Needle(unit_text(t, self.lang), c.depth, order=c.order) for t, c in zip(texts, self.comparisons)]
        dimension, _, _, most, least = self.dimension
        ranked = [swap(n) for n in self.ranked]
        answer = ranked[0] if self.ask_most else ranked[-1]
        meta = {"ranked": ranked, "dimension": dimension, "asked": most if self.ask_most else least,
                "sentences": texts}
        return needles_, {"dimension": dimension, "extreme": most if self.ask_most else least}, [answer], meta


def _reasoning(p: NeedlesParams, rng: random.Random, people: list[str], depths: list[float]) -> _Reasoning:
    dimension = rng.choice(DIMENSIONS[p.lang])
    _, more, less, _, _ = dimension
    ranked = people[:]  # ranked[0] has the most of the dimension
    rng.shuffle(ranked)
    frames = comparison_frames(p.lang)
    chosen = [rng.choice(frames) for _ in range(len(ranked) - 1)]
    # The comparisons go into the text in a shuffled order, so no single needle gives the answer away.
    order = list(range(len(chosen)))
    rng.shuffle(order)
    comparisons = [_Statement(chosen[j], {"a": ranked[j], "b": ranked[j + 1], "more": more, "less": less},
                              depths[pos], pos) for pos, j in enumerate(order)]
    ask_most = rng.random() < 0.5
    comparisons = [comparisons[i] for i in text_order(comparisons)]  # recorded in text order
    return _Reasoning(p.lang, comparisons, ranked, dimension, ask_most)


# --- --replace-keywords ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _zh_characters() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The pools of invented Chinese surnames and given names (alternate characters of the template's list): no
    character of a Faker zh_CN name or of a needles template (a name holding "比" or "高" would read as part of a
    frame). Disjoint, so no invented name can sit inside another one's given name."""
    from faker.providers.person.zh_CN import Provider

    used = set("".join(Provider.last_names)) | set("".join(Provider.first_names))
    for t in ("facts", "comparisons", "prompt", "single_retrieval", "multi_retrieval", "multi_reasoning"):
        used |= set("".join(frame_lines(f"needles/zh/{t}.j2")))
    used |= set("".join(ATTRIBUTES["zh"])) | set("".join(w for d in DIMENSIONS["zh"] for w in d))
    pool = tuple(c for c in dict.fromkeys(pieces("zh")["characters"])
                 if c not in used and re.fullmatch(r"[\u4e00-\u9fff]", c))
    return pool[0::2], pool[1::2]


class _Inventor:
    """Invented name parts and code words that share nothing with the sample's original keywords.

    English parts and every code word: no run of SHARED_RUN characters in common with any original, case-insensitive,
    no Faker name, and none holds another of its kind (so no invented full name sits inside another, and no code
    "ZOR-1234" inside "VIZOR-1234"). Chinese names: no character in common with any original (LV-Eval's own rule; the
    pools hold no character of a Faker name at all); a surname is one character, a given name as long as the
    original's, and a two-character given name never starts with a one-character one, so again no name sits inside
    another.
    """

    def __init__(self, lang: str, rand: random.Random, originals: list[str]):
        self.lang, self.rand = lang, rand
        self.runs = set().union(*map(runs, originals)) if originals else set()
        self.chars = set("".join(originals))
        self.made: dict[str, list[str]] = {"given": [], "family": [], "code": []}

    def _fresh(self, kind: str, draw: Callable[[], str], ok: Callable[[str], bool]) -> str:
        made = self.made[kind]
        for _ in range(_MAX_DRAWS):
            word = draw()
            if word not in made and ok(word):
                made.append(word)
                return word
        raise ParamError(f"--replace-keywords: no invented {kind} name or code found in {_MAX_DRAWS:,} draws; ask "
                         "for fewer needles or confusing facts")

    def part(self, position: int, original: str) -> str:
        """A replacement for one part of a name: position 0 or 1 in written order."""
        if self.lang == "zh":
            surnames, given = _zh_characters()
            if position == 0:
                return self._fresh("family", lambda: self.rand.choice(surnames), lambda w: w not in self.chars)
            made = self.made["given"]
            heads = {w[0] for w in made if len(w) > 1}
            singles = {w for w in made if len(w) == 1}
            return self._fresh("given", lambda: "".join(self.rand.choice(given) for _ in original),
                               lambda w: not self.chars & set(w) and (w[0] not in singles if len(w) > 1
                                                                       else w not in heads))
        kind = "given" if position == 0 else "family"
        size = 2 if position == 0 else self.rand.choice((2, 3))
        return self._fresh(kind, lambda: syllables(self.rand, size).capitalize(),
                           lambda w: w.lower() not in real_en_names() and not runs(w) & self.runs
                           and not _overlaps(w, self.made[kind]))

    def code(self) -> str:
        return self._fresh("code", lambda: syllables(self.rand, self.rand.choice((2, 3))).upper(),
                           lambda w: w not in CODE_WORDS and not runs(w) & self.runs
                           and not _overlaps(w, self.made["code"]))


def _keyword_map(lang: str, rand: random.Random, names: list[str], codes: list[str]) -> dict[str, str]:
    """{original: replacement} for every name (whole) and code word of the sample, keys sorted.

    A name's parts are replaced one by one and consistently, so a look-alike that shares a part with an asked
    person still shares its replacement.
    """
    inventor = _Inventor(lang, rand, names + codes)
    swapped: list[dict[str, str]] = [{}, {}]
    renamed = {}
    for name in names:
        parts = _split_name(name, lang)
        for position in (0, 1):
            if parts[position] not in swapped[position]:
                swapped[position][parts[position]] = inventor.part(position, parts[position])
        renamed[name] = _join_name((swapped[0][parts[0]], swapped[1][parts[1]]), lang)
    words = {c: inventor.code() for c in codes}
    return dict(sorted({**renamed, **words}.items()))
