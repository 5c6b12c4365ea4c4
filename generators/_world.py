"""A seeded world of fictitious facts lcgen controls: people, towns and companies, their typed attributes and the
relations between them, all drawn from one ``rng``.

Families that need facts a model cannot know beforehand and a checker can verify (best-answer; later a qa family
with confusing facts and keyword replacement, and multi-hop questions) build a :class:`World` and verbalize its facts
through ``templates/world/`` (several phrasings per relation in ``facts/<relation id>.j2``, the canonical record of
each kind in ``records/<kind>.j2``). The invariants those families rely on:

- every name (people, towns, companies, regions, and the extra names :meth:`World.fresh` draws) is unique, and none
  is part of another, ignoring case, so a name found in a text is that entity and no other;
- years are distinct across every year-valued attribute of the world and counts across every count-valued one, so
  a year or a count names one fact;
- relations point inside the world (a birthplace is a world town, a founder a world person, who was at least 22
  when the company was founded).

Names match :data:`NAME` (capitalized words), numbers :data:`YEAR` and :data:`COUNT` as :func:`value_text` writes
them, professions and industries :data:`WORDS` (lower case), so a reader can parse any verbalization with
:func:`lcgen.frames.frame_regex`.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar

from lcgen.errors import ParamError
from lcgen.frames import frame_lines, render_frame

PERSON, TOWN, COMPANY = "person", "town", "company"
KINDS = (PERSON, TOWN, COMPANY)
YEAR, COUNT, REGION, PROFESSION, INDUSTRY = "year", "count", "region", "profession", "industry"
NUMERIC = (YEAR, COUNT)
NAMED = (PERSON, TOWN, COMPANY, REGION)  # value types written as capitalized names
TEMPLATES = "world"

NAME = r"[A-Z][a-z]+(?: [A-Z][a-z]+)*"
YEAR_RX = r"\d{4}"
COUNT_RX = r"\d{1,3}(?:,\d{3})*"
WORDS = r"[a-z]+(?: [a-z]+)*"
A_WORDS = r"(?:a|an) [a-z]+(?: [a-z]+)*"
VALUE_PATTERNS = {YEAR: YEAR_RX, COUNT: COUNT_RX, PROFESSION: WORDS, INDUSTRY: WORDS,
                  **{t: NAME for t in NAMED}}

PROFESSIONS = (
    "accountant", "actuary", "archivist", "architect", "auditor", "beekeeper", "botanist", "brewer", "carpenter",
    "cartographer", "chemist", "dentist", "economist", "electrician", "engineer", "geologist", "glassblower",
    "historian", "illustrator", "journalist", "librarian", "locksmith", "machinist", "mechanic", "nurse", "optician",
    "paramedic", "pharmacist", "photographer", "physicist", "plumber", "sculptor", "statistician", "surveyor",
    "tailor", "teacher", "translator", "upholsterer", "veterinarian", "welder",
)
INDUSTRIES = (
    "aerospace", "agriculture", "brewing", "ceramics", "food processing", "furniture", "glassmaking", "insurance",
    "logistics", "mining", "optics", "paper milling", "pharmaceuticals", "printing", "publishing", "robotics",
    "shipbuilding", "software", "telecommunications", "textiles",
)
_TOWN_HEADS = ("Alder", "Ash", "Brack", "Bram", "Corr", "Dun", "Elm", "Fenn", "Garth", "Hals", "Hollin", "Kell",
               "Lind", "Marl", "Mors", "Norr", "Oxl", "Penh", "Quen", "Rudd", "Selw", "Stan", "Thorn", "Ulver", "Vern",
               "Wend", "Whit", "Yarl", "Cald", "Brin")
_TOWN_TAILS = ("ford", "ley", "mere", "wick", "ton", "bury", "stead", "holm", "by", "worth", "field", "gate",
               "haven", "combe", "thorpe", "den")
_COMPANY_STEMS = ("Arkwell", "Bellmont", "Cobalt", "Dravin", "Ebron", "Falk", "Gantry", "Harlow", "Iverson",
                  "Jessop", "Kestrel", "Lumen", "Marrick", "Nolan", "Orrin", "Pellam", "Quarry", "Rostrum", "Sable",
                  "Tamsin", "Umber", "Vantage", "Wexley", "Yardley", "Zenith", "Corvid", "Halcyon", "Meridian",
                  "Osprey", "Tessellate")
_COMPANY_TAILS = ("Works", "Holdings", "Labs", "Foundry", "Mills", "Systems", "Partners", "Group", "Dynamics",
                  "Supply", "Yards", "Press", "Instruments", "Freight")
_REGION_STEMS = ("Serth", "Calder", "Maren", "Orm", "Tyne", "Vael", "Brisk", "Hask", "Lorn", "Pell", "Skarr", "Wyth",
                 "Dallow", "Ferrin", "Gorse", "Rime")
_REGION_TAILS = ("Vale", "Coast", "Downs", "Basin", "Uplands", "Reach", "Moors", "Fells")
_ATTEMPTS = 400  # draws of one name before the pools count as exhausted


@dataclass(frozen=True)
class Relation:
    """A typed attribute of one kind of entity: ``company_founder`` maps a company to a person."""

    kind: str  # the subject's kind
    name: str  # the field name in the kind's record (``founder``)
    value_type: str  # a kind, or year, count, region, profession, industry

    @property
    def id(self) -> str:
        return f"{self.kind}_{self.name}"

    @property
    def numeric(self) -> bool:
        return self.value_type in NUMERIC

    @property
    def entity_valued(self) -> bool:
        return self.value_type in KINDS


RELATIONS: dict[str, Relation] = {r.id: r for r in (
    Relation(PERSON, "birth_year", YEAR), Relation(PERSON, "birthplace", TOWN),
    Relation(PERSON, "profession", PROFESSION), Relation(PERSON, "employer", COMPANY),
    Relation(TOWN, "region", REGION), Relation(TOWN, "founded", YEAR), Relation(TOWN, "population", COUNT),
    Relation(COMPANY, "founded", YEAR), Relation(COMPANY, "founder", PERSON), Relation(COMPANY, "headquarters", TOWN),
    Relation(COMPANY, "industry", INDUSTRY), Relation(COMPANY, "employees", COUNT),
)}


def relations_of(kind: str) -> list[Relation]:
    """The relations of one kind, in record order."""
    return [r for r in RELATIONS.values() if r.kind == kind]


@dataclass(frozen=True)
class Person:
    kind: ClassVar[str] = PERSON
    name: str
    birth_year: int
    birthplace: str
    profession: str
    employer: str


@dataclass(frozen=True)
class Town:
    kind: ClassVar[str] = TOWN
    name: str
    region: str
    founded: int
    population: int


@dataclass(frozen=True)
class Company:
    kind: ClassVar[str] = COMPANY
    name: str
    founded: int
    founder: str
    headquarters: str
    industry: str
    employees: int


Entity = Person | Town | Company


@dataclass(frozen=True)
class Fact:
    """One statement of the world: ``relation`` of ``subject`` is ``value``."""

    subject: str
    relation: Relation
    value: int | str

    @property
    def text(self) -> str:
        """The value as every verbalization writes it."""
        return value_text(self.relation, self.value)


def value_text(relation: Relation, value: int | str) -> str:
    """Years as digits, counts with thousands separators, everything else as is."""
    if relation.value_type == COUNT:
        return f"{int(value):,}"
    return str(value)


def article(word: str) -> str:
    """``word`` with its indefinite article."""
    return ("an " if word[0] in "aeiou" else "a ") + word


class NameBook:
    """Unique names for one world: none equal to or part of another (ignoring case), drawn from seeded pools and a
    seeded Faker (for people)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.fake = _faker()
        self.fake.seed_instance(rng.getrandbits(64))
        self.taken: list[str] = []
        self._lower: list[str] = []

    def _accept(self, name: str) -> bool:
        low = name.lower()
        if not re.fullmatch(NAME, name) or any(low in t or t in low for t in self._lower):
            return False
        self.taken.append(name)
        self._lower.append(low)
        return True

    def _draw(self, what: str, make) -> str:
        for _ in range(_ATTEMPTS):
            name = make()
            if self._accept(name):
                return name
        raise ParamError(f"the world's {what} names ran out after {len(self.taken):,} names; ask for fewer entities")

    def person(self, surname: str | None = None) -> str:
        return self._draw("person", lambda: f"{self.fake.first_name()} {surname or self.fake.last_name()}")

    def town(self) -> str:
        return self._draw("town", self._town)

    def _town(self) -> str:
        head, tail = self.rng.choice(_TOWN_HEADS), self.rng.choice(_TOWN_TAILS)
        return head + (tail if head[-1] != tail[0] else tail[1:])  # "Penholm", not "Penhholm"

    def company(self) -> str:
        return self._draw("company", lambda: f"{self.rng.choice(_COMPANY_STEMS)} {self.rng.choice(_COMPANY_TAILS)}")

    def region(self) -> str:
        return self._draw("region", lambda: f"{self.rng.choice(_REGION_STEMS)} {self.rng.choice(_REGION_TAILS)}")

    def surname(self) -> str:
        """A surname for a family of people (checked through the full names it makes, not on its own)."""
        for _ in range(_ATTEMPTS):
            name = self.fake.last_name()
            if re.fullmatch(r"[A-Z][a-z]+", name) and not any(name.lower() in t for t in self._lower):
                return name
        raise ParamError("the world's surnames ran out; ask for fewer people")


