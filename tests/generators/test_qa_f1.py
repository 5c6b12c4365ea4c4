"""The qa family's scoring core (validators/metrics/_qa_f1.py): every LV-Eval scoring bug of the fact sheet
(/work/shared/anchors/lv-eval.md) reproduced with LV-Eval's formula and scored right by lcgen, both languages, the
module's worked example, the documented edge cases, any text safe, and the module inlinable into a shipped file."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from lcgen.metrics import _needed
from lcgen.validators.metrics import _qa_f1 as qa
from lcgen.validators.metrics._qa_f1 import EN_BLACKLIST, ZH_BLACKLIST, exact_match, f1, gated_f1, score_qa, tokens


def lv_eval(reply: str, answers: list[str], keywords: str | None, lang: str) -> float:
    """LV-Eval's AK metric as its code computes it (fact sheet, "Scoring"), on lcgen's tokens and blacklists, so the
    two differ only in the formula: answers[0] only; the gate's numerator without blacklisted words but its
    denominator with them; a Chinese sample without keywords gated on the whole answer; F1 with the blacklist kept."""
    gold = answers[0]
    if lang == "zh" and not keywords:
        keywords = gold
    predicted, wanted = tokens(reply, lang), tokens(gold, lang)
    if keywords:
        keys = tokens(keywords, lang)
        blacklist = EN_BLACKLIST if lang == "en" else ZH_BLACKLIST
        hits = sum((Counter(t for t in predicted if t not in blacklist) & Counter(keys)).values())
        if hits / len(keys) < {"en": 0.2, "zh": 0.4}[lang]:
            return 0.0
    common = sum((Counter(predicted) & Counter(wanted)).values())
    return 2 * common / (len(predicted) + len(wanted)) if common else 0.0


def test_worked_example_of_the_docstring():
    reply = "Sir Harold was knighted for services to British music."
    answers = ["For his services to music.", "services to British music"]
    keywords = "services to music"
    assert tokens(reply, "en", drop_blacklist=True) == ["sir", "harold", "knighted", "services", "british", "music"]
    assert tokens(keywords, "en", drop_blacklist=True) == ["services", "music"]  # both in the reply: recall 1.0
    assert [gated_f1(reply, a, keywords, "en") for a in answers] == pytest.approx([0.5, 2 / 3])
    assert [f1(reply, a, "en") for a in answers] == pytest.approx([4 / 7, 8 / 13])
    assert score_qa(reply, answers, "en", keywords) == pytest.approx({"strict": 0.0, "partial": 2 / 3, "f1": 8 / 13})
    assert lv_eval(reply, answers, keywords, "en") == pytest.approx(4 / 7)
    for figure in ("0.6667", "0.6154", "0.5714", "recall 2/2 = 1.0"):
        assert figure in qa.__doc__


def test_bug1_blacklist_removed_before_f1_too():
    """LV-Eval's repro: "services to music" vs "For his services to music." scores 0.75; as documented, 1."""
    reply, answers, keywords = "services to music", ["For his services to music."], "services to music"
    assert lv_eval(reply, answers, keywords, "en") == pytest.approx(0.75)
    assert score_qa(reply, answers, "en", keywords) == pytest.approx({"strict": 0.0, "partial": 1.0, "f1": 0.75})


def test_bug2_symmetric_gate_keywords_of_function_words():
    """Keywords made only of blacklisted words: LV-Eval's numerator is 0, so no reply passes, not even the answer;
    lcgen's keywords normalize to nothing and fall back to the answer's own tokens."""
    answers, keywords = ["services to music"], "for his"
    assert lv_eval("services to music", answers, keywords, "en") == 0.0
    assert score_qa("services to music", answers, "en", keywords)["partial"] == 1.0
    assert gated_f1("music", answers[0], keywords, "en") == pytest.approx(2 / 3)  # recall 1/2, F1 2/3
    assert gated_f1("music", answers[0], "...", "en") == pytest.approx(2 / 3)  # punctuation only: same fallback


def test_bug3_every_gold_answer_counts():
    answers = ["Ludwig Beethoven", "Beethoven"]
    assert lv_eval("Beethoven", answers, None, "en") == pytest.approx(2 / 3)  # answers[0] only
    expected = {"strict": 1.0, "partial": 1.0, "f1": 1.0}
    assert score_qa("Beethoven", answers, "en") == expected
    assert score_qa("Beethoven", answers[::-1], "en") == expected
    assert score_qa("Ludwig van Beethoven", answers, "en") == pytest.approx({"strict": 0.0, "partial": 0.8, "f1": 0.8})


