"""Natural-text haystacks: one interface, chosen with ``--haystack``.

``procedural`` (default; prose lcgen writes itself), ``files:PATH`` (a UTF-8 text file or a folder of them) and
``hf:REPO[:CONFIG]:COLUMN[@REVISION]`` (a text column of a dataset, streamed). A source yields *documents* (lists of
sentences) in an order seeded by the sample's RNG; :class:`SentenceUnits` turns them into additive filler units for
the exact-length engine and drops every sentence that mentions a needle's names or answers (the leakage guard).

Repetition: a finite corpus (``files:``, ``hf:``) hands its documents out as :class:`Passes`, one shuffled pass
after another. A filler unit from the second or a later pass repeats a sentence the sample may already hold;
:func:`repeat_meta` counts such units among those the sample actually *uses* (the engine draws more than it
keeps), refuses a sample that uses more sentences than the corpus has unless ``--allow-repeat`` was given, and
records the count as ``haystack_repeats``. The procedural source is endless and never repeats in this sense (any
source that does not return :class:`Passes` is treated as endless).

Every draw is bounded: a pass of a finite corpus that leaves fewer than :data:`MIN_SENTENCES` usable sentences,
:data:`MAX_BARREN` documents in a row that hold none, a source of which at most one sentence in
:data:`MAX_DROPPED_PER_USABLE` is usable, or a source that runs dry is a one-line :class:`HaystackError` naming the
source and what was dropped, never a hang.
"""

from __future__ import annotations

import functools
import random
import threading
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterator
from typing import Any, ClassVar

from .errors import HaystackError
from .registry import Registry

DEFAULT_HAYSTACK = "procedural"
LANGS = ("en", "zh")
MAX_BARREN = 1_000  # documents in a row without one usable sentence before a source counts as unusable
MIN_SENTENCES = 20  # usable sentences; below this a corpus would repeat itself every few hundred tokens
MAX_DROPPED_PER_USABLE = 100  # sentences dropped per usable one (once MAX_BARREN are dropped) before a source gives up
_EXAMPLE_CHARS = 80  # of a dropped sentence quoted in a refusal


class Haystack(ABC):
    """A source of natural text, resolved from a ``--haystack`` value."""

    scheme: ClassVar[str]
    shareable: ClassVar[bool] = False  # picklable and cheap to send: worker processes get it instead of re-reading
    description: str = ""  # for the card: where the text comes from
    license: str = ""

    def __init__(self, arg: str | None):
        self.arg = arg

    @property
    def spec(self) -> str:
        """The ``--haystack`` value this source was resolved from, for messages."""
        return f"{self.scheme}:{self.arg}" if self.arg else self.scheme

    @abstractmethod
    def documents(self, rng: random.Random, lang: str, avoid: Collection[str] = ()) -> Iterator[list[str]]:
        """Documents as lists of stripped sentences, in a seeded order; endless. A finite corpus returns
        :class:`Passes`, so that repeats can be told apart from first sightings."""

    def whole_documents(self, rng: random.Random, lang: str) -> Iterator[list[str]]:
        """Documents whole, in a seeded order, each at most once (a family that needs one coherent passage, such as
        tsort, reads these): a source that hands documents out in chunks overrides this."""
        return self.documents(rng, lang)


class Passes(Iterator[list[str]]):
    """The documents of a finite corpus, pass after pass; ``one_pass()`` starts a pass (shuffling as it likes).

    ``number`` is the pass the last document came from (0 = the first). A pass that yields no document at all is a
    :class:`HaystackError` naming ``what``, so cycling an empty corpus cannot spin.
    """

    def __init__(self, one_pass: Callable[[], Iterator[list[str]]], what: str):
        self._one_pass = one_pass
        self.what = what
        self.number = 0
        self._current = one_pass()  # a generator: nothing is drawn (no RNG call) before the first document
        self._yielded = False

    def __next__(self) -> list[str]:
        while True:
            doc = next(self._current, None)
            if doc is not None:
                self._yielded = True
                return doc
            if not self._yielded:
                raise HaystackError(f"--haystack: {self.what} holds no usable text")
            self.number += 1
            self._yielded = False
            self._current = self._one_pass()