@functools.lru_cache(maxsize=1)
def _faker():
    """One Faker per process, re-seeded for every world (seed_instance resets its whole random state)."""
    from faker import Faker

    return Faker("en_US")


class Distinct:
    """Integers drawn from ranges, never the same twice (years across every year attribute, say)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[int] = set()

    def draw(self, lo: int, hi: int) -> int:
        for _ in range(64):
            v = self.rng.randint(lo, hi)
            if v not in self.used:
                self.used.add(v)
                return v
        free = [v for v in range(lo, hi + 1) if v not in self.used]
        if not free:
            raise ParamError(f"the world has no distinct value left in {lo}-{hi}; ask for fewer entities")
        v = self.rng.choice(free)
        self.used.add(v)
        return v


LAST_YEAR = 2023


@dataclass
class World:
    """People, towns and companies by name; every fact of the world is ``value(subject, relation)``."""

    people: dict[str, Person]
    towns: dict[str, Town]
    companies: dict[str, Company]
    regions: list[str]
    names: NameBook = field(repr=False)
    years: Distinct = field(repr=False)
    counts: Distinct = field(repr=False)

    def entity(self, name: str) -> Entity:
        for table in (self.people, self.towns, self.companies):
            if name in table:
                return table[name]
        raise KeyError(name)

    def kind_of(self, name: str) -> str:
        return self.entity(name).kind

    def of_kind(self, kind: str) -> list[Entity]:
        """Entities of one kind, in the order they were made."""
        return list({PERSON: self.people, TOWN: self.towns, COMPANY: self.companies}[kind].values())

    def value(self, subject: str, relation: Relation | str) -> int | str:
        rel = RELATIONS[relation] if isinstance(relation, str) else relation
        entity = self.entity(subject)
        if entity.kind != rel.kind:
            raise KeyError(f"{subject} is a {entity.kind}, not a {rel.kind}")
        return getattr(entity, rel.name)

    def fact(self, subject: str, relation: Relation | str) -> Fact:
        rel = RELATIONS[relation] if isinstance(relation, str) else relation
        return Fact(subject, rel, self.value(subject, rel))

    def facts(self, subject: str) -> list[Fact]:
        """Every fact about ``subject``, in record order."""
        return [self.fact(subject, r) for r in relations_of(self.kind_of(subject))]

    def pointing_at(self, name: str) -> Iterator[Fact]:
        """Facts whose value is the entity ``name`` (the companies it founded, the people born in it, ...)."""
        for kind in KINDS:
            for e in self.of_kind(kind):
                for rel in relations_of(kind):
                    if rel.entity_valued and getattr(e, rel.name) == name:
                        yield Fact(e.name, rel, name)

    def fresh(self, value_type: str) -> str:
        """A new name of a kind (or region) that no entity of the world holds, unique like every other name: a value
        that belongs to nobody."""
        return {PERSON: self.names.person, TOWN: self.names.town, COMPANY: self.names.company,
                REGION: self.names.region}[value_type]()

    def distinct_number(self, relation: Relation, near: int, rng: random.Random, spread: float) -> int | None:
        """A number of ``relation``'s type near ``near`` that no fact of the world holds (None if none is found)."""
        pool = self.years if relation.value_type == YEAR else self.counts
        for _ in range(64):
            if relation.value_type == YEAR:
                v = near + rng.choice((-1, 1)) * rng.randint(1, max(1, int(spread)))
                if not 1000 <= v <= LAST_YEAR:
                    continue
            else:
                v = round(near * (1 + rng.choice((-1, 1)) * rng.uniform(0.02, spread)))
                if v < 1:
                    continue
            if v not in pool.used:
                return v
        return None


