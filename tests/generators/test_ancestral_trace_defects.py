"""ancestral-trace defects the independent checkers found (issue 11), each rebuilt as it was made and then as it is
made now: kinship in the filler gave a chain person a second parent, the question's targets leaned to the chain's
ends, and a zh "male" name read as a woman's."""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter

import pytest

import lcgen.generators._kinship as kinship
import lcgen.generators.ancestral_trace as ancestral_trace
import lcgen.validators.ancestral_trace  # noqa: F401  (registers the oracle)
from lcgen.frames import render_frame
from lcgen.haystack import haystacks
from lcgen.haystacks.sentences import split_sentences
from lcgen.registry import families
from lcgen.validate import check_row
from tests.generators import rows

FAM = families.get("ancestral-trace")

# The checkers' repros (`lcgen make ... --depths 0`): one sample each, with the statement a filler sentence follows.
REPROS = [
    (dict(variant="nth_ancestor", length=8000, depth=0.0, index=64, seed=91, haystack="procedural", needles=8),
     "Marie Robinson is not only Carrie Taylor's mom but also Carrie Taylor's role model. She grew up in Heidiberg, "
     "where her father, Brent Bruce,"),
    (dict(variant="eldest_ancestor", length=32000, depth=0.0, index=9, seed=202, haystack="procedural", needles=16,
          lang="zh", branches=4, families=4),
     "刘娟是刘勇的妈妈。\n他的父亲魏坤是"),
]


def _question_0_1(variant, gens, rng):
    """The 0.1.0 question draw (eldest_ancestor asked the youngest member; answers leaned to the chain's ends)."""
    n = len(gens)
    if variant == "eldest_ancestor":
        return [n], 0, sum(gens)
    if variant == "nth_ancestor":
        j = rng.randint(1, n)
        i = rng.randint(0, j - 1)
        return [j], i, sum(gens[i:j])
    i = rng.randint(0, n - 1)
    j = rng.randint(i + 1, n)
    if variant == "nth_descendant":
        return [i], j, sum(gens[i:j])
    pair = [i, j]
    rng.shuffle(pair)
    return pair, j, sum(gens[i:j])


def _unusable_0_1(lang):
    """The 0.1.0 name filter: only the given names Faker lists for both sexes."""
    data = __import__(f"faker.providers.person.{kinship.LOCALES[lang]}", fromlist=["Provider"]).Provider
    both = frozenset(data.first_names_male) & frozenset(data.first_names_female)
    return {sex: both for sex in kinship.SEXES}


@pytest.fixture
def generator_0_1(monkeypatch):
    """The generator as version 0.1.0 drew (the engine and the haystack are unchanged)."""
    monkeypatch.setattr(ancestral_trace, "_question", _question_0_1)
    monkeypatch.setattr(ancestral_trace, "_filler_reject", lambda s, lang: kinship.looks_like_statement(s, lang))
    monkeypatch.setattr(kinship, "unusable_given_names", _unusable_0_1)


def _row(spec: dict) -> dict:
    spec = dict(spec)
    return rows.make_row("ancestral-trace", spec.pop("variant"), spec.pop("length"), spec.pop("depth"),
                         spec.pop("index"), spec.pop("seed"), spec.pop("haystack"), **spec)


# --- 1. kinship in the filler ----------------------------------------------------------------------------------

@pytest.mark.parametrize("spec, second_parent", REPROS, ids=["en-nth_ancestor-64", "zh-eldest_ancestor-9"])
def test_the_oracle_fails_the_checkers_samples(generator_0_1, spec, second_parent):
    row = _row(spec)
    assert second_parent in row["input"]  # the very sample the checkers found
    assert any("speaks of kinship outside the statements" in p for p in check_row(row, {})[0])


@pytest.mark.parametrize("spec, second_parent", REPROS, ids=["en-nth_ancestor-64", "zh-eldest_ancestor-9"])
def test_the_same_requests_now_hold_no_kinship_filler(spec, second_parent):
    row = _row(spec)
    assert check_row(row, {})[0] == []
    lang = spec.get("lang", "en")
    context = row["input"][slice(*json.loads(row["meta"])["context_span"])]
    sentences = context.split("\n") if lang == "zh" else split_sentences(context)
    assert not [s for s in sentences if kinship.speaks_of_kin(s, lang) and not kinship.looks_like_statement(s, lang)]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_grid_of_procedural_samples_validates(lang):
    for k, variant in enumerate(FAM.variant_names()):
        row = rows.make_row("ancestral-trace", variant, 2500, 25.0 * k, k, 17, "procedural", lang=lang, needles=6,
                            branches=2, families=1, branch_length=2)
        assert check_row(row, {})[0] == [], row["id"]


