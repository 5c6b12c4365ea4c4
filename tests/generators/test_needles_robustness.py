"""needles --confusing-facts and --replace-keywords (after LV-Eval's CFI and KPR): the oracle still passes, every
confusing fact is recorded, present and answers nothing asked, a contradicting one is caught, and no original
keyword is left."""

from __future__ import annotations

import json
import re

import pytest

from lcgen.errors import ParamError
from lcgen.generators.needles import DIMENSIONS, NeedlesParams, other_dimensions
from lcgen.registry import families
from lcgen.validate import check_row
from tests.generators import rows

VARIANTS = ["single_retrieval", "multi_retrieval", "multi_reasoning"]


def make_row(variant, lang="en", index=0, seed=0, **knobs):
    return rows.make_row("needles", variant, 3000, 50.0, index, seed, "procedural", lang=lang, **knobs)


def meta_of(row):
    return json.loads(row["meta"])


def asked_pairs(meta):
    return dict(zip(meta["names"], meta["attributes"]))


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_each_option_passes_the_oracle_at_exact_length(lang, variant):
    for knobs in ({"confusing_facts": 6}, {"replace_keywords": True}, {"confusing_facts": 6, "replace_keywords": True}):
        row = make_row(variant, lang, **knobs)
        assert check_row(row, {})[0] == [], (knobs, check_row(row, {})[0])
        assert row["length"] == row["target_length"] == 3000
        meta = meta_of(row)
        facts = meta.get("confusing_facts", [])
        assert len(facts) == knobs.get("confusing_facts", 0)
        for fact in facts:  # recorded and present, once
            assert row["input"].count(fact["sentence"]) == 1
        assert len(meta["needle_offsets"]) == len(row["depth"]) == len(meta["sentences"]) + len(facts)
        assert ("keyword_map" in meta) == knobs.get("replace_keywords", False)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_retrieval_confusers_look_alike_and_answer_nothing(lang):
    row = make_row("multi_retrieval", lang, needles=3, confusing_facts=30)
    meta = meta_of(row)
    asked, answers = asked_pairs(meta), set(meta["values"])
    parts = {p for n in meta["names"] for p in _parts(n, lang)}
    values = [f["value"] for f in meta["confusing_facts"]]
    assert len(set(values)) == len(values) and not answers & set(values)
    kinds = {f["kind"] for f in meta["confusing_facts"]}
    assert kinds == {"other_subject", "other_attribute"}
    for fact in meta["confusing_facts"]:
        if fact["kind"] == "other_attribute":
            assert fact["attribute"] != asked[fact["name"]]
        else:  # a real look-alike: shares one part with an asked person, holds no other name
            assert fact["name"] not in asked and set(_parts(fact["name"], lang)) & parts
            assert not any(fact["name"] in n or n in fact["name"] for n in asked)
            assert fact["attribute"] in asked.values()
    # Adding them changed nothing else: the same needles and question as without.
    plain = meta_of(make_row("multi_retrieval", lang, needles=3))
    assert plain["sentences"] == meta["sentences"] and plain["values"] == meta["values"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_reasoning_confusers_never_touch_the_asked_dimension(lang):
    row = make_row("multi_reasoning", lang, needles=3, confusing_facts=20)
    meta = meta_of(row)
    asked = next(d for d in DIMENSIONS[lang] if d[0] == meta["dimension"])
    for fact in meta["confusing_facts"]:
        assert fact["kind"] == "other_dimension" and fact["dimension"] != asked[0]
        assert not any(w in fact["sentence"] for w in asked[1:3])
    outsiders = {n for f in meta["confusing_facts"] for n in f["names"]} - set(meta["ranked"])
    assert outsiders  # some compare people outside the chain
    # In Chinese "年轻" holds "轻": an age comparison never meets a weight question.
    assert [d[0] for d in other_dimensions("zh", DIMENSIONS["zh"][2])] == ["身高"]


def _parts(name, lang):
    return (name[:1], name[1:]) if lang == "zh" else tuple(name.split(" ", 1))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_contradicting_confuser_is_caught(lang):
    row = make_row("single_retrieval", lang, confusing_facts=4)
    meta = meta_of(row)
    name, attribute, value = meta["names"][0], meta["attributes"][0], meta["values"][0]
    fact = meta["confusing_facts"][0]
    second = value.split("-")[0] + ("-1000" if not value.endswith("-1000") else "-1001")
    if lang == "zh":
        contradiction = f"{name}的{attribute}是{second}。"
        same_code = f"{fact['name']}的{fact['attribute']}是{value}。"
    else:
        contradiction = f"The {attribute} of {name} is {second}."
        same_code = f"The {fact['attribute']} of {fact['name']} is {value}."
    crafted = dict(row, input=row["input"].replace(fact["sentence"], contradiction, 1))
    assert any("2 facts give the" in p and "contradicts the answer" in p for p in check_row(crafted, {})[0])
    crafted = dict(row, input=row["input"].replace(fact["sentence"], same_code, 1))
    assert any(f"the code {value} is given in 2 facts" in p for p in check_row(crafted, {})[0])
    # A confusing fact dropped from the text is missing from what meta records.
    dropped = dict(row, input=row["input"].replace(fact["sentence"], "", 1))
    assert any(p.startswith("meta.confusing_facts") for p in check_row(dropped, {})[0])


def test_a_comparison_in_the_asked_dimension_is_caught():
    row = make_row("multi_reasoning", "en", needles=3, confusing_facts=6)
    meta = meta_of(row)
    asked = next(d for d in DIMENSIONS["en"] if d[0] == meta["dimension"])
    fact = meta["confusing_facts"][0]
    top = meta["ranked"][0]
    outsider = "Zed Quimby"
    # A fork under the top of the chain: the chain no longer orders everyone.
    crafted = dict(row, input=row["input"].replace(fact["sentence"], f"{top} is {asked[1]} than {outsider}.", 1))
    assert any("do not form a single chain" in p for p in check_row(crafted, {})[0])
    # Two confusing comparisons of one other dimension that contradict each other are caught too.
    a, b = fact["names"]
    other = next(d for d in DIMENSIONS["en"] if d[0] == fact["dimension"])
    crafted = dict(row, input=row["input"].replace(fact["sentence"], f"{b} is {other[1]} than {a}.", 1))
    crafted["input"] = crafted["input"].replace(meta["sentences"][0], f"{meta['sentences'][0]} {a} is {other[1]} "
                                                f"than {b}.", 1)
    assert any("contradict each other" in p for p in check_row(crafted, {})[0])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_keyword_map_is_seeded_complete_and_shares_nothing(lang):
    row = make_row("multi_retrieval", lang, needles=3, confusing_facts=6, replace_keywords=True)
    mapping = meta_of(row)["keyword_map"]
    assert list(mapping) == sorted(mapping)
    assert make_row("multi_retrieval", lang, needles=3, confusing_facts=6, replace_keywords=True) == row
    assert meta_of(make_row("multi_retrieval", lang, index=1, needles=3, confusing_facts=6,
                            replace_keywords=True))["keyword_map"] != mapping
    texts = [row["input"], row["question"], row["answer"], *row["answers"]]
    assert not [k for k in mapping if any(k in t for t in texts)]
    assert all(v in row["input"] for v in mapping.values())
    originals = "".join(mapping)
    for new in mapping.values():
        if lang == "zh" and re.fullmatch(r"[\u4e00-\u9fff]+", new):
            assert not set(new) & set(originals)  # LV-Eval's rule: no character in common
        else:
            low = new.lower()
            runs = {low[i:i + 3] for i in range(len(low) - 2)}
            assert not any(r in k.lower() for r in runs for k in mapping)
    # Each code word is replaced consistently: the answers are the original codes with the new words.
    plain = make_row("multi_retrieval", lang, needles=3, confusing_facts=6)
    swapped = [mapping[v.rpartition("-")[0]] + "-" + v.rpartition("-")[2] for v in plain["answers"]]
    assert swapped == row["answers"]
    # Validate's core check reads the map: an original put back into the text fails the row.
    key = next(iter(mapping))
    back = dict(row, input=row["input"].replace(mapping[key], key, 1))
    assert f"replaced keyword {key!r} is still in input" in check_row(back, {})[0]


def test_look_alikes_keep_sharing_their_part_after_replacement():
    row = make_row("single_retrieval", "en", confusing_facts=12, replace_keywords=True)
    meta = meta_of(row)
    mapping = meta["keyword_map"]
    back = {v: k for k, v in mapping.items()}
    asked = back[meta["names"][0]].split(" ")
    for fact in meta["confusing_facts"]:
        original, new = back[fact["name"]].split(" "), fact["name"].split(" ")
        for i in (0, 1):
            assert (original[i] == asked[i]) == (new[i] == meta["names"][0].split(" ")[i])


def test_too_many_confusing_facts_for_the_length_are_refused_before_any_sample():
    check = families.get("needles").check
    with pytest.raises(ParamError, match="--confusing-facts"):
        check(NeedlesParams(confusing_facts=200), "multi_retrieval", [500])
    check(NeedlesParams(confusing_facts=200), "multi_retrieval", [8000])
