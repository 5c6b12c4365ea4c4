"""Kinship vocabulary, names and the uniqueness proof behind the ancestral-trace family.

The words live in ``templates/ancestral_trace/<lang>/``: ``frames.j2`` (one statement frame per line, with
``{{ elder }}``, ``{{ younger }}`` and ``{{ relation }}``), ``relations.j2`` (``term | sex | generations``) and
``kin_words.j2`` (every kinship word, which no filler sentence may hold). The generator renders frames and keeps
haystack sentences that match one, or hold a kinship word, out; the oracle reads statements back with the same lines
turned into regular expressions and fails filler with a kinship word. Graph terms: an edge runs from elder to
younger and carries ``generations`` (1 for parent terms, 2 for grandparent terms).
"""

from __future__ import annotations

import functools
import importlib
import random
import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lcgen.errors import ParamError
from lcgen.frames import frame_lines, frame_regex, render_frame

TEMPLATES = "ancestral_trace"
SEXES = ("male", "female")
LOCALES = {"en": "en_US", "zh": "zh_CN"}
# What a name looks like in text: "First Last" in English, two to four Han characters in Chinese.
NAME = {"en": r"[A-Z][a-z]+ [A-Z][a-z]+", "zh": r"[\u4e00-\u9fff]{2,4}"}
if TYPE_CHECKING:
    import networkx as nx

    from lcgen.tokenizer import Tokenizer

_MIN_NAME = {"en": 5, "zh": 2}
MAX_PEOPLE = {"en": 100_000, "zh": 25_000}
"""People one sample may name. Every name is unique and no name is part of another, so each new name is harder to
find: Chinese names run out near 40,000 (slower and slower from 25,000 on), English ones take ~20 s per 100,000."""
_HAN = re.compile(r"[\u4e00-\u9fff]")
VARIANTS = ("eldest_ancestor", "nth_ancestor", "nth_descendant", "relation_distance")
# Question placeholders: the asked person(s), the generation count n, its ordinal ("3rd") and span ("3 generations").
QUESTION_FILL = {"person": None, "other": None, "n": r"\d+", "ordinal": r"\d+(?:st|nd|rd|th)",
                 "span": r"\d+ generations?"}


@dataclass(frozen=True)
class Relation:
    term: str
    sex: str  # of the elder
    generations: int


@functools.lru_cache(maxsize=None)
def relations(lang: str) -> dict[str, Relation]:
    """The kinship terms of ``lang`` by term."""
    out = {}
    for line in frame_lines(f"{TEMPLATES}/{lang}/relations.j2"):
        term, sex, generations = (part.strip() for part in line.split("|"))
        out[term] = Relation(term, sex, int(generations))
    return out


def terms_for(lang: str, sex: str, generations: int) -> tuple[str, ...]:
    return tuple(t for t, r in relations(lang).items() if r.sex == sex and r.generations == generations)


def frames(lang: str) -> tuple[str, ...]:
    return frame_lines(f"{TEMPLATES}/{lang}/frames.j2")


@functools.lru_cache(maxsize=None)
def statement_patterns(lang: str) -> tuple[re.Pattern[str], ...]:
    """One regex per frame, with groups ``elder``, ``younger`` and ``relation``."""
    words = "|".join(re.escape(t) for t in sorted(relations(lang), key=len, reverse=True))
    fill = {"elder": NAME[lang], "younger": NAME[lang], "relation": f"(?:{words})"}
    return tuple(frame_regex(f, fill) for f in frames(lang))


def looks_like_statement(sentence: str, lang: str) -> bool:
    """True if any statement frame can read something out of ``sentence`` (such haystack sentences are dropped)."""
    return any(rx.search(sentence) for rx in statement_patterns(lang))


@functools.lru_cache(maxsize=None)
def kin_words(lang: str) -> frozenset[str]:
    """Every kinship word of ``lang``, lower case: ``kin_words.j2`` and the words of every relation term.

    Filler that holds one may say who someone's relative is ("She grew up there, where her father, Brent Bruce,
    ...", "他的父亲魏坤是..."): placed after a statement, its pronoun reads as the statement's person, who then has
    a second parent. So no such sentence is filler of this family (the generator drops it, the oracle fails it).
    The test is per word, not per sentence, so it does not depend on where a reader splits sentences.
    """
    words = set(frame_lines(f"{TEMPLATES}/{lang}/kin_words.j2")) | {w for t in relations(lang) for w in t.split()}
    return frozenset(w.lower() for w in words)


@functools.lru_cache(maxsize=None)
def _unspaced_kin_pattern(lang: str) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(w) for w in sorted(kin_words(lang), key=lambda w: (-len(w), w))))


_WORD = re.compile(r"\w+")