def build_world(rng: random.Random, *, people: int = 24, towns: int = 12, companies: int = 8,
                regions: int = 5) -> World:
    """A world drawn from ``rng`` alone. About a third of the people share a surname with someone, companies share
    industries and towns share regions, so every entity has look-alike neighbours."""
    if people < companies:
        raise ParamError(f"a world of {companies} companies needs at least as many people (founders)")
    names = NameBook(rng)
    years, counts = Distinct(rng), Distinct(rng)
    region_names = [names.region() for _ in range(regions)]
    town_list = [Town(names.town(), rng.choice(region_names), years.draw(1150, 1890), counts.draw(900, 480_000))
                 for _ in range(towns)]
    surnames = [names.surname() for _ in range(max(1, people // 6))]
    person_names = [names.person(rng.choice(surnames) if rng.random() < 0.35 else None) for _ in range(people)]
    births = {n: years.draw(1935, 1995) for n in person_names}
    # Founders were at least 22 when they founded, by 2023: the oldest people are the likeliest founders.
    elder = [n for n in person_names if births[n] <= 1980]
    founders = rng.sample(elder, companies) if len(elder) >= companies else \
        sorted(person_names, key=lambda n: births[n])[:companies]
    company_list = []
    for founder in founders:
        born = births[founder]
        company_list.append(Company(names.company(), years.draw(born + 22, min(born + 62, LAST_YEAR)), founder,
                                    rng.choice(town_list).name, rng.choice(INDUSTRIES), counts.draw(12, 60_000)))
    founded_by = {c.founder: c.name for c in company_list}
    people_list = []
    for n in person_names:
        # A founder works at their own company; anyone else at a company founded before they turned 56, if any.
        open_ = [c.name for c in company_list if c.founded <= births[n] + 55] or [c.name for c in company_list]
        employer = founded_by.get(n) or rng.choice(open_)
        people_list.append(Person(n, births[n], rng.choice(town_list).name, rng.choice(PROFESSIONS), employer))
    return World({p.name: p for p in people_list}, {t.name: t for t in town_list},
                 {c.name: c for c in company_list}, region_names, names, years, counts)


@functools.lru_cache(maxsize=None)
def phrasings(relation_id: str) -> tuple[str, ...]:
    """Every phrasing of a relation's facts (``{{ subject }}`` and ``{{ value }}`` or ``{{ a_value }}``)."""
    return frame_lines(f"{TEMPLATES}/facts/{relation_id}.j2")


def say(fact: Fact, frame: str) -> str:
    """One fact in one phrasing."""
    text = fact.text
    return render_frame(frame, subject=fact.subject, value=text,
                        a_value=article(text) if "a_value" in frame else text)


def verbalize(fact: Fact, rng: random.Random) -> str:
    """One fact in a phrasing drawn from ``rng``."""
    return say(fact, rng.choice(phrasings(fact.relation.id)))


@functools.lru_cache(maxsize=None)
def record_frames(kind: str) -> tuple[str, ...]:
    """The canonical record of a kind: a header line (``{{ name }}``), then one line per relation, in order."""
    return frame_lines(f"{TEMPLATES}/records/{kind}.j2")


def record(world: World, name: str) -> str:
    """The entity's record, one line per attribute (no trailing newline)."""
    entity = world.entity(name)
    lines = record_frames(entity.kind)
    values = {f.relation.name: f.text for f in world.facts(name)}
    return "\n".join([render_frame(lines[0], name=name)] + [render_frame(line, **values) for line in lines[1:]])
