"""Chronicles: tsort's default source, procedural prose whose order can be recovered from the text alone.

A chronicle is the endless record of one invented town, entry after entry. Every entry opens with a sentence that
carries its full date, and dates strictly increase from entry to entry; the entry's other sentences carry relative
cues ("Two days later", "Afterwards") and back-references to works begun earlier ("the stone bridge begun in March
1871"). tsort cuts its parts at entry starts, so every part opens with a dated sentence: sorting the parts by their
opening dates gives the original order, and only that order (the criterion docs/tsort.md states and the oracle
checks). The phrasings are templates in ``templates/tsort/<lang>/``.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterator
from dataclasses import dataclass

from lcgen.frames import frame_lines, render_frame
from lcgen.haystacks.procedural import entity_pools
from lcgen.render import environment

FIRST_YEAR = 1700  # earliest start of a chronicle; a 1M-token one spans about two centuries
MAX_GAP_DAYS = 9  # days between two entries: 1 to this
_KINDS_NEW, _KINDS_OLD, _KINDS_ANY = (0,), (1, 5), (2, 3, 4)
_KINDS = (*_KINDS_NEW, *_KINDS_OLD, *_KINDS_ANY)
_WORK_DAYS, _FINISH_DAYS = 14, 60
_CHOICES = 8  # random integers an entry template chooses its phrasings with


@dataclass(frozen=True)
class Entry:
    """One entry: its date and its sentences (the first carries the date)."""

    date: datetime.date
    sentences: list[str]


def chronicle(rng: random.Random, lang: str) -> Iterator[Entry]:
    """The entries of one town's chronicle, endless, all randomness from ``rng``."""
    pools, const = entity_pools(rng, lang)
    env = environment("lcgen.templates")
    template = env.get_template(f"tsort/{lang}/entry.j2")
    projects = [line.split("|") for line in frame_lines(f"tsort/{lang}/projects.j2")]
    town, *towns = rng.sample(pools["T"], 41)
    people, streets, jobs, fests = pools["P"], pools["S"], pools["J"], pools["fest"]
    date = datetime.date(FIRST_YEAR + rng.randrange(150), 1 + rng.randrange(12), 1 + rng.randrange(28))
    begun: list[dict] = []  # works agreed and not finished yet, for back-references
    while True:
        date += datetime.timedelta(days=1 + rng.randrange(MAX_GAP_DAYS))
        kind = rng.choice(_KINDS)
        street = rng.sample(streets, 2)
        new = old = None
        # A work is worked on a fortnight after it was agreed at the earliest, and finished after two months.
        ready = [w for w in begun[-12:] if (date - w["date"]).days >= (_FINISH_DAYS if kind == 5 else _WORK_DAYS)]
        if kind in _KINDS_OLD and not ready:
            kind = rng.choice(_KINDS_ANY)
        if kind in _KINDS_NEW:
            short, what = rng.choice(projects)
            new = {"short": short, "what": render_frame(what, street=street[0])}
            begun.append({"short": short, "m": date.month, "y": date.year, "date": date})
        elif kind in _KINDS_OLD:
            old = rng.choice(ready)
            if kind == 5:
                begun.remove(old)
        ctx = {"kind": kind, "d": date.day, "m": date.month, "y": date.year, "town": town,
               "T": rng.sample(towns, 2), "P": rng.sample(people, 2), "S": street, "J": rng.sample(jobs, 1),
               "fest": rng.choice(fests), "new": new, "old": old, "k": [rng.getrandbits(30) for _ in range(_CHOICES)],
               **const}
        lines = [s for s in (line.strip() for line in template.render(ctx).split("\n")) if s]
        yield Entry(date, lines)
