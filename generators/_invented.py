"""Invented words for keyword replacement (LV-Eval's KPR): syllables from ``templates/invented/<lang>.j2`` and the
runs of characters a replacement must not share with an original. needles and qa replace their keywords with them.
"""

from __future__ import annotations

import functools
import random

from lcgen.frames import frame_lines

SHARED_RUN = 3  # an English replacement shares no run of this many characters with any original keyword


@functools.lru_cache(maxsize=2)
def pieces(lang: str) -> dict[str, tuple[str, ...]]:
    """The invented-word pieces of templates/invented/<lang>.j2, by kind (a kind may span several lines)."""
    out: dict[str, tuple[str, ...]] = {}
    for line in frame_lines(f"invented/{lang}.j2"):
        kind, _, items = line.partition(":")
        out[kind.strip()] = out.get(kind.strip(), ()) + tuple(items.split())
    return out


@functools.lru_cache(maxsize=1)
def real_en_names() -> frozenset[str]:
    """Faker's English first and last names, lowercased: an invented word is never one of them."""
    from faker.providers.person.en_US import Provider

    return frozenset(n.lower() for n in (*Provider.first_names, *Provider.last_names))


def syllables(rand: random.Random, n: int) -> str:
    """n syllables: an onset, a vowel and, a third of the time, a coda each (lower case)."""
    kinds = pieces("en")
    return "".join(rand.choice(kinds["onsets"]) + rand.choice(kinds["vowels"])
                   + (rand.choice(kinds["codas"]) if rand.random() < 1 / 3 else "") for _ in range(n))


def runs(text: str) -> set[str]:
    """Every run of SHARED_RUN characters of ``text``, case-insensitive."""
    low = text.lower()
    return {low[i:i + SHARED_RUN] for i in range(len(low) - SHARED_RUN + 1)}
