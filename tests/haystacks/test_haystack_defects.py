"""Issue 11's haystack defects, each reproduced first: ``reject`` sees one sentence at a time and a corpus the
guard empties is refused in one line; zh cleaning keeps the spaces of Latin text; a low-variety corpus either hits
the length or is refused naming the corpus, its sentence sizes and what would help."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lcgen.errors import HaystackError, ParamError
from lcgen.haystack import MIN_SENTENCES, Haystack, SentenceUnits, get_haystack
from lcgen.haystacks.files import clean_sentence
from lcgen.make import SampleSpec, build_sample
from lcgen.registry import families
from lcgen.tokenizer import get_tokenizer

EN = Path(__file__).resolve().parent.parent / "data" / "corpus_en"
COLOURS = "red blue green old young small big dark brown white".split()


# ------------------------------------------------------------------------------------ reject, one sentence at a time


def test_reject_is_called_on_single_sentences_only():
    calls: list[str] = []

    def starts_with_the(sentence: str) -> bool:  # a sentence-anchored test: a joined document hides the later ones
        calls.append(sentence)
        return sentence.startswith("The")

    units = SentenceUnits(get_haystack(f"files:{EN}"), random.Random(3), "en", reject=starts_with_the)
    drawn = units.draw_many(150)
    assert not [c for c in calls if "\n" in c]
    assert not [u for u in drawn if u.startswith(" The")]
    assert units.rejected > 0 and units.dropped == units.rejected


def test_a_corpus_the_filter_empties_is_one_line_naming_it_and_what_was_rejected():
    units = SentenceUnits(get_haystack(f"files:{EN}"), random.Random(0), "en", avoid=["bread"], reject=lambda s: True)
    with pytest.raises(HaystackError) as err:
        units.draw_many(10)
    message = str(err.value)
    assert "\n" not in message and f"files:{EN}" in message
    assert "name a needle's people or answers" in message and "read like a needle" in message
    assert "such as" in message  # one of the sentences it dropped, so the user sees what was rejected


def test_a_corpus_the_filter_leaves_too_small_is_refused(tmp_path):
    (tmp_path / "c.txt").write_text(" ".join(f"The {c} {x} walked to the shop." for c in COLOURS for x in ("cat", "dog",
                                                                                                          "fox")))
    units = SentenceUnits(get_haystack.__wrapped__(f"files:{tmp_path / 'c.txt'}"), random.Random(0), "en",
                          reject=lambda s: "dog" in s or "fox" in s)
    assert len(units.draw_many(10)) == 10  # within one pass: fine
    with pytest.raises(HaystackError) as err:
        units.draw_many(30)  # the 10 usable sentences would repeat every 80 tokens
    message = str(err.value)
    assert f"only 10 of the 30 sentences of files:{tmp_path / 'c.txt'}" in message and "\n" not in message
    assert f"fewer than {MIN_SENTENCES}" in message and "20 read like a needle" in message


class _MostlyLookalikes(Haystack):
    scheme = "test-lookalikes"

    def documents(self, rng, lang, avoid=()):
        while True:
            yield ["The access code of Ada Brook is AMBER-1234."] * 299 + ["A plain sentence."]


def test_an_endless_source_that_yields_almost_nothing_is_refused_early():
    units = SentenceUnits(_MostlyLookalikes(None), random.Random(0), "en", reject=lambda s: "AMBER" in s)
    with pytest.raises(HaystackError, match="only 4 of the 1,200 sentences of test-lookalikes drawn so far"):
        units.draw_many(1_000)
    assert units.produced < 10


# ---------------------------------------------------------------------------------------- zh cleaning, Latin spaces


@pytest.mark.parametrize("raw, cleaned", [
    ("他在 Stanford University 读书。", "他在 Stanford University 读书。"),
    ("Stanford University 位于加州。", "Stanford University 位于加州。"),
    ("茶起源于中国，\n已有数千年的历史。", "茶起源于中国，已有数千年的历史。"),
    ("中 文 之 间 没 有 空 格。", "中文之间没有空格。"),
    ("价格 （含税） 为 100 元 。", "价格（含税）为 100 元。"),
    ("ＡＢＣ 公司 成立。", "ＡＢＣ公司成立。"),  # fullwidth Latin letters are CJK text
    ("他读了 《红楼梦》 一书。", "他读了《红楼梦》一书。"),
    ("𠀀 𠀁 是罕见字。", "𠀀𠀁是罕见字。"),  # beyond the BMP: CJK extension B
    ("한국 사람 이에요.", "한국 사람 이에요."),  # Hangul is written with spaces
    ("He said 你好 to me.", "He said 你好 to me."),
])
def test_zh_cleaning_removes_only_whitespace_between_cjk_characters(raw, cleaned):
    assert clean_sentence(raw, "zh") == cleaned


def test_files_and_hf_keep_latin_spaces_in_zh(tmp_path):
    text = "".join(f"第{i}位学者在 Stanford University 工作了 {i} 年。" for i in range(25))
    (tmp_path / "zh.txt").write_text(text)
    docs = get_haystack.__wrapped__(f"files:{tmp_path / 'zh.txt'}").documents(random.Random(0), "zh")
    assert next(docs)[0] == "第0位学者在 Stanford University 工作了 0 年。"
    (tmp_path / "hf" / "data").mkdir(parents=True)
    pq.write_table(pa.table({"text": [text]}), tmp_path / "hf" / "data" / "train-00000-of-00001.parquet")
    docs = get_haystack.__wrapped__(f"hf:{tmp_path / 'hf'}:text").documents(random.Random(0), "zh")
    assert "Stanford University" in next(docs)[0]


# ------------------------------------------------------------------------------------ files: with two sentence shapes


def _two_shapes(folder: Path, second: str) -> tuple[str, set[int]]:
    """A corpus of 40 distinct sentences in two shapes: 20 of 8 tokens and 20 of another size."""
    folder.mkdir()
    first = [f"The {c} {x} walked to the shop." for c in COLOURS for x in ("cat", "dog")]
    other = [second.format(c=c, x=x) for c in COLOURS for x in ("fox", "bird")]
    (folder / "two.txt").write_text(" ".join(s for pair in zip(first, other) for s in pair) + "\n")
    tok = get_tokenizer()
    return f"files:{folder}", {tok.count(" " + s) for s in first + other}


def _needles(haystack: str, index: int) -> SampleSpec:
    fam = families.get("needles")
    params = dataclasses.asdict(fam.params(**fam.variants["single_retrieval"]))
    return SampleSpec("needles", "single_retrieval", 4000, 50.0, index, 11, "cl100k_base", params, haystack, True)


def test_two_shape_corpus_hits_the_length(tmp_path):
    """Before the close over every size seen (lcgen 0.2.0), such a corpus came out 3,916-3,919 of 4,000 tokens."""
    haystack, sizes = _two_shapes(tmp_path / "coprime", "A {c} {x} sang a song in the tall green tree today.")
    assert sizes == {8, 13}
    for index in range(4):
        row = build_sample(_needles(haystack, index))
        assert row["length"] == 4000 == get_tokenizer().count(row["input"])


def test_two_shape_corpus_that_cannot_make_the_length_names_the_corpus(tmp_path):
    haystack, sizes = _two_shapes(tmp_path / "even", "A {c} {x} sang a song in the tall green tree.")
    assert sizes == {8, 12}  # every sum is a multiple of 4: three lengths in four are out of reach
    outcomes = []
    for index in range(6):
        try:
            row = build_sample(_needles(haystack, index))
        except ParamError as exc:
            message = str(exc)
            assert "\n" not in message and haystack in message, message
            assert "take only 2 sizes (8 and 12 tokens)" in message, message
            assert "the nearest lengths that work for this sample" in message, message
            assert "sentences that vary more in length" in message, message
            outcomes.append("refused")
        else:
            assert row["length"] == 4000
            outcomes.append("exact")
    assert "refused" in outcomes
