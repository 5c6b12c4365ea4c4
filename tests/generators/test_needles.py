"""needles: oracle agreement in both languages, needles never split sentences, and the leakage guard."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lcgen.haystack import get_haystack
from lcgen.haystacks.files import clean_sentence
from lcgen.haystacks.sentences import split_sentences
from lcgen.registry import families
from lcgen.validate import check_row
from tests.generators import rows

FAM = families.get("needles")
DATA = Path(__file__).resolve().parent.parent / "data"
CORPUS = {"en": DATA / "corpus_en", "zh": DATA / "corpus_zh"}


def make_row(variant, lang="en", length=3000, depth=50.0, index=0, haystack=None, **knobs):
    return rows.make_row("needles", variant, length, depth, index, 4, haystack or f"files:{CORPUS[lang]}",
                         allow_repeat=True, lang=lang, **knobs)  # the test corpora are tiny


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("variant", ["single_retrieval", "multi_retrieval", "multi_reasoning"])
@pytest.mark.parametrize("placement", ["uniform", "clustered"])
def test_oracle_agrees(lang, variant, placement):
    for depth in (0.0, 40.0, 100.0):
        for index in range(2):
            row = make_row(variant, lang, depth=depth, index=index, placement=placement, needles=3)
            problems, _ = check_row(row, {})
            assert problems == [], (row["id"], problems)
            assert row["length"] == row["target_length"]


def corpus_sentences(lang):
    out = set()
    for path in sorted(CORPUS[lang].glob("*.txt")):
        out.update(c for c in (clean_sentence(s, lang) for s in split_sentences(path.read_text())) if c)
    return out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_needles_never_split_anything(lang):
    sentences = corpus_sentences(lang)
    sep = "" if lang == "zh" else " "
    for index in range(6):
        for depth in (0.0, 13.0, 50.0, 87.0, 100.0):
            row = make_row("multi_retrieval", lang, length=2500, depth=depth, index=index, needles=4,
                           placement="clustered" if index % 2 else "uniform")
            text = row["input"]
            inner = text[text.index("<document>") + len("<document>"): text.rindex("</document>")]
            needle_sentences = json.loads(row["meta"])["sentences"]
            # Remove needles; what remains must be whole corpus sentences and nothing else.
            rest = inner
            for s in needle_sentences:
                assert (sep + s if lang == "en" else s + "\n") in rest
                rest = rest.replace(sep + s if lang == "en" else s + "\n", "", 1)
            pieces = [p for p in (rest.split("\n") if lang == "zh" else split_sentences(rest)) if p.strip()]
            assert all(p.strip() in sentences for p in pieces), [p for p in pieces if p.strip() not in sentences][:3]


def test_leakage_guard_catches_a_planted_collision(tmp_path):
    row = make_row("single_retrieval", "en", length=2500, index=7)
    meta = json.loads(row["meta"])
    name, value = meta["names"][0], meta["values"][0]
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS["en"], corpus)
    (corpus / "planted.txt").write_text(
        f"Yesterday {name} went to the market. The number {value} was painted on the door. "
        "Nothing else happened that day. " * 3
    )
    planted = make_row("single_retrieval", "en", length=2500, index=7, haystack=f"files:{corpus}")
    assert json.loads(planted["meta"])["names"][0] == name  # same needle, drawn before the haystack
    assert planted["input"].count(name) == 2  # the needle and the question, never the haystack
    assert planted["input"].count(value) == 1
    assert check_row(planted, {})[0] == []
    # The oracle itself flags a haystack that mentions a needle's name.
    broken = dict(row)
    broken["input"] = row["input"].replace("<document>", f"<document> {name} was here.", 1)
    assert any("outside the needles" in p for p in check_row(broken, {})[0])


def test_reasoning_needs_every_comparison():
    row = make_row("multi_reasoning", "en", length=4000, needles=5)
    meta = json.loads(row["meta"])
    assert len(meta["sentences"]) == 5 and len(meta["ranked"]) == 6
    dropped = dict(row)
    dropped["input"] = row["input"].replace(" " + meta["sentences"][2], "", 1)
    problems, _ = check_row(dropped, {})
    assert problems  # a missing link leaves the answer undetermined or changes the length


def test_haystack_must_be_usable_before_anything_is_written(tmp_path):
    from lcgen.errors import HaystackError
    from lcgen.make import MakeRequest, make

    with pytest.raises(HaystackError):
        make(MakeRequest(family="needles", lengths=[2000], haystack=f"files:{tmp_path}/nope"), tmp_path / "out")
    assert not (tmp_path / "out").exists()
    get_haystack.cache_clear()
