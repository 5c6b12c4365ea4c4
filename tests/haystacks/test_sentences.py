"""Tests for the lossless sentence splitter used to cut natural-text haystacks."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lcgen.haystacks.sentences import split_sentences

CASES = {
    # basics
    "empty": ("", []),
    "single": ("Hello there.", ["Hello there."]),
    "two": ("Hello there. How are you?", ["Hello there.", " How are you?"]),
    "no final terminator": ("One. Two without end", ["One.", " Two without end"]),
    "only text": ("no terminator at all", ["no terminator at all"]),
    "whitespace only": ("   \n ", ["   \n "]),
    "leading ws stays first": ("  Hi. Yo.", ["  Hi.", " Yo."]),
    "trailing ws stays last": ("Hi. Yo.  \n", ["Hi.", " Yo.  \n"]),
    "multiple spaces": ("Hi.   Yo.", ["Hi.", "   Yo."]),
    "newline separator": ("Hi.\nYo.", ["Hi.", "\nYo."]),
    "lowercase next": ("Hi. and more.", ["Hi. and more."]),
    "no space after dot": ("Hi.There", ["Hi.There"]),
    "digit starts": ("He scored 10. 5 people saw it.", ["He scored 10.", " 5 people saw it."]),
    "opening quote starts": ('Stop. "Go," he said.', ["Stop.", ' "Go," he said.']),
    "opening bracket starts": ("Stop. (Really.) Go.", ["Stop.", " (Really.)", " Go."]),
    # terminator runs
    "question exclaim": ("Really?! Yes!! Fine? Ok!", ["Really?!", " Yes!!", " Fine?", " Ok!"]),
    "ellipsis dots upper": ("Wait... What now?", ["Wait...", " What now?"]),
    "ellipsis dots lower": ("Wait... and see.", ["Wait... and see."]),
    "ellipsis char": ("Hmm… Maybe.", ["Hmm…", " Maybe."]),
    "ellipsis char lower": ("Hmm… maybe.", ["Hmm… maybe."]),
    "ellipsis inside word": ("So...Then stop.", ["So...Then stop."]),
    # closing quotes and brackets
    "closing double quote": ('He said "Stop." Then he left.', ['He said "Stop."', " Then he left."]),
    "closing curly quote": ("He said “Stop.” Then he left.", ["He said “Stop.”", " Then he left."]),
    "closing single quote": ("She said 'No!' Then left.", ["She said 'No!'", " Then left."]),
    "closing paren": ("(See above.) Then go.", ["(See above.)", " Then go."]),
    "closing quote and paren": ('(He said "Hi.") Next.', ['(He said "Hi.")', " Next."]),
    # abbreviations
    "mr": ("Mr. Smith left. He ran.", ["Mr. Smith left.", " He ran."]),
    "mrs dr prof": (
        "Mrs. Lee met Dr. Who and Prof. Xu. They sat.",
        ["Mrs. Lee met Dr. Who and Prof. Xu.", " They sat."],
    ),
    "st jr sr": ("St. Louis. Sam Jr. Met Sam Sr. Today.", ["St. Louis.", " Sam Jr. Met Sam Sr. Today."]),
    "eg ie": ("Fruit, e.g. Apples, or i.e. Pears. Ok.", ["Fruit, e.g. Apples, or i.e. Pears.", " Ok."]),
    "etc": ("Apples, pears, etc. Are fruit.", ["Apples, pears, etc. Are fruit."]),
    "vs": ("Cats vs. Dogs is old. Yes.", ["Cats vs. Dogs is old.", " Yes."]),
    "no before number": ("See No. 5 now. Ok.", ["See No. 5 now.", " Ok."]),
    "no as answer": ("I said no. Then left.", ["I said no.", " Then left."]),
    "fig": ("See Fig. 3 above. Ok.", ["See Fig. 3 above.", " Ok."]),
    "us": ("He moved to the U.S. In May. Ok.", ["He moved to the U.S. In May.", " Ok."]),
    "am pm": ("At 9 a.m. Bob came. At 5 p.m. He left. Bye.", ["At 9 a.m. Bob came.", " At 5 p.m. He left.", " Bye."]),
    "inc ltd co": (
        "Acme Inc. And Foo Ltd. And Bar Co. Merged. Wow.",
        ["Acme Inc. And Foo Ltd. And Bar Co. Merged.", " Wow."],
    ),
    "months": (
        "On Jan. 5 and Feb. 6 and Sept. 7 it rained. Ok.",
        ["On Jan. 5 and Feb. 6 and Sept. 7 it rained.", " Ok."],
    ),
    "abbreviation in parens": ("Tea (Mr. Grey) is hot. Yes.", ["Tea (Mr. Grey) is hot.", " Yes."]),
    "initials": ("J. R. R. Tolkien wrote it. I read it.", ["J. R. R. Tolkien wrote it.", " I read it."]),
    "pronoun I ends": ("So did I. Then we left.", ["So did I.", " Then we left."]),
    # numbers and lists
    "decimal": ("Pi is 3.14 roughly. Yes.", ["Pi is 3.14 roughly.", " Yes."]),
    "decimal at end": ("Pi is 3.14. Yes.", ["Pi is 3.14.", " Yes."]),
    "version": ("Use v2.0.1 now. Or v2.0.1. Ok.", ["Use v2.0.1 now.", " Or v2.0.1.", " Ok."]),
    "list lines": ("Steps:\n1. Mix it.\n2. Bake it.", ["Steps:\n1. Mix it.", "\n2. Bake it."]),
    "list inline": ("1. Intro. 2. Body.", ["1. Intro.", " 2. Body."]),
    "list after colon": ("Do this: 1. Mix. 2. Bake.", ["Do this: 1. Mix.", " 2. Bake."]),
    # URLs and e-mails
    "url": ("Visit www.example.com for more. Ok.", ["Visit www.example.com for more.", " Ok."]),
    "url at end": ("See https://x.org/index.html. Then go.", ["See https://x.org/index.html.", " Then go."]),
    "email": ("Mail john.doe@example.com today. Ok.", ["Mail john.doe@example.com today.", " Ok."]),
    "email at end": ("Mail john.doe@example.com. Ok.", ["Mail john.doe@example.com.", " Ok."]),
    # paragraphs
    "blank line": ("Title\n\nBody text here.", ["Title", "\n\nBody text here."]),
    "blank line lower": ("first para\n\nsecond para", ["first para", "\n\nsecond para"]),
    "blank line with spaces": ("a b \n  \n c d", ["a b", " \n  \n c d"]),
    "crlf blank line": ("one\r\n\r\ntwo", ["one", "\r\n\r\ntwo"]),
    "single newline": ("a line\nnext line", ["a line\nnext line"]),
    "trailing blank lines": ("Para one.\n\n\n", ["Para one.\n\n\n"]),
    "leading blank lines": ("\n\nPara one.", ["\n\nPara one."]),
    # CJK
    "cjk full stop": ("你好。我很好。", ["你好。", "我很好。"]),
    "cjk exclaim question": ("真的吗？是的！好。", ["真的吗？", "是的！", "好。"]),
    "cjk semicolon": ("他来了；她走了。", ["他来了；她走了。"]),
    "cjk closing quote": ("他说：“好。”然后走了。", ["他说：“好。”", "然后走了。"]),
    "cjk corner brackets": (
        "「行こう。」『はい！』（了解？）次。",
        ["「行こう。」", "『はい！』", "（了解？）", "次。"],
    ),
    "cjk with space": ("你好。 再见。", ["你好。", " 再见。"]),
    "cjk combined": ("什么？！不。", ["什么？！", "不。"]),
    "cjk trailing space": ("你好。  ", ["你好。  "]),
    "western then cjk": ("It ends. 然后开始。", ["It ends.", " 然后开始。"]),
    "japanese": ("今日は晴れです。明日は雨です。", ["今日は晴れです。", "明日は雨です。"]),
}


@pytest.mark.parametrize(("text", "expected"), list(CASES.values()), ids=list(CASES))
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


@given(st.text())
def test_lossless_and_nonempty_for_any_text(text: str) -> None:
    sentences = split_sentences(text)
    assert "".join(sentences) == text
    assert all(sentences)


_ALPHABET = st.sampled_from(list("aZ .!?…\"'”」)(\n\t1。！？；你Mr.e.g.U.S.No"))


@given(st.text(alphabet=_ALPHABET, max_size=80))
def test_lossless_and_nonempty_for_punctuation_heavy_text(text: str) -> None:
    sentences = split_sentences(text)
    assert "".join(sentences) == text
    assert all(sentences)
    assert all(not s.isspace() for s in sentences[1:])


@pytest.mark.parametrize("text", list(CASES), ids=list(CASES))
def test_no_empty_sentences(text: str) -> None:
    assert all(split_sentences(CASES[text][0]))


def test_deterministic() -> None:
    text = "Mr. Smith went to the U.S. on Jan. 5. He said “Hi.” 你好。再见！\n\nNext."
    assert split_sentences(text) == split_sentences(text)


@pytest.mark.parametrize(
    "text",
    ["." * 200_000, "." * 200_000 + " A", "." + '"' * 200_000 + "x", "a." + " " * 200_000, "Hi. " * 50_000],
    ids=["dots", "dots-then-text", "quotes", "trailing-ws", "many-sentences"],
)
def test_linear_time_on_long_runs(text: str) -> None:
    start = time.perf_counter()
    assert "".join(split_sentences(text)) == text
    assert time.perf_counter() - start < 2.0
