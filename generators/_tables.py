"""The databases of holistic-queries, as data: four domains of three tables, seeded values, rows and their sentences.

A domain has a *fact* table (queried, and joined to its *dim* table through a key column) and an *other* table
(queried on its own, or filler). Every value a row can hold has a regular expression, so the oracle reads rows
back with the same frame lines the generator writes them with (``templates/holistic_queries/rows/<table>.j2``).
Names and cities come from a seeded Faker; categories are fixed lists; keys never repeat within a sample, and
every key space is large (tens of thousands or more): the exact-length engine needs filler whose kinds of rows
never run out (a table that stopped mid-text would take its row sizes with it), so none is a short fixed list.
"""

from __future__ import annotations

import functools
import random
import re
from dataclasses import dataclass

from lcgen.frames import frame_lines, frame_regex, render_frame

TEMPLATES = "holistic_queries"
WORD = r"[A-Z][a-z]+"


@dataclass(frozen=True)
class Column:
    """One column. ``kind``: person, words, code, choice, city or int; ints render with thousands separators
    when ``grouped``. ``filter``: may appear in a condition; ``group``: plural label when rows can be grouped by it;
    ``agg``: may be aggregated (``sum`` too when a total means something)."""

    name: str
    label: str
    kind: str
    values: tuple[str, ...] = ()
    lo: int = 0
    hi: int = 0
    step: int = 1
    grouped: bool = False
    code: str = ""  # kind code: "#" a digit, "@" a capital letter
    words: tuple[tuple[str, ...], ...] = ()  # kind words: one list per word position ("last": a surname)
    ref: str = ""  # the table whose key this column holds
    filter: bool = False
    group: str = ""
    agg: bool = False
    sum: bool = False

    def grid(self) -> int:
        return (self.hi - self.lo) // self.step + 1


