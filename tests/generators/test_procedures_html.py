"""procedures/html_to_tsv: exact length, the TSV within --output-len's tolerance, the oracle agreeing and catching
hand-made defects, the metric's step-by-step scores, and refusals in one line (docs/procedures.md)."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from lcgen.errors import ParamError
from lcgen.make import SampleSpec, build_sample
from lcgen.registry import families
from lcgen.validate import check_row
from lcgen.validators.metrics.procedures import explain, score_reply
from tests.generators.rows import make_row
from tests.tokenizer_models import train_unigram

V = "html_to_tsv"


def _row(length, output_len, seed=0, **knobs):
    return make_row("procedures", V, length, 0.0, 0, seed, output_len=output_len, **knobs)


@pytest.fixture(scope="module")
def small():
    return _row(6000, 2000, seed=1)


@pytest.fixture(scope="module")
def filtered():
    return _row(9000, 800, seed=3, row_filter="always", columns=3)


@pytest.mark.parametrize("length, output_len, seed, knobs", [
    (6000, 2000, 1, {}),
    (9000, 800, 3, {"row_filter": "always", "columns": 3}),
    (8192, 500, 7, {"row_filter": "never", "columns": 8}),
    (12000, 3000, 4, {"columns": 2}),
])
def test_exact_valid_and_within_tolerance(length, output_len, seed, knobs):
    row = _row(length, output_len, seed, **knobs)
    meta = json.loads(row["meta"])
    assert row["length"] == row["target_length"] == length
    assert check_row(row, {})[0] == []
    assert meta["tokenizations"] == 1
    assert abs(meta["output_tokens"] - output_len) <= meta["output_tolerance"]
    lines = row["answer"].split("\n")
    assert lines[0] == "```tsv" and lines[-1] == "```" and len(lines) == meta["rows"] + 3
    assert all(len(line.split("\t")) == meta["columns"] for line in lines[1:-1])
    assert row["question"] in row["input"] and lines[1] in row["question"]


def test_same_seed_same_bytes(small):
    assert _row(6000, 2000, seed=1) == small
    assert _row(6000, 2000, seed=2)["input"] != small["input"]


def test_filter_keeps_matching_rows_in_page_order(filtered):
    meta = json.loads(filtered["meta"])
    assert meta["filtered"] and meta["unmatched_needles"] >= 1
    label, value = re.search(r'whose "(.+)" is "(.*)"\.', filtered["question"]).groups()
    assert label == meta["filter_property"].lower()
    names = [line.split("\t")[0] for line in filtered["answer"].split("\n")[2:-1]]
    at = [re.search(">" + r"\s+".join(map(re.escape, n.split(" "))) + "<", filtered["input"]).start() for n in names]
    assert at == sorted(at)  # page order
    # Items of another value are on the page too: more items than rows.
    page = filtered["input"]
    items = page.count('<tr><td>') if "<table" in page else page.count(f'<div class="{_noun(filtered)}">')
    assert items > meta["rows"]


def _noun(row):
    return re.search(r"of each (.+) on the page", row["question"])[1]


def _steps(row):
    return row["answer"].split("\n")[1:-1]  # header + rows


def _reply(steps, close=True):
    return "```tsv\n" + "\n".join(steps) + ("\n```" if close else "")


def test_reference_scores_one(small):
    assert score_reply(small["answer"], small["answer"], small["answers"], V) == {"strict": 1.0, "partial": 1.0}


def test_partial_scores_at_known_points(small):
    a, ans = small["answer"], small["answers"]
    steps = _steps(small)
    n = len(steps)
    k = n // 2

    def score(reply):
        return score_reply(reply, a, ans, V)

    assert score(_reply(steps[:k], close=False)) == {"strict": 0.0, "partial": k / n}  # truncated generation
    assert "stops after" in explain(_reply(steps[:k]), a, ans, V)
    corrupt = list(steps)
    corrupt[k] = corrupt[k].replace("\t", "\tX", 1)
    assert score(_reply(corrupt)) == {"strict": 0.0, "partial": k / n}
    assert f"step {k + 1} of {n} is wrong" in explain(_reply(corrupt), a, ans, V)
    wrong_header = ["Wrong\t" + steps[0].split("\t", 1)[1], *steps[1:]]
    assert score(_reply(wrong_header)) == {"strict": 0.0, "partial": 0.0}
    messy = "Sure! Here is the table.\n\n```TSV\n\n" + "\n".join(
        "  " + s.replace("\t", " \t  ") + "  \n" for s in steps) + "```\nDone."
    assert score(messy) == {"strict": 1.0, "partial": 1.0}
    assert score(_reply(steps + [steps[-1]])) == {"strict": 0.0, "partial": 1.0}
    swapped = [steps[0], steps[2], steps[1], *steps[3:]]
    assert score(_reply(swapped)) == {"strict": 0.0, "partial": 1 / n}  # order counts
    assert score("I cannot read this page.") == {"strict": 0.0, "partial": 0.0}
    assert "no ```tsv block" in explain("I cannot read this page.", a, ans, V)
    # Without a fence, the tab-separated lines are read; case and entities are compared as written.
    assert score("\n".join(steps)) == {"strict": 1.0, "partial": 1.0}
    assert score(_reply([s.lower() for s in steps]))["partial"] < 1


def test_oracle_catches_edited_and_ambiguous_pages(small):
    text = small["input"]
    first_row = _steps(small)[1].split("\t")
    value = first_row[0].split(" ")[0]
    # An edited value: the oracle's answer differs.
    edited = text.replace(">" + value, ">Q" + value, 1)
    assert "oracle answer differs from `answer`" in check_row(dict(small, input=edited), {})[0]
    # A second copy of an item: two items of one name.
    lines = text.split("\n")
    i = next(j for j, line in enumerate(lines) if ">" + value in line)
    doubled = "\n".join(lines[:i + 1] + [lines[i]] + lines[i + 1:])
    assert "two items have the same name" in check_row(dict(small, input=doubled), {})[0]
    # A tag left open.
    broken = "\n".join(lines[:i] + [lines[i].replace("</td>", "", 1).replace("</span>", "", 1)] + lines[i + 1:])
    assert any("does not close" in p for p in check_row(dict(small, input=broken), {})[0])


def test_oracle_catches_noise_that_reads_as_an_item():
    row = _row(8192, 500, seed=7, row_filter="never")
    meta = json.loads(row["meta"])
    text = row["input"]
    if meta["layout"] == "cards":
        prop = _steps(row)[0].split("\t")[1]
        slug = re.sub(r"[^a-z0-9]+", "-", prop.lower()).strip("-")
        bad = text.replace('<p class="notice">', f'<p class="notice"><span class="{slug}">x</span>', 1)
        assert "could be read as part of" in " ".join(check_row(dict(row, input=bad), {})[0])
    else:
        bad = text.replace('<tr class="divider">', '<tr class="divider"><td>x</td>', 1)
        assert "neither an item nor a note" in " ".join(check_row(dict(row, input=bad), {})[0])


def test_cards_and_table_both_valid():
    layouts = set()
    for seed in range(6):
        row = _row(9000, 600, seed=seed)
        layouts.add(json.loads(row["meta"])["layout"])
        assert check_row(row, {})[0] == []
    assert layouts == {"cards", "table"}


def test_refusals_are_one_line():
    with pytest.raises(ParamError) as err:
        _row(3000, 2000)
    assert "--len" in str(err.value) and "\n" not in str(err.value)


def test_exact_with_a_sentencepiece_like_tokenizer(tmp_path):
    """A Unigram with a Metaspace pre-tokenizer prepends "\u2581" to a text that starts without a space; every item
    and noise block is indented (starts with a space) and so is the context's close, so each counts alone as in
    context and one tokenization is exact, for cards and a table, with non-matching items among the filler."""
    path = str(train_unigram(tmp_path))
    fam = families.get("procedures")
    layouts = set()
    for seed in (0, 2):
        params = dataclasses.asdict(fam.params(**{**fam.variants[V], "output_len": 800, "row_filter": "always"}))
        row = build_sample(SampleSpec("procedures", V, 8_000, 0.0, 0, seed, path, params, None, False))
        row["tokenizer_spec"] = path
        meta = json.loads(row["meta"])
        layouts.add(meta["layout"])
        assert row["length"] == row["target_length"] == 8_000
        assert meta["tokenizations"] == 1 and meta["filtered"]
        assert abs(meta["output_tokens"] - 800) <= meta["output_tolerance"]
        assert check_row(row, {})[0] == []
    assert layouts == {"cards", "table"}