haystacks: Registry[type[Haystack]] = Registry("haystack scheme", "lcgen.haystacks")


def register_haystack(cls: type[Haystack]) -> type[Haystack]:
    """Class decorator: make a source available under its ``scheme``."""
    haystacks.add(cls.scheme, cls)
    return cls


_installed: dict[str, Haystack] = {}  # sources handed over by a parent process (see install_haystacks)
_loaded: weakref.WeakValueDictionary[str, Haystack] = weakref.WeakValueDictionary()  # mirrors get_haystack's cache
_lock = threading.Lock()


@functools.lru_cache(maxsize=8)
def get_haystack(spec: str) -> Haystack:
    """Resolve ``procedural``, ``files:PATH`` or ``hf:...`` into a source (checked now: a bad value fails early)."""
    with _lock:
        source = _installed.get(spec)
    if source is None:
        source = _resolve(spec)
    with _lock:
        _loaded[spec] = source
    return source


def _resolve(spec: str) -> Haystack:
    if not spec:
        raise HaystackError("--haystack: empty value")
    scheme, colon, arg = spec.partition(":")
    if scheme not in haystacks:
        known = ", ".join(f"{s}:..." if s != "procedural" else s for s in haystacks.names())
        raise HaystackError(f"--haystack: unknown source {spec!r}; use one of {known}")
    return haystacks.get(scheme)(arg if colon else None)


def loaded_haystacks() -> dict[str, Haystack]:
    """The sources this process has already resolved that can be pickled cheaply, by ``--haystack`` value."""
    with _lock:
        return {spec: source for spec, source in list(_loaded.items()) if source.shareable}


def install_haystacks(sources: dict[str, Haystack]) -> None:
    """Seed this process (a worker) with sources resolved elsewhere: ``get_haystack(spec)`` then returns them
    without reading or splitting anything again."""
    with _lock:
        _installed.update(sources)
    get_haystack.cache_clear()


def unit_text(sentence: str, lang: str) -> str:
    """One additive unit: English sentences carry their leading space, Chinese ones end their own line.

    A tiktoken-style pre-tokenizer starts a new piece at " Word" and after a newline, so these units tokenize the
    same alone as in a run; "。" would otherwise merge with the next character.
    """
    return sentence + "\n" if lang == "zh" else " " + sentence


