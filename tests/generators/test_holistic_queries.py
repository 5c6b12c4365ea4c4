"""holistic-queries: every knob across a grid, oracle agreement (sqlite3 vs polars), token positions, densities,
no duplicated rows, distractors that never change the answer, exact length and one-line errors."""

from __future__ import annotations

import importlib
import json
import random
import re

import pytest

from lcgen.errors import ParamError
from lcgen.tokenizer import get_tokenizer
from lcgen.validate import check_row, oracle_input
from tests.generators import rows

VARIANTS = ("selection", "aggregation", "extreme", "group_by", "join")
POSITIONS = ("uniform", "begin", "middle", "end", "bimodal")
DEPTH_FOR = {"uniform": 40.0, "begin": 0.0, "middle": 50.0, "end": 100.0, "bimodal": 100.0}
TOK = "cl100k_base"
ROW_MAX = 50  # tokens: no row sentence is longer (employees, the longest, stay under 48)


@pytest.fixture(scope="module", autouse=True)
def registered():
    """Import the family and its oracle explicitly (at run time, so other modules' registry-wide case lists, built
    at collection, are not changed until the family is added to ``generators/__init__.py``)."""
    gen = importlib.import_module("lcgen.generators.holistic_queries")
    val = importlib.import_module("lcgen.validators.holistic_queries")
    return gen, val


def make_row(variant, length=2500, depth=None, index=0, seed=5, **knobs):
    depth = DEPTH_FOR[knobs.get("position", "uniform")] if depth is None else depth
    return rows.make_row("holistic-queries", variant, length, depth, index, seed, **knobs)


def assert_valid(row):
    """Exact length, check_row clean (answer, items, depths, anchor), and the oracle's density/position checks."""
    from lcgen.validators.holistic_queries import solve

    assert row["length"] == row["target_length"], row["id"]
    problems, _ = check_row(row, {})
    assert problems == [], (row["id"], problems)
    assert solve(oracle_input(row)).problems == [], row["id"]  # density and position against the request


def meta(row):
    return json.loads(row["meta"])


def step_of(variant, fanout):
    return fanout + 1 if variant == "join" else 1


def relevant_offsets(row):
    """The relevant rows' offsets: the needles recorded first (join records after them the rows only the joined
    condition excludes, with the joined rows they point to)."""
    m = meta(row)
    return m["needle_offsets"][: m["relevant"]]


