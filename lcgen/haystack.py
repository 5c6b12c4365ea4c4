"""Natural-text haystacks: one interface, chosen with ``--haystack``.

``procedural`` (default; prose lcgen writes itself), ``files:PATH`` (a UTF-8 text file or a folder of them) and
``hf:REPO[:CONFIG]:COLUMN[@REVISION]`` (a text column of a dataset, streamed). A source yields *documents* (lists of
sentences) in an order seeded by the sample's RNG; :class:`SentenceUnits` turns them into additive filler units for
the exact-length engine and drops every sentence that mentions a needle's names or answers (the leakage guard).
"""

from __future__ import annotations

import functools
import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterator
from typing import ClassVar

from .errors import HaystackError
from .registry import Registry

DEFAULT_HAYSTACK = "procedural"
LANGS = ("en", "zh")


class Haystack(ABC):
    """A source of natural text, resolved from a ``--haystack`` value."""

    scheme: ClassVar[str]
    description: str = ""  # for the card: where the text comes from
    license: str = ""

    def __init__(self, arg: str | None):
        self.arg = arg

    @abstractmethod
    def documents(self, rng: random.Random, lang: str, avoid: Collection[str] = ()) -> Iterator[list[str]]:
        """Documents as lists of stripped sentences, in a seeded order; endless, cycling a finite corpus."""


haystacks: Registry[type[Haystack]] = Registry("haystack scheme")


def register_haystack(cls: type[Haystack]) -> type[Haystack]:
    """Class decorator: make a source available under its ``scheme``."""
    haystacks.add(cls.scheme, cls)
    return cls


@functools.lru_cache(maxsize=8)
def get_haystack(spec: str) -> Haystack:
    """Resolve ``procedural``, ``files:PATH`` or ``hf:...`` into a source (checked now: a bad value fails early)."""
    scheme, _, arg = spec.partition(":")
    if scheme not in haystacks:
        known = ", ".join(f"{s}:..." if s != "procedural" else s for s in haystacks.names())
        raise HaystackError(f"--haystack: unknown source {spec!r}; use one of {known}")
    return haystacks.get(scheme)(arg or None)


def unit_text(sentence: str, lang: str) -> str:
    """One additive unit: English sentences carry their leading space, Chinese ones end their own line.

    A tiktoken-style pre-tokenizer starts a new piece at " Word" and after a newline, so these units tokenize the
    same alone as in a run; "。" would otherwise merge with the next character.
    """
    return sentence + "\n" if lang == "zh" else " " + sentence


class SentenceUnits:
    """Filler units from a haystack, skipping any sentence that contains an avoided string (case-insensitive)
    or that ``reject`` refuses (e.g. one that reads like a needle statement)."""

    def __init__(
        self,
        haystack: Haystack,
        rng: random.Random,
        lang: str,
        avoid: Collection[str] = (),
        reject: Callable[[str], bool] | None = None,
    ):
        self.lang = lang
        self._reject = reject
        self._avoid = sorted({a.lower() for a in avoid if a})
        self._docs = haystack.documents(rng, lang, frozenset(avoid))
        self._pending: list[str] = []  # units of the current document, already formatted
        self._next = 0
        self.dropped = 0

    def _clean(self, sentence: str) -> bool:
        low = sentence.lower()
        if any(a in low for a in self._avoid):
            return False
        return self._reject is None or not self._reject(sentence)

    def _refill(self) -> None:
        while self._next >= len(self._pending):
            doc = next(self._docs)
            # One check of the whole document first: nearly all documents are clean, and one search over the
            # joined text is far cheaper than one per sentence (no pattern spans a newline).
            if self._clean("\n".join(doc)):
                kept = [s for s in doc if s]
            else:
                kept = [s for s in doc if s and self._clean(s)]
            self.dropped += len(doc) - len(kept)
            self._pending = [unit_text(s, self.lang) for s in kept]
            self._next = 0

    def draw(self) -> str:
        self._refill()
        self._next += 1
        return self._pending[self._next - 1]

    def draw_many(self, n: int) -> list[str]:
        out: list[str] = []
        while len(out) < n:
            self._refill()
            take = min(n - len(out), len(self._pending) - self._next)
            out.extend(self._pending[self._next : self._next + take])
            self._next += take
        return out


__all__ = ["DEFAULT_HAYSTACK", "Haystack", "SentenceUnits", "get_haystack", "haystacks", "register_haystack"]