class SentenceUnits:
    """Filler units from a haystack, skipping any sentence that contains an avoided string (case-insensitive)
    or that ``reject`` refuses (e.g. one that reads like a needle statement).

    ``reject`` is called on one sentence at a time, never on a whole document. For a finite source it keeps the
    units it handed out, in order, and where the corpus' first pass ended (``first_pass_units``), so :meth:`usage`
    can tell which units the sample holds twice.
    """

    def __init__(
        self,
        haystack: Haystack,
        rng: random.Random,
        lang: str,
        avoid: Collection[str] = (),
        reject: Callable[[str], bool] | None = None,
    ):
        self.lang = lang
        self.what = getattr(haystack, "spec", type(haystack).__name__)
        self._reject = reject
        self._avoid = sorted({a.lower() for a in avoid if a})
        self._docs = haystack.documents(rng, lang, frozenset(avoid))
        self._passes = self._docs if isinstance(self._docs, Passes) else None
        self._pending: list[str] = []  # units of the current document, already formatted
        self._next = 0
        self.dropped = 0
        self.avoided = 0  # sentences dropped for naming an avoided string
        self.rejected = 0  # sentences dropped by ``reject``
        self._example = ""  # the first sentence dropped (a rejected one if any), quoted in refusals
        self._log: list[str] = []  # every unit produced, in order (finite sources only)
        self._pass = 0
        self._kept_in_pass = 0
        self._dropped_at_pass = (0, 0)  # (avoided, rejected) when the current pass began
        self.produced = 0  # units taken from documents so far
        self.handed = 0  # units handed out so far
        self.first_pass_units: int | None = None  # units the corpus' first pass gave; None while it lasts

    def _keep(self, doc: list[str]) -> list[str]:
        """The sentences of ``doc`` a sample may use, counting the others by reason."""
        # One search of the joined document narrows the avoided strings to those it holds (a string in a sentence is
        # in the joined text; nearly every document holds none), then each sentence is checked on its own.
        low = "\n".join(doc).lower()
        avoided = [a for a in self._avoid if a in low]
        kept = []
        for sentence in doc:
            if not sentence:
                continue
            if avoided and any(a in sentence.lower() for a in avoided):
                self.avoided += 1
                self._example = self._example or sentence
            elif self._reject is not None and self._reject(sentence):
                self.rejected += 1
                self._example = sentence if self.rejected == 1 else self._example
            else:
                kept.append(sentence)
        return kept

    def _dropped_text(self, avoided: int, rejected: int) -> str:
        """What the guard dropped, in a few words, with one dropped sentence as an example."""
        parts = [f"{avoided:,} name a needle's people or answers" if avoided else "",
                 f"{rejected:,} read like a needle" if rejected else ""]
        said = " and ".join(p for p in parts if p) or "none was dropped"
        example = self._example if len(self._example) <= _EXAMPLE_CHARS else self._example[:_EXAMPLE_CHARS] + "..."
        return f"{said}, such as {example!r}" if example and (avoided or rejected) else said

    def _document(self) -> list[str]:
        try:
            doc = next(self._docs)
        except StopIteration:
            raise HaystackError(f"--haystack: {self.what} ran out of text") from None
        if self._passes is not None and self._passes.number != self._pass:
            self._end_pass()
        return doc

    def _end_pass(self) -> None:
        """A pass over a finite corpus is over: refuse a corpus the guard left too small, note where it ended."""
        kept = self._kept_in_pass
        avoided, rejected = self.avoided - self._dropped_at_pass[0], self.rejected - self._dropped_at_pass[1]
        seen = kept + avoided + rejected
        dropped = self._dropped_text(avoided, rejected)
        if kept == 0:
            raise HaystackError(f"--haystack: no sentence of {self.what} is usable in this sample: of its "
                                f"{seen:,} sentences, {dropped}")
        if kept < MIN_SENTENCES:
            raise HaystackError(f"--haystack: only {kept:,} of the {seen:,} sentences of {self.what} are usable in "
                                f"this sample, fewer than {MIN_SENTENCES}: {dropped}")
        if self.first_pass_units is None:
            self.first_pass_units = self.produced
        self._pass, self._kept_in_pass = self._passes.number, 0
        self._dropped_at_pass = (self.avoided, self.rejected)

    def _refill(self) -> None:
        barren = 0
        while self._next >= len(self._pending):
            doc = self._document()
            kept = self._keep(doc)
            self.dropped += len(doc) - len(kept)
            if not kept:
                barren += 1
                if barren >= MAX_BARREN:
                    raise HaystackError(f"--haystack: {MAX_BARREN:,} documents of {self.what} in a row hold no "
                                        f"usable sentence: {self._dropped_text(self.avoided, self.rejected)}")
            usable = self.produced + len(kept)
            if self.dropped >= MAX_BARREN and self.dropped > MAX_DROPPED_PER_USABLE * usable:
                raise HaystackError(f"--haystack: only {usable:,} of the {usable + self.dropped:,} sentences of "
                                    f"{self.what} drawn so far are usable in this sample: "
                                    f"{self._dropped_text(self.avoided, self.rejected)}")
            if not kept:
                continue
            self._pending = [unit_text(s, self.lang) for s in kept]
            self._next = 0
            self.produced += len(kept)
            self._kept_in_pass += len(kept)
            if self._passes is not None:
                self._log.extend(self._pending)

    def draw(self) -> str:
        self._refill()
        self._next += 1
        self.handed += 1
        return self._pending[self._next - 1]

    def draw_many(self, n: int) -> list[str]:
        out: list[str] = []
        while len(out) < n:
            self._refill()
            take = min(n - len(out), len(self._pending) - self._next)
            out.extend(self._pending[self._next : self._next + take])
            self._next += take
        self.handed += len(out)
        return out

    @property
    def repeats_drawn(self) -> int:
        """Units handed out after the corpus' first pass: an upper bound on the repeats a sample holds."""
        return 0 if self.first_pass_units is None else max(self.handed - self.first_pass_units, 0)

    def usage(self, text: str, start: int, end: int, skip: dict[int, int]) -> tuple[int, int]:
        """How many units ``text[start:end]`` holds (the filler, with needles at the offsets ``skip`` maps to their
        lengths), and how many of them repeat a sentence the sample already holds because the corpus was cycled.

        The engine keeps a subsequence of the units it drew, in order; they are matched to the draws earliest
        first. A unit is a repeat when its draw came after the corpus' first pass and its text is already in the
        sample (a sentence the corpus itself holds twice is no repeat). Should the text not match the draws (it
        should), every unit handed out is counted instead, and every later-pass draw as a repeat (upper bounds).
        """
        first = self.first_pass_units if self.first_pass_units is not None else self.handed
        log, handed = self._log, self.handed
        seen: set[str] = set()
        i, pos, used, repeats = 0, start, 0, 0
        while pos < end:
            if pos in skip:
                pos += skip[pos]
                continue
            while i < handed and not text.startswith(log[i], pos):
                i += 1
            if i >= handed:
                return handed, self.repeats_drawn
            unit = log[i]
            used += 1
            repeats += i >= first and unit in seen
            seen.add(unit)
            pos += len(unit)
            i += 1
        return used, repeats

    def first_pass(self) -> list[str]:
        """The units the corpus' first pass gave this sample (empty while it lasts)."""
        return self._log[: self.first_pass_units or 0]


