"""ancestral-trace: every variant agrees with its oracle in both modes and languages, the graph proof refuses
ambiguous families, and the validator catches tampered samples."""

from __future__ import annotations

import dataclasses
import importlib
import json
import random
import re

import pytest

import lcgen.generators.ancestral_trace  # noqa: F401  (registers the family until generators/__init__ does)
import lcgen.haystack
import lcgen.validators.ancestral_trace  # noqa: F401  (registers the oracle)
from lcgen.errors import ParamError
from lcgen.generators._kinship import (
    NAME,
    NotUnique,
    kin_graph,
    ordinal,
    prove_answer,
    prove_chain,
    relations,
)
from lcgen.haystack import Haystack, haystacks
from lcgen.make import SampleSpec
from lcgen.registry import families
from lcgen.validate import check_row
from tests.generators import rows

FAM = families.get("ancestral-trace")
VARIANTS = FAM.variant_names()
DISTRACTORS = {"branches": 3, "families": 2, "branch_length": 3}


_WORDS = "quiet wide cold slow green river mill stone bridge market road field garden harbor".split()
_HAN = "河桥路田园港市石山林风雨云花草木"


class FixtureHaystack(Haystack):
    """Test-only haystack: fixed English and Chinese sentences of varied length, in a seeded order."""

    scheme = "atc-fixture"
    EN = [" ".join(["The"] + [_WORDS[(i * 7 + j) % len(_WORDS)] for j in range(3 + i % 23)]) + "." for i in range(60)]
    EN += ["My father was a sailor.", "Her grandmother kept bees."]  # never filler: they speak of kinship
    ZH = ["".join(_HAN[(i * 5 + j) % len(_HAN)] for j in range(4 + i % 29)) + "。" for i in range(60)]

    def documents(self, rng, lang, avoid=()):
        while True:
            doc = list(self.ZH if lang == "zh" else self.EN)
            rng.shuffle(doc)
            yield doc[:20]


@pytest.fixture(autouse=True)
def _fixture_haystack(monkeypatch):
    real = lcgen.haystack.get_haystack
    monkeypatch.setattr(lcgen.haystack, "get_haystack",
                        lambda spec: FixtureHaystack(None) if spec == FixtureHaystack.scheme else real(spec))


def make_row(variant: str, length: int | None = None, depth: float = 50.0, index: int = 0,
             haystack: str = FixtureHaystack.scheme, **knobs) -> dict:
    return rows.make_row("ancestral-trace", variant, length, depth, index, 5, haystack, **knobs)


def meta(row: dict) -> dict:
    return json.loads(row["meta"])


GRID = [
    (variant, lang, order, extra, length)
    for variant in VARIANTS
    for lang in ("en", "zh")
    for order in ("shuffled", "forward", "backward")
    for extra in (False, True)
    for length in (None, 4000)
]


@pytest.mark.parametrize("variant, lang, order, extra, length", GRID)
def test_oracle_agrees(variant, lang, order, extra, length):
    knobs = {"lang": lang, "order": order, "needles": 10, **(DISTRACTORS if extra else {})}
    for index, depth in enumerate((0.0, 60.0, 100.0) if length else (50.0,)):
        row = make_row(variant, length, depth=depth, index=index, **knobs)
        problems, _ = check_row(row, {})
        assert problems == [], (row["id"], knobs, problems)
        if length:
            assert row["length"] == length
            assert "sailor" not in row["input"] and "kept bees" not in row["input"]  # kinship is never filler
        m = meta(row)
        # families keep branch_length statements; a branch may be cut short to stay shorter than the chain below it
        assert (9 <= m["distractor_statements"] <= 15) if extra else m["distractor_statements"] == 0
        assert len(row["depth"]) == 10 + m["distractor_statements"]


def test_answer_and_prompt_shape():
    for variant in VARIANTS:
        for lang in ("en", "zh"):
            row = make_row(variant, lang=lang)
            (item,) = row["answers"]
            assert row["answer"] == f"\\boxed{{{item}}}"
            assert row["input"].endswith(row["question"] + "\n")
            assert "\\boxed{}" in row["question"]
            if variant == "relation_distance":
                assert item.isdigit() and int(item) == meta(row)["n"]
            else:
                assert re.fullmatch(NAME[lang], item)
    en = make_row("nth_ancestor", index=3)
    n = meta(en)["n"]
    assert f"{ordinal(n)}-generation ancestor" in en["question"]
    assert f"exactly {n} generation{'' if n == 1 else 's'} above" in en["question"]
    assert "two generations above their grandchild" in en["input"]
    assert "比孙辈高两代" in make_row("nth_descendant", lang="zh")["input"]


def test_ordinals():
    got = [ordinal(n) for n in (1, 2, 3, 4, 10, 11, 12, 13, 14, 21, 22, 23, 101, 111, 112, 113, 122)]
    assert got == ["1st", "2nd", "3rd", "4th", "10th", "11th", "12th", "13th", "14th", "21st", "22nd", "23rd",
                   "101st", "111th", "112th", "113th", "122nd"]


