"""What the procedural haystack's templates draw from: the entity pools and word lists, the same keys in every
language, each module of a language (``_procedural_en``, ``_procedural_zh``) filling them its own way.

Pools drawn from a seeded Faker per call of ``documents``: ``P`` people (dicts: ``name``, ``first``, ``last``,
``partner`` (a spouse's first name) and the pronoun and kin words of their sex: ``he``, ``child``, ``sib``,
``parent``, ``title``, in English also ``him``, ``his``, ``He``, ``His``), ``T`` towns, ``C`` companies (dicts:
``name``, ``short``), ``J`` jobs (dicts: ``n`` the noun, ``a`` with its article), ``R`` regions, ``N`` countries,
``S`` streets. Word lists fixed per language (``prof``, ``field``, ``topic``, ``industry``, ...) and constants
(``M`` months, ``NUM`` number words, ``ORD`` ordinals, ...) complete a template's context.
"""

from __future__ import annotations

from typing import Any


def unique(items: list[Any], key: Any = None) -> list[Any]:
    """``items`` without repeats, in first-seen order."""
    seen: set[Any] = set()
    out = []
    for item in items:
        k = item if key is None else key(item)
        if k not in seen:
            seen.add(k)
            out.append(item)
    return out
