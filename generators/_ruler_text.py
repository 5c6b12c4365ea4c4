"""What RULER's tasks are made of: word pools, keys and values, the noise and needle haystacks, the depth grid.

The word lists are wonderwords 3.0.1's (pinned: RULER draws from the same lists, unpinned), read from the package's
files. Every haystack line ends with its own newline, so lines tokenize the same alone as in a run.
"""

from __future__ import annotations

import functools
import random
import uuid
from collections.abc import Sequence
from importlib import resources

from lcgen.errors import ParamError
from lcgen.frames import frame_lines, render_frame

from ._invented import syllables

GRID = tuple(int(round(100 * i / 39)) for i in range(40))  # RULER's 40 depths: 0, 3, 5, 8, ..., 97, 100
MAX_DRAWS = 10_000  # draws of one fresh key, value, name or word before giving up


@functools.lru_cache(maxsize=4)
def wonderwords(kind: str) -> tuple[str, ...]:
    """One wonderwords list ("noun", "adjective", "verb"), as the package ships it."""
    text = resources.files("wonderwords.assets").joinpath(f"{kind}list.txt").read_text(encoding="utf-8")
    return tuple(w.strip() for w in text.splitlines() if w.strip())


@functools.lru_cache(maxsize=1)
def key_parts() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """RULER's word keys and values are adjective-noun pairs ("ugly-hedgehog"); drawn here as an adjective and a
    noun, each uniform (RULER draws from the sorted set of all pairs: the same but for a handful of pairs two
    spellings share). Words with a space inside ("ad hoc") are left out, so a key is one run of non-space
    characters."""
    adjectives = tuple(sorted({a for a in wonderwords("adjective") if " " not in a}))
    nouns = tuple(sorted({n for n in wonderwords("noun") if " " not in n}))
    return adjectives, nouns


@functools.lru_cache(maxsize=1)
def common_word_pool() -> tuple[str, ...]:
    """cwe's real words: wonderwords' nouns, adjectives and verbs, de-duplicated and sorted (8,166 words), plain
    lower-case letters only (a hyphen or a space would read as two words in the list)."""
    words = set(wonderwords("noun")) | set(wonderwords("adjective")) | set(wonderwords("verb"))
    return tuple(sorted(w for w in words if w.isascii() and w.isalpha() and w.islower()))


def draw_value(kind: str, rng: random.Random) -> str:
    """One key or value of RULER's kinds: a 7-digit number, an adjective-noun word pair or a version-4 UUID."""
    if kind == "numbers":
        return str(rng.randint(1_000_000, 9_999_999))
    if kind == "words":
        adjectives, nouns = key_parts()
        return f"{adjectives[rng.randrange(len(adjectives))]}-{nouns[rng.randrange(len(nouns))]}"
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def fresh(kind: str, rng: random.Random, taken: set[str], what: str) -> str:
    """A key or value of ``kind`` not in ``taken`` (added to it); ParamError after MAX_DRAWS draws."""
    for _ in range(MAX_DRAWS):
        value = draw_value(kind, rng)
        if value not in taken:
            taken.add(value)
            return value
    raise ParamError(f"{what}: no fresh {kind[:-1]} found in {MAX_DRAWS:,} draws; ask for fewer")


def invented_words(rng: random.Random, n: int, taken: set[str]) -> list[str]:
    """n lower-case invented words of two to four syllables, none in ``taken`` (added to it)."""
    out: list[str] = []
    for _ in range(n * 20 + MAX_DRAWS):
        if len(out) == n:
            break
        word = syllables(rng, rng.choice((2, 3, 3, 4)))
        if word.isalpha() and word not in taken:
            taken.add(word)
            out.append(word)
    if len(out) < n:
        raise ParamError(f"--len: {n:,} distinct invented words not found; ask for a shorter --len")
    return out


def join_keys(keys: Sequence[str]) -> str:
    """"a", "a and b", "a, b, and c": how RULER names several queried keys."""
    if len(keys) == 1:
        return keys[0]
    return ", ".join(keys[:-1]) + ", and " + keys[-1]


@functools.lru_cache(maxsize=1)
def noise_line() -> str:
    """The noise haystack's one line: five short sentences (templates/ruler/noise.j2)."""
    (line,) = frame_lines("ruler/noise.j2")
    return line


def noise_sentences() -> list[str]:
    """The noise line's sentences, each with its full stop."""
    return [s + "." for s in noise_line().rstrip(".").split(". ")]


class NoiseLines:
    """Filler: the noise line, again and again, one per line."""

    def __init__(self) -> None:
        self.line = noise_line() + "\n"

    def draw(self) -> str:
        return self.line

    def draw_many(self, n: int) -> list[str]:
        return [self.line] * n


def shortened_lines(room: int, line_tokens: int, prefix_tokens: Sequence[int], what: str) -> list[int]:
    """Which shortened noise lines (at the context's start) close ``room`` tokens with whole lines: a list of
    sentence counts (1-4), fewest lines first, whose tokens leave a multiple of ``line_tokens``. ParamError when no
    handful of them does (a tokenizer whose sentence counts share a factor with the line's)."""
    best: dict[int, list[int]] = {0: []}  # residue mod line_tokens -> fewest shortened lines making it
    frontier = dict(best)
    for _ in range(2 * line_tokens):
        nxt: dict[int, list[int]] = {}
        for residue, lines in frontier.items():
            for k, size in enumerate(prefix_tokens, start=1):
                r = (residue + size) % line_tokens
                if r not in best and r not in nxt:
                    nxt[r] = lines + [k]
        if not nxt:
            break
        best.update(nxt)
        frontier = nxt
    want = room % line_tokens
    if want not in best or sum(prefix_tokens[k - 1] for k in best[want]) > room:
        raise ParamError(f"--len: {what}: no number of noise lines fills the context exactly with this tokenizer")
    return sorted(best[want])


def shortened_text(sentences: int) -> str:
    """A noise line cut after its first ``sentences`` sentences."""
    return " ".join(noise_sentences()[:sentences]) + "\n"


def needle_line(frame: str, kind: str, key: str, value: str) -> str:
    return render_frame(frame, type_needle_v=kind, key=key, value=value)


class NeedleLines:
    """Filler of the ``needle`` haystack: needles of the same form with fresh keys and values, one per line; none
    uses a key or value of the sample's own needles."""

    def __init__(self, rng: random.Random, frame: str, key_kind: str, value_kind: str, avoid: set[str]):
        self.rng, self.frame, self.kinds, self.avoid = rng, frame, (key_kind, value_kind), avoid

    def _one(self) -> str:
        for _ in range(MAX_DRAWS):
            key, value = draw_value(self.kinds[0], self.rng), draw_value(self.kinds[1], self.rng)
            if key not in self.avoid and value not in self.avoid:
                return needle_line(self.frame, self.kinds[1], key, value) + "\n"
        raise ParamError("--type-haystack needle: no distractor key and value found that the needles do not use")

    def draw(self) -> str:
        return self._one()

    def draw_many(self, n: int) -> list[str]:
        return [self._one() for _ in range(n)]


def grid_depths(rng: random.Random, n: int, anchor: float) -> list[float]:
    """n depths for the needles after the anchor: drawn without replacement from RULER's 40-depth grid, leaving out
    the grid point nearest the anchor (uniform draws when more than 39 are needed)."""
    nearest = min(GRID, key=lambda d: (abs(d - anchor), d))
    grid = [float(d) for d in GRID if d != nearest]
    if n <= len(grid):
        return rng.sample(grid, n)
    return [rng.uniform(0.0, 100.0) for _ in range(n)]