def test_kinship_words_are_whole_words_in_english():
    assert kinship.speaks_of_kin("Her father's house.", "en") and kinship.speaks_of_kin("GRANDMOTHERS", "en")
    assert not kinship.speaks_of_kin("Jackson and Madison met at the Sonora fatherland museum.", "en")
    assert kinship.speaks_of_kin("我家儿子曹斌托我问你。", "zh") and not kinship.speaks_of_kin("桥边的石头。", "zh")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_generators_test_and_the_oracles_agree(lang):
    """The generator asks the fast test of each sentence, the oracle finds the words; and every statement holds a
    kinship word, so the one test also keeps statement look-alikes out of the filler."""
    source = haystacks.get("procedural")(None)
    sentences = [s for doc in itertools.islice(source.documents(random.Random(4), lang), 300) for s in doc]
    flagged = [kinship.speaks_of_kin(s, lang) for s in sentences]
    assert flagged == [bool(kinship.kin_hits(s, lang)) for s in sentences] and 0 < sum(flagged) < len(flagged) / 4
    names = {"en": ("Ann Lee", "Bob Ray"), "zh": ("王小明", "李大伟")}[lang]
    for frame in kinship.frames(lang):
        for term in kinship.relations(lang):
            statement = render_frame(frame, elder=names[0], younger=names[1], relation=term)
            assert kinship.looks_like_statement(statement, lang) and kinship.speaks_of_kin(statement, lang)


# --- 2. where the answer sits on the chain -----------------------------------------------------------------------

NEEDLES = 8
SAMPLES = 160
# Which meta key must spread evenly, and over which chain positions (0 = the eldest member, NEEDLES the youngest).
SPREAD = {
    "eldest_ancestor": ("hops", range(1, NEEDLES + 1)),  # the asked member; the answer is always member 0
    "nth_ancestor": ("answer_position", range(0, NEEDLES)),
    "nth_descendant": ("answer_position", range(1, NEEDLES + 1)),
    "relation_distance": ("hops", range(1, NEEDLES + 1)),  # statements between the two asked members
}
CHI2_BOUND = 24.3  # chi-square with 7 degrees of freedom, p = 0.001


def _chi2(variant: str) -> float:
    key, cells = SPREAD[variant]
    params = FAM.params(needles=NEEDLES)
    seen = Counter()
    for index in range(SAMPLES):
        sample = FAM.plan(params, variant, 0.0, random.Random(f"{variant}/{index}"))
        m = sample.meta
        if variant != "relation_distance":
            assert m["answer_position"] == m["chain"].index(sample.answers[0])
        seen[m[key]] += 1
    assert set(seen) <= set(cells)
    expected = SAMPLES / len(cells)
    return sum((seen[c] - expected) ** 2 / expected for c in cells)


@pytest.mark.parametrize("variant", list(SPREAD))
def test_answer_positions_are_near_uniform(variant):
    assert _chi2(variant) < CHI2_BOUND


@pytest.mark.parametrize("variant", list(SPREAD))
def test_the_0_1_draw_fails_the_same_bound(generator_0_1, variant):
    assert _chi2(variant) > 2 * CHI2_BOUND


# --- 3. Chinese given names match their sex ----------------------------------------------------------------------

def test_misfiled_chinese_names_are_never_drawn():
    from faker.providers.person.zh_CN import Provider

    assert "红霞" in Provider.first_names_male  # the premise: Faker files it as a man's name
    unusable = kinship.unusable_given_names("zh")
    assert "红霞" in unusable["male"] and "霞" not in unusable["female"] and "伟" not in unusable["male"]
    drawer = kinship.NameDrawer(random.Random(3), "zh")
    males = [drawer.draw("male") for _ in range(600)]
    assert not [name for name in males if name.endswith("红霞")]


def test_the_0_1_drawer_gave_men_a_womans_name(generator_0_1):
    drawer = kinship.NameDrawer(random.Random(3), "zh")
    assert sum(drawer.draw("male").endswith("红霞") for _ in range(600)) > 5


def test_misfiled_weighs_characters_not_names():
    wrong = kinship.misfiled(("强", "伟", "红霞", "明"), ("霞", "红", "红梅", "丽"))
    assert wrong == {"male": frozenset({"红霞"}), "female": frozenset()}