def test_bug4_cmrc_full_answer_gate_is_symmetric():
    """Chinese without keywords: LV-Eval gates on the whole answer with its blacklisted characters in the
    denominator only, so even the gold answer itself can fail; lcgen gates on the answer's informative tokens."""
    assert lv_eval("是他的书", ["是他的书"], None, "zh") == 0.0  # 1 of 4 counted: 0.25 < 0.4
    assert score_qa("是他的书", ["是他的书"], "zh") == {"strict": 1.0, "partial": 1.0, "f1": 1.0}
    assert lv_eval("书", ["他的书"], None, "zh") == 0.0  # the fact sheet's "1-token correct fragment scores 0"
    assert score_qa("书", ["他的书"], "zh") == pytest.approx({"strict": 0.0, "partial": 1.0, "f1": 0.5})
    # An answer of function words only is compared with nothing removed.
    assert lv_eval("他和她", ["他和她"], None, "zh") == 0.0
    assert score_qa("她和他", ["他和她"], "zh") == {"strict": 0.0, "partial": 1.0, "f1": 1.0}
    # The gate still does its job: a short fragment of a long answer fails it.
    assert score_qa("中国", ["中华人民共和国"], "zh")["partial"] == 0.0  # recall 2/6 < 0.4


def test_bug5_verbose_answers_right_and_wrong():
    """factrecall is scored by plain F1 in LV-Eval. Here function words do not dilute a verbose right answer's
    precision, and the keyword gate zeroes a fluent wrong answer that echoes the question."""
    verbose = "The founder of modern physics mentioned in the article is Ludwig Beethoven."
    assert lv_eval(verbose, ["Ludwig Beethoven"], None, "en") == pytest.approx(1 / 3)  # 2 of 10 tokens
    assert score_qa(verbose, ["Ludwig Beethoven"], "en") == pytest.approx(
        {"strict": 0.0, "partial": 4 / 9, "f1": 1 / 3})  # 2 of 7 once of, in, is go
    gold, keywords = "He was awarded the OBE in 1998 for services to music", "OBE 1998"
    wrong = "He was awarded the MBE in 2001 for services to music."
    assert score_qa(wrong, [gold], "en", keywords) == pytest.approx({"strict": 0.0, "partial": 0.0, "f1": 0.8})
    assert score_qa("He got the OBE in 1998.", [gold], "en", keywords)["partial"] == pytest.approx(0.5)


def test_gate_threshold_is_inclusive():
    five, six = "alpha beta gamma delta epsilon", "alpha beta gamma delta epsilon zeta"
    assert gated_f1("alpha", five, None, "en") == pytest.approx(1 / 3)  # recall exactly 1/5 passes
    assert gated_f1("alpha", six, None, "en") == 0.0  # 1/6 does not
    assert f1("alpha", six, "en") == pytest.approx(2 / 7)  # though plain F1 gives it credit
    assert gated_f1("甲乙", "甲乙丙丁戊", None, "zh") == pytest.approx(4 / 7)  # exactly 2/5
    assert gated_f1("甲", "甲乙丙丁戊", None, "zh") == 0.0
    assert gated_f1("alpha", six, "alpha beta gamma delta epsilon", "en") == pytest.approx(2 / 7)  # keywords gate


def test_exact_match_beats_any_keywords():
    """Keywords that the gold answer does not even contain cannot fail the gold answer: strict <= partial."""
    assert score_qa("Paris", ["Paris"], "en", "London") == {"strict": 1.0, "partial": 1.0, "f1": 1.0}
    assert score_qa("The Paris.", ["paris"], "en", ["London", "Rome"])["strict"] == 1.0


def test_english_normalization():
    assert tokens("The U.S. don’t—won't: ＰＡＲＩＳ, Café, e\u2011mail, Par\u200bis", "en") == [
        "us", "dont", "wont", "paris", "café", "email", "paris"]
    assert tokens("Cafe\u0301 «STRASSE» straße", "en") == ["café", "strasse", "strasse"]
    assert tokens("1990–1995", "en") == ["1990", "1995"]  # a dash between words separates them
    assert exact_match("“Don't Stop!”", "don’t stop", "en") == 1.0
    assert exact_match("an apple", "apple", "en") == 1.0
    assert exact_match("apples", "apple", "en") == 0.0


