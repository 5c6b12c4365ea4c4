"""Deterministic, lossless sentence splitter for natural-text haystacks.

Why: haystacks are cut, and needles inserted, only *between* sentences, so a needle never
splits a sentence and a trimmed haystack never ends mid-sentence. The splitter is lossless
(``"".join(split_sentences(t)) == t``), so cutting at its boundaries never changes the text,
and it uses only ``re``, so every machine gets the same sentences.

Rules:

* A boundary follows a run of terminators (``.``, ``!``, ``?``, ``…``, so ``?!``, ``!!`` and
  ``...`` stay whole) plus any closing quotes or brackets, when whitespace follows and then
  something that can start a sentence: an uppercase letter, a digit, an opening quote or
  bracket, or a CJK character.
* A lone ``.`` is not a boundary after an abbreviation (``Mr.``, ``etc.``, ``Jan.``), a dotted
  abbreviation (``e.g.``, ``U.S.``, ``a.m.``), a single capital initial (``J. R. R.``, but not
  ``I``), ``No.``/``Vol.``/``pp.`` before a number, or a list number (``1.``) that starts a
  line, the text, or follows another sentence or a colon.
* Dots inside a token (``3.14``, ``v2.0.1``, URLs, e-mail addresses) are never followed by
  whitespace, so they never split.
* CJK terminators ``。！？`` (plus closing ``”’」』）》】``) end a sentence whenever more text
  follows; no whitespace is needed. ``；`` is not a terminator.
* A blank line (a whitespace run holding two or more newlines) is always a boundary.
* Whitespace between sentences starts the next sentence; text after the last terminator is
  the last sentence; trailing whitespace stays on the last sentence. No sentence is empty.

When in doubt it does not split: a missed boundary only makes one sentence longer, while a
false one would let a needle land inside a sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["split_sentences"]

_TERMINATOR = re.compile(r"""(?<![.!?…])([.!?…]+)["'”’»)\]}」』）》】]*(?=\s)""")
_CJK_TERMINATOR = re.compile(r"[。！？]+[”’」』）》】)]*")
_WHITESPACE = re.compile(r"\s+")
_NEXT_CHAR = re.compile(r"\s*(\S)")
_TOKEN = re.compile(r"[\w.]*\Z")
_DOTTED = re.compile(r"(?:[A-Za-z]{1,2}\.)+[A-Za-z]{1,2}")
_LIST_CONTEXT = re.compile(r"(?:\A|[\n.:;!?])[^\S\n]*\Z")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
_OPENERS = "\"'“‘«([{¿¡「『（《【"
_WINDOW = 32

_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st jr sr vs etc fig figs inc ltd co corp mt gen col capt lt sgt rev hon"
    " al cf approx dept jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
_NUMBER_ABBREVIATIONS = frozenset({"no", "nos", "vol", "pp", "p"})


def _next_char(text: str, pos: int) -> str:
    """The first non-whitespace character at or after ``pos``, or ``""`` if there is none."""
    match = _NEXT_CHAR.match(text, pos)
    return match.group(1) if match else ""


def _can_start(char: str) -> bool:
    """True if ``char`` can begin a sentence."""
    return char.isupper() or char.isdigit() or char in _OPENERS or _CJK.match(char) is not None


def _is_list_number(text: str, token_start: int) -> bool:
    """True if the number starting at ``token_start`` is a list marker such as ``1.``."""
    return _LIST_CONTEXT.search(text, max(0, token_start - _WINDOW), token_start) is not None


def _is_abbreviation(text: str, dot: int, following: str) -> bool:
    """True if the lone ``.`` at ``dot`` ends an abbreviation, initial or list number."""
    low = max(0, dot - _WINDOW)
    match = _TOKEN.search(text, low, dot)
    token = match.group() if match else ""
    if not token or match.start() == low > 0:  # no token, or one too long to be an abbreviation
        return False
    word = token.lower()
    if word in _ABBREVIATIONS or _DOTTED.fullmatch(token):
        return True
    if len(token) == 1 and token.isupper() and token != "I":
        return True
    if word in _NUMBER_ABBREVIATIONS:
        return following.isdigit()
    return token.isdigit() and len(token) <= 3 and _is_list_number(text, match.start())


def _western_boundaries(text: str) -> Iterator[int]:
    """Cut points after ``.``, ``!``, ``?`` and ``…`` runs (and their closing quotes/brackets)."""
    for match in _TERMINATOR.finditer(text):
        following = _next_char(text, match.end())
        if not following or not _can_start(following):
            continue
        if match.group(1) == "." and _is_abbreviation(text, match.start(), following):
            continue
        yield match.end()


def _cjk_boundaries(text: str) -> Iterator[int]:
    """Cut points after ``。！？`` runs (and closing quotes/brackets) that more text follows."""
    for match in _CJK_TERMINATOR.finditer(text):
        if _next_char(text, match.end()):
            yield match.end()


def _paragraph_boundaries(text: str) -> Iterator[int]:
    """Cut points before whitespace runs that contain a blank line and precede more text."""
    for match in _WHITESPACE.finditer(text):
        if match.group().count("\n") >= 2 and match.end() < len(text):
            yield match.start()


def split_sentences(text: str) -> list[str]:
    """Split ``text`` into sentences whose concatenation is exactly ``text``.

    Whitespace between two sentences is the start of the second one; ``""`` gives ``[]``.
    """
    if not text:
        return []
    found = (*_western_boundaries(text), *_cjk_boundaries(text), *_paragraph_boundaries(text))
    cuts = sorted({cut for cut in found if 0 < cut < len(text)})
    bounds = [0, *cuts, len(text)]
    return [text[start:end] for start, end in zip(bounds, bounds[1:])]