def kin_hits(text: str, lang: str) -> list[tuple[int, str]]:
    """(offset, word) of every kinship word in ``text``: whole words in any case in English, anywhere in Chinese,
    whose words are not spaced."""
    if lang == "en":
        words = kin_words(lang)
        return [(m.start(), m.group()) for m in _WORD.finditer(text) if m.group().lower() in words]
    return [(m.start(), m.group()) for m in _unspaced_kin_pattern(lang).finditer(text)]


def speaks_of_kin(text: str, lang: str) -> bool:
    """True if ``text`` holds a kinship word (exactly when :func:`kin_hits` finds one, in a few microseconds: the
    generator asks it of every haystack sentence)."""
    if lang == "en":
        return not kin_words(lang).isdisjoint(map(str.lower, _WORD.findall(text)))
    return _unspaced_kin_pattern(lang).search(text) is not None


@functools.lru_cache(maxsize=None)
def question_pattern(lang: str, variant: str) -> re.Pattern[str]:
    """The question template of ``variant`` as a regex (groups: person, other, n, ordinal, span as it uses them)."""
    fill = {k: v or NAME[lang] for k, v in QUESTION_FILL.items()}
    return frame_regex("\n".join(frame_lines(f"{TEMPLATES}/{lang}/{variant}.j2")), fill)


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, ..., 21st, 22nd, ..., 111th."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@functools.lru_cache(maxsize=None)
def _fixed_chars(lang: str) -> frozenset[str]:
    """Han characters of the frames, terms and questions: a Chinese name must use none, so parsing is unambiguous."""
    lines = frames(lang) + tuple(relations(lang))
    for variant in VARIANTS:
        lines += frame_lines(f"{TEMPLATES}/{lang}/{variant}.j2")
    return frozenset(c for line in lines for c in _HAN.findall(line))


@functools.lru_cache(maxsize=None)
def unusable_given_names(lang: str) -> dict[str, frozenset[str]]:
    """Per sex, the given names Faker lists that are never drawn for it, so every name matches its kinship terms:
    the names listed for both sexes, and in Chinese the names :func:`misfiled` finds in the wrong list."""
    data = importlib.import_module(f"faker.providers.person.{LOCALES[lang]}").Provider
    unisex = frozenset(data.first_names_male) & frozenset(data.first_names_female)
    wrong = misfiled(tuple(data.first_names_male), tuple(data.first_names_female)) if lang == "zh" else {}
    return {sex: unisex | wrong.get(sex, frozenset()) for sex in SEXES}


def misfiled(male: tuple[str, ...], female: tuple[str, ...]) -> dict[str, frozenset[str]]:
    """Chinese given names whose characters say the other sex (Faker's zh_CN male list holds 红霞).

    A name is misfiled when each of its characters appears in more given names of the other sex than of its own
    (the name itself not counted). The most contradicted name goes first and the counts are redone after each, so
    the one misfiled 红霞 does not also condemn the female 霞, which shares a character with it.
    """
    lists = {"male": list(dict.fromkeys(male)), "female": list(dict.fromkeys(female))}
    out: dict[str, set[str]] = {sex: set() for sex in SEXES}
    for _ in range(len(lists["male"]) + len(lists["female"])):  # at most every name goes
        uses = {sex: Counter(c for name in names for c in set(name)) for sex, names in lists.items()}
        worst: tuple[int, str, str] | None = None
        for sex, names in lists.items():
            other = uses["female" if sex == "male" else "male"]
            for name in names:
                margins = [other[c] - (uses[sex][c] - 1) for c in set(name)]
                if min(margins) > 0 and (worst is None or (sum(margins), sex, name) > worst):
                    worst = (sum(margins), sex, name)
        if worst is None:
            break
        _, sex, name = worst
        lists[sex].remove(name)
        out[sex].add(name)
    return {sex: frozenset(names) for sex, names in out.items()}


class NameDrawer:
    """Full names from a seeded Faker: unique in the sample, none a substring of another, sex-consistent (see
    :func:`unusable_given_names`)."""

    def __init__(self, rng: random.Random, lang: str):
        from faker import Faker

        self.lang = lang
        self.fake = Faker(LOCALES[lang])
        self.fake.seed_instance(rng.getrandbits(64))
        self.unusable = unusable_given_names(lang)
        self.used: set[str] = set()
        self._parts: set[str] = set()  # every substring (of a usable length) of every name drawn

    def draw(self, sex: str) -> str:
        for _ in range(10_000):
            first = self.fake.first_name_male() if sex == "male" else self.fake.first_name_female()
            last = self.fake.last_name()
            name = last + first if self.lang == "zh" else f"{first} {last}"
            if first not in self.unusable[sex] and self._fits(name):
                return name
        raise ParamError(f"--needles: ran out of distinct {self.lang} names; ask for fewer people")

    def _fits(self, name: str) -> bool:
        if not re.fullmatch(NAME[self.lang], name) or name in self._parts:
            return False
        if self.lang == "zh" and not _fixed_chars("zh").isdisjoint(name):
            return False
        k = _MIN_NAME[self.lang]
        subs = {name[i:j] for i in range(len(name)) for j in range(i + k, len(name) + 1)}
        if not self.used.isdisjoint(subs):
            return False
        self.used.add(name)
        self._parts |= subs
        return True


