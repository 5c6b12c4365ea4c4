"""Near-duplicate questions: Jaccard similarity of normalized word 3-grams, with an inverted index so a dataset of
many questions is checked in one pass.

Normalized: Unicode NFKC, lower case, every run of characters that is not a letter or digit is one space, and thousands
separators are dropped ("1,200" and "1200" are the same word). Two questions are near-duplicates when the Jaccard
similarity of their sets of word 3-grams is at least :data:`THRESHOLD` (a question of fewer than three words is one
gram, itself). At 0.8 a copy that differs in case, punctuation, number grouping or one word of a question of twenty
words or more is caught; the same question about another entity ("... the founder of Harlow Works ..." against "...
the founder of Kestrel Mills ...", 0.5) and a real rewording are not duplicates.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict

THRESHOLD = 0.8
N = 3
_SPLIT = re.compile(r"[^\w]+|_")


def words(text: str) -> list[str]:
    """The normalized words of a text."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    return [w for w in _SPLIT.split(text) if w]


def grams(text: str, n: int = N) -> frozenset[tuple[str, ...]]:
    """The set of word n-grams (the whole text as one gram when it is shorter)."""
    w = words(text)
    if len(w) < n:
        return frozenset([tuple(w)])
    return frozenset(tuple(w[i:i + n]) for i in range(len(w) - n + 1))


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the two texts' word 3-grams, in [0, 1]."""
    ga, gb = grams(a), grams(b)
    return len(ga & gb) / len(ga | gb) if ga or gb else 1.0


class NearDuplicates:
    """Texts seen so far; :meth:`find` names the first earlier one a new text nearly repeats."""

    def __init__(self, threshold: float = THRESHOLD):
        self.threshold = threshold
        self._grams: list[frozenset[tuple[str, ...]]] = []
        self._keys: list[str] = []
        self._index: dict[tuple[str, ...], list[int]] = defaultdict(list)

    def find(self, text: str) -> tuple[str, float] | None:
        """(key, similarity) of the most similar earlier text at or above the threshold (the first on a tie)."""
        g = grams(text)
        shared: dict[int, int] = defaultdict(int)
        for gram in g:
            for i in self._index.get(gram, ()):
                shared[i] += 1
        best: tuple[str, float] | None = None
        for i in sorted(shared):
            score = shared[i] / len(g | self._grams[i])
            if score >= self.threshold and (best is None or score > best[1]):
                best = (self._keys[i], score)
        return best

    def add(self, key: str, text: str) -> None:
        g = grams(text)
        for gram in g:
            self._index[gram].append(len(self._grams))
        self._grams.append(g)
        self._keys.append(key)