def extra_needles(row):
    """Join: the excluded main-table rows and the joined rows they point to (one per --fanout of them)."""
    m = meta(row)
    return m["join_excluded"] + m["join_excluded"] // m["fanout"] if row["variant"] == "join" else 0


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("position", POSITIONS)
def test_grid_of_knobs_agrees_with_the_oracle(variant, position):
    for i, mode in enumerate(("default", "relevant", "density", "both")):
        predicates = (1 + i % 3) if variant == "join" else i % 4
        knobs = {"position": position, "predicates": predicates, "groups": 2 + i, "fanout": 1 + i % 3}
        step = step_of(variant, knobs["fanout"])
        relevant = -(-7 // step) * step
        if mode == "relevant":
            knobs["relevant"] = relevant
        elif mode == "density":
            knobs["density"] = 0.25
        elif mode == "both":  # a consistent pair: the density those rows take, rounded
            alone = make_row(variant, index=i, relevant=relevant, **knobs)
            knobs.update(relevant=relevant, density=round(meta(alone)["density_measured"], 2))
        row = make_row(variant, index=i, **knobs)
        assert_valid(row)
        m = meta(row)
        assert m["position"] == position and m["predicates"] == predicates
        if mode in ("relevant", "both"):
            assert m["relevant"] == relevant == len(row["depth"]) - extra_needles(row)
        if mode == "density":
            assert abs(m["density_measured"] - 0.25) <= m["density_tolerance"]


@pytest.mark.parametrize("groups", [2, 5, 8])
@pytest.mark.parametrize("aggregate", ["count", "sum", "avg", "max", "min"])
def test_group_by_answers_one_item_per_group(groups, aggregate):
    row = make_row("group_by", index=groups, groups=groups, aggregate=aggregate, relevant=12, predicates=1)
    assert_valid(row)
    items = json.loads(row["answer"])
    assert len(items) == groups == len(row["answers"]) and items == sorted(items)
    assert meta(row)["aggregate"] == aggregate
    if aggregate == "avg":
        assert all(len(x.rsplit(".", 1)[1]) == 2 for x in items)  # two decimals, as the question says


@pytest.mark.parametrize("fanout", [1, 3, 6])
@pytest.mark.parametrize("predicates", [1, 2, 3])
def test_join_fanout_and_predicates(fanout, predicates):
    relevant = 3 * (fanout + 1)
    row = make_row("join", index=predicates, fanout=fanout, predicates=predicates, relevant=relevant)
    assert_valid(row)
    q = meta(row)["query"]
    assert len(q["conds"]) == predicates and q["conds"][0]["table"] != q["table"]  # the first is on the joined table
    assert len(row["answers"]) == 3 * fanout  # three matching joined rows, each with `fanout` main rows


@pytest.mark.parametrize("variant, aggregate", [("aggregation", "count"), ("aggregation", "sum"),
                                                ("aggregation", "avg"), ("extreme", "max"), ("extreme", "min")])
@pytest.mark.parametrize("domain", ["company", "retail", "aviation", "wine"])
def test_every_domain_and_aggregate(variant, aggregate, domain):
    for index in range(2):
        row = make_row(variant, index=index, domain=domain, aggregate=aggregate, predicates=2)
        assert_valid(row)
        assert meta(row)["domain"] == domain
        if aggregate == "avg":
            assert len(row["answer"].split(".")[1]) == 2


@pytest.mark.parametrize("variant", VARIANTS)
def test_relevant_means_rows_that_change_the_answer(variant):
    for n in ([3, 6, 30] if variant == "join" else [3, 5, 40]):
        row = make_row(variant, relevant=n, groups=3, fanout=2, predicates=1, length=4000)
        assert_valid(row)
        assert len(row["depth"]) - extra_needles(row) == n == meta(row)["relevant"]


@pytest.mark.parametrize("domain", ["company", "retail", "aviation", "wine"])
def test_long_context_from_other_tables_only_is_exact(domain):
    """Zero conditions: every row of the queried table is relevant, so all filler comes from the other tables; the
    mix never changes along the text (a table that ran dry mid-text once stalled the exact fill)."""
    for variant in ("aggregation", "extreme"):
        row = make_row(variant, length=24000, domain=domain, predicates=0, relevant=12)
        assert_valid(row)
        assert meta(row)["predicates"] == 0 and len(row["depth"]) == 12


def _relevant_tokens(row):
    """Relevant rows' tokens and the context's, measured on the text (each row ends at its only full stop)."""
    tok = get_tokenizer(TOK)
    text, m = row["input"], meta(row)
    index = tok.index(text)
    offsets = relevant_offsets(row)
    ends = [text.index(".", o) + 1 for o in offsets]
    starts_t, ends_t = index.tokens_at(offsets), index.tokens_at(ends)
    first, last = index.tokens_at(m["context_span"])
    return int((ends_t - starts_t).sum()), int(last - first), starts_t, ends_t, int(first), int(last)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("density", [0.05, 0.3, 0.6])
def test_density_is_the_share_of_context_tokens(variant, density):
    for length in (2000, 6000, 16000):
        row = make_row(variant, length=length, density=density, fanout=1, groups=2, index=length)
        assert_valid(row)
        rel, ctx, *_ = _relevant_tokens(row)
        m = meta(row)
        assert ctx == m["context_tokens"] and rel == m["relevant_tokens"]
        assert m["density_measured"] == pytest.approx(rel / ctx, abs=1e-6)
        one_step = step_of(variant, 1) * ROW_MAX / ctx
        assert abs(rel / ctx - density) <= one_step / 2 + 1e-9  # the closest prefix of relevant rows
        assert m["density_tolerance"] <= one_step


@pytest.mark.parametrize("position", POSITIONS)
def test_position_is_measured_in_tokens(position):
    for index, variant in enumerate(("selection", "group_by", "join")):
        row = make_row(variant, length=8000, density=0.2, position=position, index=index, fanout=1)
        assert_valid(row)
        rel, ctx, starts, ends, first, last = _relevant_tokens(row)
        d0, d1 = 100 * (starts - first) / ctx, 100 * (ends - first) / ctx
        unit = ROW_MAX * 100 / ctx
        n, share = len(starts), 100 * rel / ctx
        contiguous = [bool(ends[i] == starts[i + 1]) for i in range(n - 1)]
        if position == "begin":
            assert d0[0] < 1 and all(contiguous) and d1[-1] <= share + unit
        elif position == "end":
            assert all(contiguous) and d1[-1] > 100 - 1 and d0[0] >= 100 - share - unit
        elif position == "middle":  # centred (HoloBench's "middle" starts after half a main block)
            assert all(contiguous) and abs((d0[0] + d1[-1]) / 2 - 50) <= unit
        elif position == "bimodal":  # really two blocks (HoloBench's collapses into "begin")
            half = (n + 1) // 2
            assert all(contiguous[: half - 1]) and all(contiguous[half:])
            assert d0[0] < 1 and d1[-1] > 99 and not contiguous[half - 1]
            assert d0[half] - d1[half - 1] >= 100 - share - unit
        else:
            gaps = [b - a for a, b in zip(d0, d0[1:])]
            assert max(abs(g - 100 / n) for g in gaps) <= 2 * unit
            assert min(abs(d - row["target_depth"]) for d in d0) <= unit


def _parse_all(row):
    """(table, values, offset) of every row in the context, via the frames' own patterns."""
    from lcgen.generators._tables import TABLES
    from lcgen.generators._tables_text import parse_value, row_regexes

    text, m = row["input"], meta(row)
    lo, hi = m["context_span"][0] + len("<records>"), m["context_span"][1] - len(" </records>")
    out = []
    for mt in re.finditer(r" ([^.]*\.)", text[lo:hi]):  # a row ends at its only full stop
        hits = [(name, x) for name in TABLES for rx in row_regexes(name) if (x := rx.fullmatch(mt.group(1)))]
        assert len(hits) == 1, mt.group(1)
        name, x = hits[0]
        out.append((name, {c.name: parse_value(c, x.group(c.name)) for c in TABLES[name].columns}, lo + mt.start()))
    assert sum(len(mt.group(0)) for mt in re.finditer(r" ([^.]*\.)", text[lo:hi])) == hi - lo  # rows only
    return out


def _polars(sql, rows, domain):
    import polars as pl

    from lcgen.generators._tables import DOMAINS

    frames = {t.name: pl.DataFrame({c.name: [r[c.name] for n, r, _ in rows if n == t.name] for c in t.columns},
                                   schema={c.name: pl.Int64 if c.kind == "int" else pl.String for c in t.columns})
              for t in DOMAINS[domain].tables}
    return pl.SQLContext(frames=frames, eager=True).execute(sql).rows()


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_duplicates_and_distractors_never_change_the_answer(variant):
    for index, predicates in enumerate((1, 2, 3) if variant == "join" else (0, 1, 3)):
        row = make_row(variant, length=6000, density=0.15, predicates=predicates, index=index, fanout=2)
        assert_valid(row)
        m = meta(row)
        rows = _parse_all(row)
        keys = [(name, values[_key(name)]) for name, values, _ in rows]
        assert len(keys) == len(set(keys))  # no row twice, anywhere
        relevant = set(relevant_offsets(row))
        assert relevant <= {o for _, _, o in rows}
        mine = [r for r in rows if r[2] in relevant]
        others = [r for r in rows if r[2] not in relevant]
        assert len(mine) == m["relevant"] and len(others) > 0
        everything = _polars(m["sql"], rows, m["domain"])
        assert everything == _polars(m["sql"], mine, m["domain"])  # polars over all rows present: same answer
        alone = _polars(m["sql"], others, m["domain"])  # the query over the distractors alone finds nothing
        assert alone in ([], [(0,)], [(None,)]), alone
        same_table = sum(1 for n, _, _ in others if n == m["table"])
        if predicates:
            assert same_table > 0  # near misses of the queried table, not only other tables


def _key(name):
    from lcgen.generators._tables import TABLES

    return TABLES[name].key


def test_same_seed_same_bytes_other_seed_other_bytes():
    a = make_row("join", seed=11, density=0.2)
    assert make_row("join", seed=11, density=0.2) == a
    assert make_row("join", seed=12, density=0.2)["input"] != a["input"]


def test_plan_takes_the_samples_tokenizer(registered):
    """Once the core passes ``tokenizer=``, densities are in that tokenizer's tokens (called directly here)."""
    from lcgen.assemble import assemble

    gen, _ = registered
    tok = get_tokenizer("o200k_base")
    p = gen.HolisticQueriesParams(density=0.3)
    sp = gen.holistic_queries(p, "selection", 40.0, random.Random(3), length=5000, tokenizer=tok)
    built = assemble(tok, 5000, sp.plan)
    assert built.length == 5000
    rel = sum(tok.counts([n.text for n in sp.plan.needles]))
    assert abs(rel / built.context_tokens - 0.3) <= ROW_MAX / 2 / built.context_tokens


IMPOSSIBLE = [  # (variant, knobs, length, the sample's depth, message)
    ("aggregation", {"aggregate": "max"}, 3000, 50.0, "--aggregate: max does not apply to aggregation"),
    ("extreme", {"aggregate": "count"}, 3000, 50.0, "--aggregate: count does not apply to extreme"),
    ("selection", {"aggregate": "sum"}, 3000, 50.0, "--aggregate: sum does not apply to selection"),
    ("join", {"predicates": 0}, 3000, 50.0, "--predicates: join needs at least 1"),
    ("join", {"relevant": 10, "fanout": 2}, 3000, 50.0, "--relevant: 10 is not a multiple of 3"),
    ("group_by", {"relevant": 3, "groups": 5}, 3000, 50.0, "--relevant: 3 is fewer than --groups 5"),
    ("selection", {"density": 0.002}, 3000, 50.0, "--density: 0.002 of the"),
    ("group_by", {"density": 0.01, "groups": 8}, 3000, 50.0, "--density: 0.01 of the"),
    ("selection", {"relevant": 40, "density": 0.05}, 3000, 50.0, "--relevant 40 and --density 0.05 disagree"),
    ("selection", {"relevant": 400}, 3000, 50.0, "--relevant: 400 rows would take more than"),
    ("selection", {"position": "begin", "density": 0.1}, 3000, 50.0, "--depths: 50 is outside"),
    ("selection", {"position": "middle", "density": 0.1}, 3000, 10.0, "--depths: 10 is outside"),
]


@pytest.mark.parametrize("variant, knobs, length, depth, message", IMPOSSIBLE)
def test_impossible_combinations_are_one_line_errors(variant, knobs, length, depth, message):
    with pytest.raises(ParamError) as err:
        make_row(variant, length=length, depth=depth, **knobs)
    text = str(err.value)
    assert message in text and "\n" not in text, text


def test_plan_needs_a_length(registered):
    gen, _ = registered
    with pytest.raises(ParamError, match="--len"):
        gen.holistic_queries(gen.HolisticQueriesParams(), "selection", 0.0, random.Random(0))


def test_oracle_catches_planted_faults():
    row = make_row("selection", length=3000, predicates=1, relevant=4)
    assert_valid(row)
    rows = _parse_all(row)
    m = meta(row)
    text = row["input"]
    start = m["context_span"][0] + len("<records>")
    first_end = text.index(". ", start) + 1
    first = text[start:first_end]
    # A row twice.
    dup = dict(row, input=text[:first_end] + first + text[first_end:])
    assert any("duplicated row" in p for p in check_row(dup, {})[0])
    # A sentence no frame reads.
    odd = dict(row, input=text[:first_end] + " The weather was fine that day." + text[first_end:])
    assert any("unparseable" in p for p in check_row(odd, {})[0])
    # A relevant row under a new key: the query now sees one more row, so the answers disagree.
    rel = next(o for o in m["needle_offsets"])
    sentence = text[rel: text.index(".", rel) + 1]
    name, values, _ = next(r for r in rows if r[2] == rel)
    key = values[_key(name)]
    last = key[-1]
    other = str((int(last) + 1) % 10) if last.isdigit() else ("y" if last == "z" else "z") if last.islower() else (
        "Y" if last == "Z" else "Z")
    planted = sentence.replace(key, key[:-1] + other)  # the same pattern, a new key
    extra = dict(row, input=text[:first_end] + planted + text[first_end:])
    problems = check_row(extra, {})[0]
    assert "oracle answer differs from `answer`" in problems


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_distractor_is_checked_against_the_query(registered, variant):
    """The filler checks each row it makes: thousands pass, and a row the query would read is refused."""
    from lcgen.generators._tables import TABLES
    from lcgen.generators._tables_text import parse_value, row_regexes

    gen, _ = registered
    p = gen.HolisticQueriesParams(predicates=2, relevant=6 if variant == "join" else 5)
    sp = gen.holistic_queries(p, variant, 40.0, random.Random(9), length=4000)
    filler = sp.plan.filler
    assert len(set(filler.draw_many(3000))) == 3000  # all distinct, none would change the answer
    text = sp.plan.needles[0].text[1:]
    name, x = next((n, x) for n in TABLES for rx in row_regexes(n) if (x := rx.fullmatch(text)))
    relevant = {c.name: parse_value(c, x.group(c.name)) for c in TABLES[name].columns}
    assert filler.affects(name, relevant)
    filler.makers = [(lambda: (name, relevant), 1.0)]
    with pytest.raises(RuntimeError, match="would change the answer"):
        filler.draw()


@pytest.mark.parametrize("variant, knobs, length, depth, message", IMPOSSIBLE[:6])
def test_knobs_that_contradict_the_variant_are_refused_before_any_sample(variant, knobs, length, depth, message):
    """The family's declared pre-flight check: `lcgen make` refuses these before it plans a sample."""
    from lcgen.make import MakeRequest

    with pytest.raises(ParamError, match=re.escape(message)):
        MakeRequest(family="holistic-queries", lengths=[length], variants=[variant], overrides=knobs).check()