def test_targets_vary_and_are_not_always_the_chain_ends():
    tops, spans, starts = set(), set(), set()
    for index in range(24):
        row = make_row("nth_ancestor", index=index, needles=8)
        m = meta(row)
        tops.add(row["answers"][0] == m["chain"][0])
        starts.add(m["asked"][0] == m["chain"][-1])
        spans.add(m["n"])
    assert tops == {True, False} and starts == {True, False} and len(spans) > 4
    hops = {meta(make_row("relation_distance", index=i, needles=8))["hops"] for i in range(16)}
    assert len(hops) > 2 and min(hops) < 8
    asked = set()
    for index in range(12):
        row = make_row("eldest_ancestor", index=index, needles=8)
        m = meta(row)
        assert row["answers"] == [m["chain"][0]] and m["answer_position"] == 0
        assert m["hops"] == m["chain"].index(m["asked"][0]) > 0
        asked.add(m["hops"])
    assert len(asked) > 4  # not always the chain's youngest member


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_chains_of_2_and_512(lang):
    for n, length, knobs in ((2, None, {}), (2, 3000, {"branches": 2, "families": 2}), (512, None, DISTRACTORS),
                             (512, 40_000, {})):
        row = make_row("nth_descendant", length, needles=n, lang=lang, **knobs)
        problems, _ = check_row(row, {})
        assert problems == [], (n, length, problems)
        m = meta(row)
        assert len(m["chain"]) == n + 1 and m["statements"] == n


def test_names_are_unique_and_match_their_terms():
    providers = {lang: importlib.import_module(f"faker.providers.person.{loc}").Provider
                 for lang, loc in (("en", "en_US"), ("zh", "zh_CN"))}
    for lang in ("en", "zh"):
        data = providers[lang]
        male, female = set(data.first_names_male), set(data.first_names_female)
        for index in range(3):
            m = meta(make_row("nth_descendant", index=index, lang=lang, needles=40, **DISTRACTORS))
            names = [name for name, _ in m["people"]]
            assert len(set(names)) == len(names)
            assert not [(a, b) for a in names for b in names if a != b and a in b]
            for elder, _, term, generations in m["edges"]:
                rel = relations(lang)[term]
                assert rel.generations == generations
                if lang == "en":
                    first = elder.split()[0]
                else:
                    first = next(elder[len(s):] for s in sorted(data.last_names, key=len, reverse=True)
                                 if elder.startswith(s) and elder[len(s):] in male | female)
                assert first in (male - female if rel.sex == "male" else female - male), (elder, term)


def test_statement_order_follows_the_knob():
    for lang in ("en", "zh"):
        for order, descending in (("forward", False), ("backward", True)):
            for length in (None, 6000):
                row = make_row("eldest_ancestor", length, lang=lang, order=order, needles=12, **DISTRACTORS)
                chain = meta(row)["needle_offsets"][:12]
                assert chain == sorted(chain, reverse=descending), (lang, order, length)


def test_spread_puts_the_chain_in_its_window():
    for depth, spread in ((20.0, 30.0), (80.0, 30.0), (50.0, 0.0)):
        row = make_row("eldest_ancestor", 8000, depth=depth, needles=8, spread=spread, order="shuffled")
        chain = row["depth"][:8]
        unit = 100.0 * meta(row)["max_unit_tokens"] / meta(row)["context_tokens"]
        assert min(chain) == pytest.approx(depth, abs=unit)
        assert max(chain) <= min(100.0, depth + spread) + 8 * unit


def test_same_spec_same_bytes():
    a, b = make_row("nth_ancestor", 3000, **DISTRACTORS), make_row("nth_ancestor", 3000, **DISTRACTORS)
    assert a == b
    assert make_row("nth_ancestor", 3000, index=1, **DISTRACTORS)["input"] != a["input"]


def test_unbounded_split_and_haystack_requirement():
    params = dataclasses.asdict(FAM.params(needles=32))
    spec = SampleSpec("ancestral-trace", "eldest_ancestor", None, 0.0, 0, 0, "cl100k_base", params)
    assert spec.label == "n32"
    with pytest.raises(ParamError):
        FAM.plan(FAM.params(), "eldest_ancestor", 0.0, random.Random(0), haystack=None, length=4000)


def test_descendant_stays_unique_under_many_branches():
    hung_below = 0
    for index in range(12):
        row = make_row("nth_descendant", index=index, needles=6, branches=12, branch_length=4)
        assert check_row(row, {})[0] == []
        m = meta(row)
        chain = m["chain"]
        below = set(chain[chain.index(m["asked"][0]) + 1:])
        hung_below += sum(e[0] in below or e[0] == m["asked"][0] for e in m["edges"][6:] if e[0] in chain)
    assert hung_below > 10  # branches did hang below the asked person, and none made a second answer


# --- the graph proof -------------------------------------------------------------------------------------------

def _graph(links, sexes=None):
    names = ["Ann Lee", "Bob Ray", "Cal Dunn", "Dee Fox", "Eve Hart"]
    sexes = sexes or ["male", "male", "female", "female", "male"]
    terms = {("male", 1): "father", ("male", 2): "grandfather", ("female", 1): "mother", ("female", 2): "grandmother"}
    return kin_graph(names, sexes, [(e, y, terms[sexes[e], g], g) for e, y, g in links]), names


