"""Scoring a short free-text answer: exact match, token F1 and LV-Eval's keyword-recall-gated F1, each scored
against every gold answer and maxed (standard library only; inlined into a family's shipped ``lcgen_metrics.py``).

How it differs from LV-Eval's ``metrics.py`` (arXiv 2402.05136), deliberately:

- The stop-word blacklist is applied as LV-Eval's README says, not as its code does: blacklisted words are removed
  from the prediction, the gold answer and the keywords before the gate AND before F1, so they count on neither side
  of either ratio. (Their code drops them from the gate's numerator only: a keyword made of them can never pass, and
  "services to music" against "For his services to music." scores 0.75 instead of 1.)
- Every gold answer is scored and the best one counts; LV-Eval uses only ``answers[0]``.
- Without keywords the gold answer's own informative tokens are the keywords, in both languages, under the same
  symmetric rule (LV-Eval skips the gate in English and gates Chinese on the whole answer, blacklisted words in the
  denominator only, so even a reply identical to the gold can fail it).
- The blacklists are lcgen's own (:data:`EN_BLACKLIST`, 38 words; :data:`ZH_BLACKLIST`, 85 entries), written in
  LV-Eval's spirit (auxiliaries, pronouns, prepositions, conjunctions, particles; English articles already go in
  normalization), not a copy of theirs.
  Unlike theirs they hold no dates, units or numbers (no 年/月/日/元), which are answers, not noise.
- Normalization is Unicode-aware: NFKC (full-width letters and digits become ASCII), case-folded; ASCII punctuation
  and apostrophes or hyphens inside words are deleted (SQuAD's rule: "U.S." = "us", "don't" = "don’t" = "dont");
  any other punctuation or symbol (，。、—「」…) separates words; zero-width and control characters are ignored.
- Chinese is tokenized per character, not with jieba (which is not in the standard library): every CJK character is
  one token, runs of Latin letters or digits are one word each, punctuation is dropped. Character F1 is the usual
  dependency-free substitute. What it changes against LV-Eval's jieba figures: tokens are finer, so a near miss
  sharing characters earns credit (北京 vs 南京 share 京), and the 0.4 gate counts characters, so it is easier to
  pass than over words; partial scores run higher and are not comparable with LV-Eval's published Chinese numbers.
  Exact match does not depend on the segmentation. Multi-character blacklist entries (可以, 因为) are removed by
  longest match inside each run of Chinese characters; a single-character entry (的, 是) is removed wherever it
  occurs, on both sides alike. The results never depend on a segmenter's dictionary or version.

Edge cases: recall exactly at the gate (1 in 5 English keyword tokens, 2 in 5 Chinese) passes; keywords that
normalize to nothing once blacklisted fall back to the gold answer's tokens; a gold answer made only of blacklisted
words (他, "it is his") is compared with nothing removed, its own tokens the keywords; a reply identical to a gold
answer after normalization scores 1 whatever the keywords; an empty reply scores 0; a gold answer with no token at
all ("?", or "A" once the article goes) is matched by its exact, case-folded text only. Any text is safe: time and
memory are linear in its length.

Worked example (English; asserted in tests/generators/test_qa_f1.py)::

    reply     "Sir Harold was knighted for services to British music."
    answers   ["For his services to music.", "services to British music"]   keywords "services to music"

    tokens    reply   sir harold was knighted for services to british music      (9)
              minus the blacklist (was, for, to): sir harold knighted services british music      (6)
    gate      keywords services music (to is blacklisted): both in the reply, recall 2/2 = 1.0 >= 0.2, passes
    gold 1    services music               overlap 2, P 2/6, R 2/2, gated F1 0.5
    gold 2    services british music       overlap 3, P 3/6, R 3/3, gated F1 2/3 = 0.6667
    plain F1  gold 1: 4/7 = 0.5714 (for services to music of 9 and 5 tokens); gold 2: 8/13 = 0.6154

    score_qa  {"strict": 0.0, "partial": 0.6667 (gold 2), "f1": 0.6154 (gold 2)}
    LV-Eval   0.5714: answers[0] only, gate passed at 2/3, plain F1 with the blacklist kept
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable

LANGS = ("en", "zh")
# Keyword-recall gate per language, as an exact fraction (numerator, denominator): recall >= 1/5 en, 2/5 zh.
GATES = {"en": (1, 5), "zh": (2, 5)}
# Dropped by English normalization itself, as in SQuAD and LV-Eval.
EN_ARTICLES = frozenset({"a", "an", "the"})
# lcgen's English blacklist (38 words, LV-Eval's size): auxiliaries, pronouns, prepositions, conjunctions and
# wh-words that carry no answer. Negations (not, no, never) and numbers stay: they change an answer.
EN_BLACKLIST = frozenset(
    "and or but of to in on at by for from with as about is are was were be been being has have had does did "
    "it its he she they his her their this that which who".split()
)
# lcgen's Chinese blacklist (85 entries): particles, copulas, prepositions, conjunctions, pronouns and filler
# words. No negation (不, 没), numeral, date or unit; no character common inside content words (上, 中, 地, 有).
ZH_BLACKLIST = frozenset(
    "的 了 着 过 和 与 及 或 是 在 为 被 把 对 于 从 向 也 都 就 又 而 并 之 其 此 这 那 他 她 它 们 我 你 "
    "吗 呢 吧 等 该 即 "
    "可以 进行 以及 通过 因为 所以 但是 而且 或者 如果 虽然 然后 首先 其次 主要 包括 关于 根据 由于 作为 已经 "
    "还是 就是 这个 那个 一些 一种 一个 之一 其他 什么 怎么 如何 哪些 自己 方面 具有 成为 属于 能够 应该 位于 "
    "用于 例如 比如".split()
)
# Longest entry first, so 因为 goes as a word before 为 goes as a character (sorted: set order is per process).
_ZH_BLACKLISTED = re.compile("|".join(sorted(ZH_BLACKLIST, key=lambda w: (-len(w), w))))
# Deleted rather than turned into a space: they join the pieces of one word (don’t, e‑mail) like ASCII ' and -.
_JOINERS = frozenset("\u2018\u2019\u201b\u02bc\u2032\u2010\u2011\u00b7")
# One token per character: CJK ideographs (and 〇 々), kana. Everything else is split on white space.
_CJK_CHAR = "\u3005-\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_TOKEN = re.compile(f"[{_CJK_CHAR}]+|[^\\s{_CJK_CHAR}]+")
_CJK_RUN = re.compile(f"[{_CJK_CHAR}]+")


class _PunctuationTable(dict):
    """``str.translate`` table built on demand: ASCII punctuation and word joiners deleted, any other punctuation,
    symbol or control character a space, format characters (zero-width, direction marks) deleted."""

    def __missing__(self, code: int) -> int | str | None:
        char = chr(code)
        kind = unicodedata.category(char)
        if kind[0] in "PS":
            value: int | str | None = None if char in string.punctuation or char in _JOINERS else " "
        elif kind == "Cc":
            value = " "
        elif kind == "Cf":
            value = None
        else:
            value = code
        self[code] = value
        return value


_PUNCTUATION = _PunctuationTable()


def _check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    return lang


def _clean(text: str) -> str:
    """Punctuation out, NFKC, case-folded (punctuation removed again in case NFKC made some: ½ -> 1⁄2)."""
    text = unicodedata.normalize("NFKC", text.translate(_PUNCTUATION)).casefold()
    return text.translate(_PUNCTUATION)


def _tokenize(text: str, lang: str) -> tuple[list[str], list[str]]:
    """The normalized tokens of ``text``, all of them and those left without the blacklist, in one pass."""
    everything: list[str] = []
    informative: list[str] = []
    for piece in _TOKEN.findall(_clean(text)):
        if _CJK_RUN.fullmatch(piece):
            everything.extend(piece)
            informative.extend(_ZH_BLACKLISTED.sub("", piece) if lang == "zh" else piece)
        elif lang == "en" and piece in EN_ARTICLES:
            continue
        else:
            everything.append(piece)
            if not (lang == "en" and piece in EN_BLACKLIST):
                informative.append(piece)
    return everything, informative


def tokens(text: str, lang: str, drop_blacklist: bool = False) -> list[str]:
    """The normalized tokens of ``text``: English words without articles; each CJK character a token (both
    languages); with ``drop_blacklist``, without the language's non-informative words."""
    return _tokenize(text, _check_lang(lang))[1 if drop_blacklist else 0]