def test_chinese_per_character():
    assert tokens("北京大学的iPhone、iPad，3.5％", "zh") == ["北", "京", "大", "学", "的", "iphone", "ipad", "35"]
    assert tokens("他的父亲因为工作", "zh", drop_blacklist=True) == ["父", "亲", "工", "作"]
    assert tokens("因为下雨", "zh", drop_blacklist=True) == ["下", "雨"]  # 因为 as a word, not 为 as a character
    assert tokens("２０２０年３月", "zh", drop_blacklist=True) == ["2020", "年", "3", "月"]  # dates are answers
    assert exact_match("北京。", "北京", "zh") == 1.0
    # Character F1 gives a near miss credit (the documented cost of having no segmenter).
    assert score_qa("南京", ["北京"], "zh") == pytest.approx({"strict": 0.0, "partial": 0.5, "f1": 0.5})
    assert score_qa("贝多芬", ["路德维希·贝多芬"], "zh")["partial"] == pytest.approx(0.6)  # recall 3/7 passes 0.4
    # Several keyword strings pool their tokens, and an iterator of them serves every gold answer.
    assert score_qa("法", iter(["伦敦", "巴黎法国"]), "zh", iter(["法"]))["partial"] == pytest.approx(0.4)
    assert score_qa("法", ["巴黎法国"], "zh")["partial"] == 0.0  # without the keyword: recall 1/4 < 0.4


def test_blacklists():
    assert len(EN_BLACKLIST) == 38 and len(ZH_BLACKLIST) == 85
    assert not {"not", "no", "never", "a", "the"} & EN_BLACKLIST
    assert not {"不", "没", "年", "月", "日", "元", "一", "上", "中"} & ZH_BLACKLIST
    assert all(w == w.lower() and w.isalpha() for w in EN_BLACKLIST)


@pytest.mark.parametrize("gold", ["?", "—", "The"])
def test_gold_without_tokens_is_compared_by_its_text(gold):
    assert score_qa(f"  {gold} ", [gold], "en") == {"strict": 1.0, "partial": 1.0, "f1": 1.0}
    assert score_qa("!", [gold], "en") == {"strict": 0.0, "partial": 0.0, "f1": 0.0}


@pytest.mark.parametrize("reply", ["", "   ", "...", "the", None, 42])
def test_empty_reply_scores_zero(reply):
    for answers in (["Paris"], ["?"], [""], []):
        assert score_qa(reply, answers, "en") == {"strict": 0.0, "partial": 0.0, "f1": 0.0}


WEIRD = ["\ud800 lone surrogate", "\x00\x07\u202e\u200f", "🎉👍🏽", "a\u0301\u0301\u0301", "\uffff\U0010ffff",
         "Ｐａｒｉｓ" * 3, "ﬁ ½ ℃ ㈱", "中" * 3000 + " Paris", ("Paris, " * 30000)]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_any_text_is_safe_and_in_range(lang):
    golds = ["Paris", "巴黎", "?", "For his services to music."]
    for reply in WEIRD + golds:
        for keywords in (None, "", "Paris", "the", ["巴黎", 7]):
            got = score_qa(reply, golds, lang, keywords)
            assert set(got) == {"strict", "partial", "f1"}
            assert all(0.0 <= v <= 1.0 for v in got.values()), (reply[:20], got)
            assert got["strict"] <= got["partial"]
    huge = score_qa("Paris " * 100000, ["Paris"], lang)
    assert 0.0 < huge["partial"] < 1e-4 and huge["strict"] == 0.0


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="lang must be one of en, zh"):
        score_qa("Paris", ["Paris"], "fr")


def test_inlines_into_a_shipped_file(tmp_path):
    """lcgen/metrics.py inlines a helper's definitions: it must import only the standard library, absolutely, and
    the inlined code must score the same with no site-packages at all."""
    source = Path(qa.__file__).read_text()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            assert not node.level and node.module.split(".")[0] in sys.stdlib_module_names
        elif isinstance(node, ast.Import):
            assert all(a.name.split(".")[0] in sys.stdlib_module_names for a in node.names)
    imports, definitions = _needed(qa.__name__, ("score_qa",))
    (tmp_path / "inlined.py").write_text("\n".join(["from __future__ import annotations", *imports, *definitions]))
    probe = ("import json, sys; sys.path.insert(0, '.'); import inlined as m; "
             "print(json.dumps([m.score_qa('Sir Harold was knighted for services to British music.', "
             "['For his services to music.', 'services to British music'], 'en', 'services to music'), "
             "m.score_qa('书', ['他的书'], 'zh')]))")
    res = subprocess.run([sys.executable, "-I", "-S", "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    expected = [score_qa("Sir Harold was knighted for services to British music.",
                         ["For his services to music.", "services to British music"], "en", "services to music"),
                score_qa("书", ["他的书"], "zh")]
    assert json.loads(res.stdout) == expected