@dataclass(frozen=True)
class Table:
    name: str
    entity: str
    entities: str
    key: str
    key_label: str
    role: str  # fact | dim | other
    columns: tuple[Column, ...]
    fk: str = ""  # fact tables: the column that holds the dim table's key

    def col(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


@dataclass(frozen=True)
class Domain:
    name: str
    label: str
    fact: Table
    dim: Table
    other: Table

    @property
    def tables(self) -> tuple[Table, Table, Table]:
        return (self.fact, self.dim, self.other)


def _person(name, label="name", **kw):
    return Column(name, label, "person", **kw)


def _choice(name, label, values, **kw):
    return Column(name, label, "choice", values=tuple(values), filter=kw.pop("filter", True), **kw)


def _int(name, label, lo, hi, step=1, grouped=False, sum=False, agg=True):
    return Column(name, label, "int", lo=lo, hi=hi, step=step, grouped=grouped, filter=True, agg=agg, sum=sum)


CITIES = ("Atlanta", "Austin", "Baltimore", "Boston", "Charlotte", "Chicago", "Cleveland", "Columbus", "Dallas",
          "Denver", "Detroit", "Houston", "Indianapolis", "Las Vegas", "Memphis", "Miami", "Minneapolis", "Nashville",
          "Philadelphia", "Phoenix", "Pittsburgh", "Portland", "Sacramento", "San Diego", "Seattle", "Tampa")
DEPARTMENTS = ("Accounting", "Advertising", "Analytics", "Billing", "Communications", "Compliance", "Customer Support",
               "Data Science", "Design", "Engineering", "Facilities", "Finance", "Human Resources", "Infrastructure",
               "Investor Relations", "Legal", "Logistics", "Maintenance", "Marketing", "Media Relations", "Operations",
               "Partnerships", "Payroll", "Procurement", "Product", "Public Affairs", "Quality Assurance",
               "Recruiting", "Research", "Risk", "Sales", "Security", "Strategy", "Supply Chain", "Tax", "Training",
               "Treasury", "Web Development")
TITLES = ("Analyst", "Associate", "Coordinator", "Consultant", "Director", "Engineer", "Manager", "Specialist",
          "Technician", "Administrator", "Designer", "Supervisor")
AIRLINES = ("Northwind Air", "Blue Horizon", "Skyline Airways", "Pacific Crest", "Atlas Jet", "Summit Air",
            "Coastal Airlines", "Meridian Airways", "Silverline", "Aurora Air", "Cascade Airlines", "Zephyr Air")
REGIONS = ("Napa Valley", "Sonoma Coast", "Willamette Valley", "Finger Lakes", "Paso Robles", "Columbia Valley",
           "Bordeaux", "Burgundy", "Champagne", "Alsace", "Loire Valley", "Rhone Valley", "Provence", "Rioja",
           "Ribera del Duero", "Priorat", "Tuscany", "Piedmont", "Veneto", "Sicily", "Mosel", "Rheingau",
           "Douro Valley", "Barossa Valley", "McLaren Vale", "Hunter Valley", "Yarra Valley", "Margaret River",
           "Marlborough", "Central Otago", "Mendoza", "Maipo Valley", "Colchagua Valley", "Stellenbosch", "Tokaj",
           "Wachau")
ADJECTIVES = ("Amber", "Ancient", "Azure", "Bold", "Brave", "Bright", "Broad", "Calm", "Clear", "Copper", "Crimson",
              "Crystal", "Deep", "Dusky", "Early", "Emerald", "Fair", "Gentle", "Golden", "Grand", "Green", "Hidden",
              "High", "Iron", "Ivory", "Jade", "Little", "Lone", "Lucky", "Misty", "Noble", "Northern", "Old", "Proud",
              "Quiet", "Rapid", "Royal", "Rustic", "Scarlet", "Secret", "Silent", "Silver", "Stone", "Sunny", "Swift",
              "Tall", "Velvet", "Wild", "Windy", "Winter")
NOUNS = ("Anchor", "Arrow", "Aspen", "Bay", "Bear", "Birch", "Bluff", "Brook", "Canyon", "Cedar", "Cliff", "Cloud",
         "Comet", "Creek", "Crest", "Dune", "Eagle", "Falcon", "Fern", "Field", "Forest", "Fox", "Glade", "Grove",
         "Harbor", "Hawk", "Heron", "Hill", "Island", "Lake", "Maple", "Meadow", "Mesa", "Moon", "Oak", "Orchard",
         "Otter", "Peak", "Pine", "Prairie", "Raven", "Reef", "Ridge", "River", "Rock", "Spring", "Star", "Summit",
         "Valley", "Willow")
GREEK = ("Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta", "Theta", "Kappa", "Lambda", "Sigma", "Omega", "Nova")
CUVEES = ("Reserve", "Estate", "Selection", "Classic", "Cuvee", "Vineyard", "Harvest", "Signature", "Heritage",
          "Blend", "Collection", "Legacy")
MATERIALS = ("Bamboo", "Brass", "Canvas", "Ceramic", "Copper", "Cotton", "Glass", "Leather", "Linen", "Maple",
             "Marble", "Oak", "Steel", "Walnut", "Wool")
ITEMS = ("Basket", "Blender", "Bottle", "Bowl", "Candle", "Chair", "Clock", "Desk", "Fan", "Frame", "Heater",
         "Jacket", "Kettle", "Lamp", "Mirror", "Mug", "Notebook", "Pillow", "Planter", "Rug", "Shelf", "Speaker",
         "Stool", "Table", "Teapot", "Toaster", "Towel", "Tray", "Vase", "Wallet")

COUNTRIES = ("Canada", "Mexico", "Brazil", "Chile", "Argentina", "Peru", "France", "Germany", "Spain", "Italy",
             "Portugal", "Norway", "Sweden", "Japan", "India", "Kenya", "Egypt", "Australia", "New Zealand", "Iceland")
_FACT_EMPLOYEES = Table("employees", "employee", "employees", "name", "name", "fact", (
    _person("name"),
    _choice("department", "department", DEPARTMENTS, group="departments"),
    Column("office", "office", "code", code="OF-#####", ref="offices"),
    _choice("title", "job title", TITLES, group="job titles"),
    _int("salary", "salary", 30000, 250000, 10, grouped=True, sum=True),
    _int("age", "age", 21, 67),
    _int("hired", "hiring year", 1990, 2024),
), fk="office")
_DIM_OFFICES = Table("offices", "office", "offices", "office", "office code", "dim", (
    Column("office", "office code", "code", code="OF-#####"),
    _choice("city", "city", CITIES),
    _person("manager", "manager"),
    _int("floor", "floor", 1, 60),
    _int("desks", "desk count", 10, 900),
    _int("opened", "opening year", 1970, 2024),
))
_OTHER_PROJECTS = Table("projects", "project", "projects", "project", "name", "other", (
    Column("project", "name", "words", words=(ADJECTIVES, NOUNS, GREEK)),
    _person("lead", "lead"),
    _choice("department", "department", DEPARTMENTS, group="departments"),
    _choice("status", "status", ("planned", "active", "paused", "completed", "cancelled"), group="statuses"),
    _int("budget", "budget", 5000, 2000000, 100, grouped=True, sum=True),
    _int("team", "team size", 2, 80, sum=True),
    _int("started", "start year", 2010, 2025),
))
_FACT_ORDERS = Table("orders", "order", "orders", "order_no", "order number", "fact", (
    Column("order_no", "order number", "code", code="ORD-######"),
    _person("customer", "customer", ref="customers"),
    _choice("store", "store", CITIES, group="stores"),
    _choice("channel", "channel", ("online", "phone", "kiosk", "mobile app", "catalog"), group="channels"),
    _int("quantity", "quantity", 2, 90, sum=True),
    _int("total", "order total", 5, 20000, grouped=True, sum=True),
    _int("order_year", "order year", 2015, 2025),
), fk="customer")
_DIM_CUSTOMERS = Table("customers", "customer", "customers", "customer", "name", "dim", (
    _person("customer"),
    _choice("city", "city", CITIES),
    _choice("tier", "tier", ("Bronze", "Silver", "Gold", "Platinum")),
    _int("age", "age", 18, 95),
    _int("joined", "joining year", 1995, 2025),
    _int("points", "loyalty points", 0, 250000, grouped=True),
))
_OTHER_PRODUCTS = Table("products", "product", "products", "product", "name", "other", (
    Column("product", "name", "words", words=(ADJECTIVES, MATERIALS, ITEMS)),
    _choice("category", "category", ("books", "electronics", "furniture", "garden", "groceries", "kitchen", "music",
                                     "office supplies", "outdoor gear", "pet supplies", "sports", "toys", "beauty",
                                     "tools"), group="categories"),
    _choice("brand", "brand", ("Acme", "Brightline", "Cobalt", "Dunmore", "Everfield", "Foxglove", "Granite",
                               "Halcyon", "Ironwood", "Juniper", "Kestrel", "Lumen"), group="brands"),
    _int("price", "price", 1, 5000, grouped=True, sum=True),
    _int("stock", "stock", 2, 2000, grouped=True, sum=True),
    _int("weight", "weight", 50, 40000, grouped=True, sum=True),
))
_FACT_FLIGHTS = Table("flights", "flight", "flights", "flight", "flight number", "fact", (
    Column("flight", "flight number", "code", code="@@ ####"),
    _choice("airline", "airline", AIRLINES, group="airlines"),
    Column("origin", "origin", "code", code="@@@", ref="airports"),
    Column("destination", "destination", "code", code="@@@"),
    _choice("month", "month", ("January", "February", "March", "April", "May", "June", "July", "August",
                               "September", "October", "November", "December"), group="months"),
    _int("distance", "distance", 100, 9500, grouped=True, sum=True),
    _int("passengers", "passenger count", 20, 480, sum=True),
    _int("delay", "delay", 0, 400, sum=True),
), fk="origin")
_DIM_AIRPORTS = Table("airports", "airport", "airports", "code", "code", "dim", (
    Column("code", "code", "code", code="@@@"),
    Column("city", "city", "city"),
    _choice("country", "country", COUNTRIES),
    _int("runways", "runway count", 2, 9),
    _int("gates", "gate count", 2, 180),
    _int("elevation", "elevation", 0, 12000, grouped=True),
))
_OTHER_AIRCRAFT = Table("aircraft", "aircraft", "aircraft", "tail", "tail number", "other", (
    Column("tail", "tail number", "code", code="N###@@"),
    _choice("model", "model", ("Airbus A220", "Airbus A320", "Airbus A321", "Airbus A330", "Airbus A350",
                               "Boeing 737", "Boeing 757", "Boeing 767", "Boeing 777", "Boeing 787", "Embraer E175",
                               "Embraer E190"), group="models"),
    _choice("operator", "operator", AIRLINES, group="operators"),
    _int("seats", "seat count", 40, 520, sum=True),
    _int("built", "build year", 1985, 2025),
    _int("hours", "flight hours", 500, 150000, grouped=True, sum=True),
))
_WINERY_NAMES = (("last",), NOUNS, ("Estate", "Cellars", "Vineyards", "Winery", "Vintners", "Farms", "Hills", "Ranch"))
_FACT_WINES = Table("wines", "wine", "wines", "wine", "name", "fact", (
    Column("wine", "name", "words", words=(ADJECTIVES, NOUNS, CUVEES)),
    Column("winery", "winery", "words", words=_WINERY_NAMES, ref="wineries"),
    _choice("grape", "grape", ("Cabernet Sauvignon", "Merlot", "Pinot Noir", "Syrah", "Zinfandel", "Malbec",
                               "Tempranillo", "Sangiovese", "Grenache", "Nebbiolo", "Chardonnay", "Sauvignon Blanc",
                               "Riesling", "Pinot Grigio", "Chenin Blanc", "Viognier", "Gamay", "Carmenere"),
            group="grapes"),
    _choice("region", "region", REGIONS, group="regions"),
    _int("vintage", "vintage", 1985, 2023),
    _int("price", "price", 8, 3000, grouped=True, sum=True),
    _int("score", "score", 70, 100),
), fk="winery")
_DIM_WINERIES = Table("wineries", "winery", "wineries", "winery", "name", "dim", (
    Column("winery", "name", "words", words=_WINERY_NAMES),
    _person("owner", "owner"),
    _choice("region", "region", REGIONS),
    _choice("style", "farming style", ("organic", "biodynamic", "conventional", "sustainable", "regenerative")),
    _int("founded", "founding year", 1800, 2022),
    _int("acres", "acreage", 5, 5000, grouped=True),
))
_OTHER_SHIPMENTS = Table("shipments", "shipment", "shipments", "shipment", "shipment number", "other", (
    Column("shipment", "shipment number", "code", code="SHP-######"),
    _person("importer", "importer"),
    _choice("country", "country", COUNTRIES, group="countries"),
    _choice("mode", "transport mode", ("sea", "air", "rail", "road"), group="transport modes"),
    _int("cases", "case count", 10, 5000, grouped=True, sum=True),
    _int("shipped", "shipping year", 2000, 2025),
    _int("worth", "declared value", 100, 900000, grouped=True, sum=True),
))

DOMAINS = {
    "company": Domain("company", "company", _FACT_EMPLOYEES, _DIM_OFFICES, _OTHER_PROJECTS),
    "retail": Domain("retail", "retail", _FACT_ORDERS, _DIM_CUSTOMERS, _OTHER_PRODUCTS),
    "aviation": Domain("aviation", "aviation", _FACT_FLIGHTS, _DIM_AIRPORTS, _OTHER_AIRCRAFT),
    "wine": Domain("wine", "wine", _FACT_WINES, _DIM_WINERIES, _OTHER_SHIPMENTS),
}
TABLES = {t.name: t for d in DOMAINS.values() for t in d.tables}
DOMAIN_OF = {t.name: d for d in DOMAINS.values() for t in d.tables}


# --- text -------------------------------------------------------------------------------------------------------


def row_frames(table: str) -> tuple[str, ...]:
    return frame_lines(f"{TEMPLATES}/rows/{table}.j2")


def keyed_lines(name: str) -> dict[str, str]:
    """A ``<key> | <text>`` template as a dict (condition phrases, question frames, answer instructions)."""
    out = {}
    for line in frame_lines(f"{TEMPLATES}/{name}.j2"):
        key, _, text = line.partition(" | ")
        out[key.strip()] = text.strip()
    return out


def condition_frames(table: str) -> dict[tuple[str, str], str]:
    """(column, op) -> phrase, for the conditions a question can put on ``table``."""
    return {tuple(k.split()): v for k, v in keyed_lines(f"conditions/{table}").items()}


def value_pattern(col: Column) -> str:
    """A regex that matches exactly the values ``col`` can render."""
    if col.kind == "person":
        return rf"{WORD} {WORD}"
    if col.kind == "city":
        return rf"{WORD}(?: {WORD})*"
    if col.kind == "words":
        return " ".join([WORD] * len(col.words))
    if col.kind == "code":
        return "".join(r"\d" if c == "#" else "[A-Z]" if c == "@" else re.escape(c) for c in col.code)
    if col.kind == "choice":
        return "|".join(re.escape(v) for v in sorted(col.values, key=len, reverse=True))
    return r"\d{1,3}(?:,\d{3})*" if col.grouped else r"\d+"


def render_value(col: Column, value: int | str) -> str:
    return f"{value:,}" if col.kind == "int" and col.grouped else str(value)


def parse_value(col: Column, text: str) -> int | str:
    return int(text.replace(",", "")) if col.kind == "int" else text


@functools.lru_cache(maxsize=None)
def row_regexes(table: str) -> tuple[re.Pattern[str], ...]:
    t = TABLES[table]
    fill = {c.name: value_pattern(c) for c in t.columns}
    return tuple(frame_regex(f, fill) for f in row_frames(table))


def sentence(table: Table, row: dict, rng: random.Random) -> str:
    """One row as one sentence, in a phrasing chosen for this row."""
    frame = rng.choice(row_frames(table.name))
    return render_frame(frame, **{c.name: render_value(c, row[c.name]) for c in table.columns})


# --- values -----------------------------------------------------------------------------------------------------


class Pools:
    """Per-sample name and city pools from a seeded Faker (``faker`` is pinned exactly: its output is data).

    Names are a uniform sample, drawn by the seeded instance, of the locale's own first- and last-name lists (one
    call, not thousands of weighted draws); cities come from the locale's city formats."""

    def __init__(self, rng: random.Random, firsts: int = 400, lasts: int = 500, cities: int = 150):
        from faker import Faker
        from faker.providers.person import Provider as PersonProvider

        fake = Faker("en_US")
        fake.seed_instance(rng.getrandbits(64))
        person = next(pr for pr in fake.providers if isinstance(pr, PersonProvider))
        word = re.compile(WORD)
        self.first = tuple(fake.random_sample(tuple(n for n in person.first_names if word.fullmatch(n)), firsts))
        self.last = tuple(fake.random_sample(tuple(n for n in person.last_names if word.fullmatch(n)), lasts))
        self.city = _unique(fake.city, cities, rf"{WORD}(?: {WORD})*")


def _unique(draw, n: int, pattern: str) -> tuple[str, ...]:
    out: dict[str, None] = {}
    rx = re.compile(pattern)
    for _ in range(n * 40):
        v = draw()
        if rx.fullmatch(v):
            out[v] = None
            if len(out) == n:
                break
    return tuple(out)


def random_value(col: Column, pools: Pools, rng: random.Random) -> int | str:
    """Any value of ``col`` (keys excepted: those come from :class:`Keys`)."""
    if col.kind == "person":
        return f"{rng.choice(pools.first)} {rng.choice(pools.last)}"
    if col.kind == "city":
        return rng.choice(pools.city)
    if col.kind == "words":
        return " ".join(rng.choice(pools.last if w == ("last",) else w) for w in col.words)
    if col.kind == "code":
        return "".join(str(rng.randrange(10)) if c == "#" else chr(65 + rng.randrange(26)) if c == "@" else c
                       for c in col.code)
    if col.kind == "choice":
        return rng.choice(col.values)
    return col.lo + col.step * rng.randrange(col.grid())


class Keys:
    """Never-repeated key values of one table; ``fresh`` returns None once the table has no more."""

    def __init__(self, col: Column, pools: Pools, rng: random.Random):
        self.col, self.pools, self.rng = col, pools, rng
        self.used: set[str] = set()  # membership only
        self._left = list(col.values) if col.kind == "choice" else None
        if self._left is not None:
            rng.shuffle(self._left)

    def fresh(self) -> str | None:
        if self._left is not None:
            while self._left:
                v = self._left.pop()
                if v not in self.used:
                    self.used.add(v)
                    return v
            return None
        for _ in range(200):
            v = random_value(self.col, self.pools, self.rng)
            if v not in self.used:
                self.used.add(v)
                return v
        return None


def satisfying(col: Column, op: str, value, want: bool, rng: random.Random):
    """A value of ``col`` for which ``<col> <op> <value>`` is ``want``, or None if there is none."""
    if op == "=":
        if want:
            return value
        others = [v for v in col.values if v != value]
        return rng.choice(others) if others else None
    k = (value - col.lo) // col.step  # the threshold's grid index
    if (op == ">") == want:  # need > value (or, failing "<", >= value)
        lo = k + 1 if op == ">" else k
        hi = col.grid() - 1
    else:  # need < value (or, failing ">", <= value)
        lo, hi = 0, (k - 1 if op == "<" else k)
    return None if lo > hi else col.lo + col.step * rng.randint(lo, hi)


def holds(row: dict, column: str, op: str, value) -> bool:
    v = row[column]
    return v == value if op == "=" else v > value if op == ">" else v < value