def repeat_meta(plan: Any, built: Any, allow_repeat: bool, sample: str, tok: Any) -> dict[str, int]:
    """``{"haystack_repeats": n}`` for a sample that holds ``n`` sentences of a finite corpus a second time, ``{}``
    when it holds none.

    A sample that uses more sentences than the corpus' first pass gave it needs more text than the corpus has: it
    is refused in one line unless ``allow_repeat``. A sample that fits the corpus can still hold a repeat or two
    (the engine draws more units than it keeps, so a small corpus' first pass may be spent before the exact fill
    ends); those are recorded, not refused. ``plan`` and ``built`` are the engine's
    :class:`~lcgen.assemble.Plan` and :class:`~lcgen.assemble.Assembled`.
    """
    units = plan.filler
    if not isinstance(units, SentenceUnits) or units.repeats_drawn == 0:
        return {}
    first, end = built.context_span
    skip = {offset: len(n.text) for offset, n in zip(built.placed, plan.needles)}
    used, repeats = units.usage(built.text, first + len(plan.ctx_open), end - len(plan.ctx_close), skip)
    corpus = units.first_pass()
    if used > len(corpus) and not allow_repeat:
        tokens = sum(tok.counts(corpus)) if corpus else 0
        raise HaystackError(
            f"--haystack: {units.what} has only {len(corpus):,} usable sentences (~{tokens:,} tokens) for sample "
            f"{sample}, which needs {used:,}; pass --allow-repeat to let it repeat them"
        )
    return {"haystack_repeats": repeats} if repeats else {}


__all__ = [
    "DEFAULT_HAYSTACK",
    "MIN_SENTENCES",
    "Haystack",
    "Passes",
    "SentenceUnits",
    "get_haystack",
    "haystacks",
    "install_haystacks",
    "loaded_haystacks",
    "register_haystack",
    "repeat_meta",
]