def _bare_text(text: str) -> str:
    """For a gold answer with no token: the text itself, NFKC, case-folded, white space collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _no_token_match(prediction: str, gold: str) -> float:
    """A gold answer with no token ("?", "—") is matched by its bare text only; an empty one by nothing."""
    return float(bool(_bare_text(gold)) and _bare_text(prediction) == _bare_text(gold))


def _overlap(predicted: Counter[str], wanted: Counter[str]) -> int:
    """Multiset overlap, walking the (short) gold side."""
    return sum(min(n, predicted[t]) for t, n in wanted.items())


def _token_f1(predicted: Counter[str], gold: Counter[str]) -> float:
    hits = _overlap(predicted, gold)
    if not hits:
        return 0.0
    precision, recall = hits / predicted.total(), hits / gold.total()
    return 2 * precision * recall / (precision + recall)


def _keyword_text(keywords: str | Iterable[str] | None) -> str:
    if keywords is None:
        return ""
    if isinstance(keywords, str):
        return keywords
    return " ".join(k for k in keywords if isinstance(k, str))


# The scorers below take (text, all tokens, all as counts, informative tokens as counts) of the reply and of the
# gold answer, so that score_qa reads a reply once however many gold answers it is scored against.
_Read = tuple[str, list[str], Counter[str], Counter[str]]


def _exact(reply: _Read, gold: _Read) -> float:
    return float(reply[1] == gold[1]) if gold[1] else _no_token_match(reply[0], gold[0])


def _plain(reply: _Read, gold: _Read) -> float:
    return _token_f1(reply[2], gold[2]) if gold[1] else _no_token_match(reply[0], gold[0])


def _gated(reply: _Read, gold: _Read, keys: Counter[str], lang: str) -> float:
    if not gold[1]:
        return _no_token_match(reply[0], gold[0])
    if not reply[1]:
        return 0.0
    if reply[1] == gold[1]:
        return 1.0
    predicted, answer = reply[3], gold[3]
    if not answer:  # the answer is all function words ("it is his", 他): nothing to remove it down to
        predicted, answer, keys = reply[2], gold[2], gold[2]
    keys = keys or answer
    if not predicted:
        return 0.0
    numerator, denominator = GATES[lang]
    if _overlap(predicted, keys) * denominator < numerator * keys.total():  # exact: recall at the gate passes
        return 0.0
    return _token_f1(predicted, answer)


def _read(text: str, lang: str) -> _Read:
    everything, informative = _tokenize(text, lang)
    return text, everything, Counter(everything), Counter(informative)


def exact_match(prediction: str, gold: str, lang: str) -> float:
    """1.0 if the prediction's normalized tokens equal the gold answer's, else 0.0."""
    lang = _check_lang(lang)
    return _exact(_read(prediction, lang), _read(gold, lang))


def f1(prediction: str, gold: str, lang: str) -> float:
    """Plain token F1 over normalized tokens, the blacklist kept (LV-Eval's and SQuAD's F1; per character in zh)."""
    lang = _check_lang(lang)
    return _plain(_read(prediction, lang), _read(gold, lang))


def gated_f1(prediction: str, gold: str, keywords: str | Iterable[str] | None, lang: str) -> float:
    """LV-Eval's answer-keyword metric, as documented: 0 unless the prediction recalls at least 1/5 (en) or 2/5
    (zh) of the keyword tokens, else token F1 against the gold answer; blacklisted words removed everywhere first.

    ``keywords`` is one string or several (their tokens pooled); none, or none left after the blacklist, means the
    gold answer's own tokens. A reply identical to the gold answer after normalization scores 1 whatever the
    keywords, so exact match never exceeds this score."""
    lang = _check_lang(lang)
    keys = Counter(_tokenize(_keyword_text(keywords), lang)[1])
    return _gated(_read(prediction, lang), _read(gold, lang), keys, lang)


def score_qa(reply: str, answers: Iterable[str], lang: str,
             keywords: str | Iterable[str] | None = None) -> dict[str, float]:
    """Strict: exact match; partial: keyword-gated F1 (:func:`gated_f1`); f1: plain token F1. Each is the best
    over every gold answer in ``answers`` (LV-Eval scores only the first), all in [0, 1], strict <= partial.

    Any reply is safe (not text scores as empty). ``keywords`` apply to every gold answer; when the answers are
    aliases, give keywords every alias contains, or none (each alias then gates on its own tokens)."""
    lang = _check_lang(lang)
    read = _read(reply if isinstance(reply, str) else "", lang)
    keys = Counter(_tokenize(_keyword_text(keywords), lang)[1])
    golds = [answers] if isinstance(answers, str) else [a for a in answers if isinstance(a, str)]
    best = {"strict": 0.0, "partial": 0.0, "f1": 0.0}
    for gold in map(lambda g: _read(g, lang), golds):
        best["strict"] = max(best["strict"], _exact(read, gold))
        best["partial"] = max(best["partial"], _gated(read, gold, keys, lang))
        best["f1"] = max(best["f1"], _plain(read, gold))
    return best