@functools.lru_cache(maxsize=16)
def statement_floor(tok: Tokenizer, lang: str) -> float:
    """A cautious lower bound of the mean tokens of one statement (a unit counted alone), from a probe.

    Every frame is rendered with a few fixed probe names and counted. Frames are drawn uniformly, so the statements
    of a sample average close to the frames' mean; half of it leaves room for shorter names and an unlucky draw of
    short frames. Cheap (three names and a few dozen counts per tokenizer and language), so a sample that cannot
    fit is refused before any of its own names is drawn.
    """
    from lcgen.haystack import unit_text

    drawer = NameDrawer(random.Random(0), lang)
    elders = {sex: drawer.draw(sex) for sex in SEXES}
    younger = drawer.draw(SEXES[0])
    texts = [unit_text(render_frame(frame, elder=elders[sex], younger=younger, relation=terms_for(lang, sex, g)[0]),
                       lang)
             for frame in frames(lang) for sex in SEXES for g in (1, 2)]
    counts = tok.counts(texts)
    return 0.5 * sum(counts) / len(counts)


class NotUnique(ValueError):
    """The kinship graph does not pin down exactly one answer (a generator bug, or a hand-made graph)."""


def kin_graph(names: list[str], sexes: list[str], links: list[tuple[int, int, str, int]]) -> nx.DiGraph:
    """Parent -> child graph of (elder, younger, relation, generations) links over person indices."""
    import networkx as nx  # imported here: listing families must stay fast
    g = nx.DiGraph()
    for name, sex in zip(names, sexes):
        g.add_node(name, sex=sex)
    for elder, younger, relation, generations in links:
        g.add_edge(names[elder], names[younger], relation=relation, generations=generations)
    return g


def check_tree(g: nx.DiGraph, lang: str) -> None:
    """No cycles, at most one recorded parent each, and every term agrees with the elder's sex."""
    import networkx as nx
    if not nx.is_directed_acyclic_graph(g):
        raise NotUnique("the kinship graph has a cycle")
    two = sorted(v for v, d in g.in_degree() if d > 1)
    if two:
        raise NotUnique(f"{len(two)} people have more than one recorded parent, e.g. {two[0]}")
    terms = relations(lang)
    for elder, younger, data in g.edges(data=True):
        rel = terms[data["relation"]]
        if rel.sex != g.nodes[elder]["sex"] or rel.generations != data["generations"]:
            raise NotUnique(f"{elder} is {younger}'s {rel.term} but is {g.nodes[elder]['sex']}")


def prove_chain(g: nx.DiGraph, chain: list[str]) -> None:
    """The chain is the one longest line of statements below its eldest member, so it is recoverable from text."""
    import networkx as nx
    if g.in_degree(chain[0]) != 0:
        raise NotUnique(f"the chain's eldest member {chain[0]} has a recorded parent")
    depth = nx.single_source_shortest_path_length(g, chain[0])
    deepest = [v for v, d in depth.items() if d == len(chain) - 1]
    if deepest != [chain[-1]] or max(depth.values()) != len(chain) - 1:
        raise NotUnique("the chain is not the one longest line of statements below its eldest member")
    if nx.shortest_path(g, chain[0], chain[-1]) != chain:
        raise NotUnique("the chain's statements do not link its members in order")


def prove_answer(g: nx.DiGraph, lang: str, variant: str, asked: list[str], n: int) -> str:
    """The one answer the graph gives to the question; raises NotUnique if there is none or more than one."""
    import networkx as nx
    check_tree(g, lang)
    person = asked[0]
    if variant == "eldest_ancestor":
        tops = [a for a in nx.ancestors(g, person) if g.in_degree(a) == 0]
        if len(tops) != 1:
            raise NotUnique(f"{person} traces back to {len(tops)} eldest ancestors")
        return tops[0]
    if variant == "relation_distance":
        a, b = asked
        elder, younger = (a, b) if nx.has_path(g, a, b) else (b, a)
        paths = list(nx.all_simple_paths(g, elder, younger))
        if len(paths) != 1:
            raise NotUnique(f"{a} and {b} are linked by {len(paths)} lines of descent")
        return str(nx.path_weight(g, paths[0], "generations"))
    graph = g.reverse(copy=False) if variant == "nth_ancestor" else g
    dist = nx.single_source_dijkstra_path_length(graph, person, weight="generations")
    hits = sorted(v for v, d in dist.items() if d == n)
    if len(hits) != 1:
        raise NotUnique(f"{len(hits)} people are exactly {n} generations from {person} ({variant})")
    return hits[0]
