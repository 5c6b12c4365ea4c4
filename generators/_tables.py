"""The databases of holistic-queries, as data: four domains of three tables (the schema).

A domain has a *fact* table (queried, and joined to its *dim* table through a key column) and an *other* table
(queried on its own, or filler). Every value a row can hold has a regular expression, so the oracle reads rows
back with the same frame lines the generator writes them with (``_tables_text``, from
``templates/holistic_queries/rows/<table>.j2``). Names and cities come from a seeded Faker (``_tables_values``);
categories are fixed lists (``_tables_words``); keys never repeat within a sample, and every key space is large
(tens of thousands or more): the exact-length engine needs filler whose kinds of rows never run out (a table that
stopped mid-text would take its row sizes with it), so none is a short fixed list.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._tables_words import (
    ADJECTIVES,
    AIRLINES,
    CITIES,
    COUNTRIES,
    CUVEES,
    DEPARTMENTS,
    GREEK,
    ITEMS,
    MATERIALS,
    NOUNS,
    REGIONS,
    TITLES,
)

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