def test_proof_rejects_a_second_descendant():
    g, names = _graph([(0, 1, 1), (1, 2, 1), (0, 3, 2)])  # Cal and Dee are both two generations below Ann
    with pytest.raises(NotUnique):
        prove_answer(g, "en", "nth_descendant", [names[0]], 2)
    g, names = _graph([(0, 1, 1), (1, 2, 1), (0, 3, 1)])
    assert prove_answer(g, "en", "nth_descendant", [names[0]], 2) == "Cal Dunn"


def test_proof_rejects_broken_trees():
    cases = [
        [(0, 1, 1), (1, 2, 1), (2, 0, 1)],  # a cycle
        [(0, 2, 1), (1, 2, 1)],  # two parents
    ]
    for links in cases:
        g, names = _graph(links)
        with pytest.raises(NotUnique):
            prove_answer(g, "en", "eldest_ancestor", [names[2]], 0)
    g, names = _graph([(0, 1, 1)], sexes=["female", "male", "male", "male", "male"])
    g.edges[names[0], names[1]]["relation"] = "father"  # a woman called a father
    with pytest.raises(NotUnique):
        prove_answer(g, "en", "eldest_ancestor", [names[1]], 0)
    g, names = _graph([(0, 1, 1), (1, 2, 1), (0, 3, 1), (3, 4, 1)])  # a branch as long as the chain
    with pytest.raises(NotUnique):
        prove_chain(g, names[:3])
    with pytest.raises(NotUnique):  # nobody is exactly three generations above Cal
        prove_answer(*_graph([(0, 1, 2), (1, 2, 2)])[:1], "en", "nth_ancestor", ["Cal Dunn"], 3)


# --- tampering -------------------------------------------------------------------------------------------------

def _units(row: dict) -> list[tuple[int, int]]:
    """(start, end) of every recorded statement unit, in recorded order (chain first)."""
    m = meta(row)
    offsets = m["needle_offsets"]
    ends = sorted(offsets) + [m["context_span"][1]]
    return [(o, ends[ends.index(o) + 1]) for o in offsets]


def _problems(row: dict) -> list[str]:
    return check_row(row, {})[0]


def test_validator_catches_a_wrong_answer():
    row = make_row("nth_ancestor")
    row["answer"] = "\\boxed{Nobody Here}"
    assert "oracle answer differs from `answer`" in _problems(row)
    row = make_row("relation_distance", lang="zh")
    row["answers"] = [str(int(row["answers"][0]) + 1)]
    assert "oracle items differ from `answers`" in _problems(row)


def test_validator_catches_a_removed_statement():
    for lang in ("en", "zh"):
        row = make_row("eldest_ancestor", lang=lang, needles=8)
        a, b = _units(row)[3]
        row["input"] = row["input"][:a] + row["input"][b:]
        assert "oracle answer differs from `answer`" in _problems(row), lang


def test_validator_catches_a_second_parent_and_a_sex_clash():
    for lang, extra in (("en", " Zed Quill is {}'s mother."), ("zh", "钱多多是{}的妈妈。\n")):
        row = make_row("nth_descendant", lang=lang, needles=8)
        chain = meta(row)["chain"]
        a, _ = _units(row)[2]
        row["input"] = row["input"][:a] + extra.format(chain[4]) + row["input"][a:]
        assert any("two recorded parents" in p for p in _problems(row)), lang
    row = make_row("nth_descendant", needles=8)
    chain, people = meta(row)["chain"], dict(meta(row)["people"])
    term = "mother" if people[chain[0]] == "male" else "father"
    a, _ = _units(row)[0]
    row["input"] = row["input"][:a] + f" {chain[0]} is Zed Quill's {term}." + row["input"][a:]
    assert any("called both" in p for p in _problems(row))


def test_validator_catches_unparsed_statements_and_leaks():
    row = make_row("eldest_ancestor", needles=8)
    a, b = _units(row)[5]
    broken = re.sub(r"(father|mother|dad|mom)\b", r"\1-in-law", row["input"][a:b], count=1)
    row["input"] = row["input"][:a] + broken + row["input"][b:]
    assert any("not a kinship statement" in p for p in _problems(row))
    row = make_row("eldest_ancestor", 3000, needles=8)
    name = meta(row)["chain"][3]
    at = row["input"].index(" The ", meta(row)["context_span"][0])  # a haystack sentence
    row["input"] = row["input"][:at] + f" {name} saw the " + row["input"][at + 5:]
    assert any("haystack mentions" in p for p in _problems(row))


def test_procedural_haystack_when_available():
    if "procedural" not in haystacks.names():
        pytest.skip("the procedural haystack is not available yet")
    for lang in ("en", "zh"):
        row = make_row("relation_distance", 6000, depth=40.0, lang=lang, haystack="procedural", **DISTRACTORS)
        assert check_row(row, {})[0] == [] and row["length"] == 6000
