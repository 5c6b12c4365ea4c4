"""tsort: exact length, the order recoverable from a chronicle's dates, the oracle's source channel catching every
corrupted sample, corpora of real documents, model tokenizers, and the strict metric (docs/tsort.md)."""

from __future__ import annotations

import json
import random
import re

import pytest

from lcgen.errors import HaystackError
from lcgen.generators.tsort import _shuffle
from lcgen.validate import check_row
from lcgen.validators.metrics.tsort import score_reply
from tests.generators.rows import make_row

DATE = re.compile(r"On (\d{1,2}) (\w+) (\d{4}), ")
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


def _parts(row: dict) -> dict[int, str]:
    return {int(n): text for n, text in re.findall(r"Part (\d+):(.*?)(?=\n\n| </text>)", row["input"], re.S)}


@pytest.mark.parametrize("length, knobs", [(2_000, {}), (4_000, {"segments": 9, "context_sentences": 0}),
                                           (3_000, {"lang": "zh", "segments": 5})])
def test_exact_and_solved_through_the_source(length, knobs):
    row = make_row("tsort", "order", length, 0.0, 0, 3, "procedural", **knobs)
    assert row["length"] == row["target_length"] == length
    assert check_row(row, {})[0] == []
    meta = json.loads(row["meta"])
    order = json.loads(row["answer"])
    assert sorted(order) == list(range(1, meta["segments"] + 1)) and order != sorted(order)
    assert meta["source"] == "chronicle" and len(meta["part_tokens"]) == meta["segments"]


def test_every_part_opens_with_a_date_and_the_dates_give_the_order():
    """The recoverability criterion of the default source, read here with a regex of its own."""
    for seed in range(3):
        row = make_row("tsort", "order", 3_000, 0.0, 0, seed, "procedural", segments=6)
        dates = {}
        for n, text in _parts(row).items():
            m = DATE.match(text.lstrip())
            assert m, f"part {n} opens without a date: {text[:60]!r}"
            dates[n] = (int(m[3]), MONTHS.index(m[2]), int(m[1]))
        assert sorted(dates, key=dates.get) == json.loads(row["answer"])


def test_the_oracle_catches_a_wrong_order_a_moved_sentence_and_a_broken_date():
    row = make_row("tsort", "order", 3_000, 0.0, 0, 4, "procedural", segments=4)
    wrong = dict(row, answer=json.dumps(sorted(json.loads(row["answer"]))))
    assert "oracle answer differs from `answer`" in check_row(wrong, {})[0]
    parts = _parts(row)
    first, second = parts[1], parts[2]
    moved_sentence = first.rsplit(". ", 1)[1]
    shuffled = row["input"].replace(first, first[: -len(moved_sentence) - 1]).replace(
        second, second + " " + moved_sentence)
    problems = check_row(dict(row, input=shuffled), {})[0]
    assert "the parts are not found in any document the sample's source regenerates" in problems


def test_a_chronicle_whose_dates_do_not_give_the_order_is_refused(monkeypatch):
    """Dates running backwards: the source still places the parts, but the text alone no longer orders them."""
    from lcgen.generators import _chronicle

    real = _chronicle.chronicle

    def backwards(rng, lang):
        for entry in real(rng, lang):
            m = DATE.match(entry.sentences[0])
            back = f"On {29 - int(m[1])} {MONTHS[11 - MONTHS.index(m[2])]} {4000 - int(m[3])}, "
            yield _chronicle.Entry(entry.date, [entry.sentences[0].replace(m[0], back, 1), *entry.sentences[1:]])

    monkeypatch.setattr(_chronicle, "chronicle", backwards)
    row = make_row("tsort", "order", 3_000, 0.0, 0, 4, "procedural", segments=4)
    problems = check_row(row, {})[0]
    assert any("opening dates give the order" in p for p in problems), problems


def test_a_corpus_of_documents(tmp_path):
    rng = random.Random(0)
    words = "the river house old man walked said quietly under bright morning letter road town field".split()
    book = tmp_path / "book.txt"
    book.write_text(" ".join(" ".join(rng.choice(words) for _ in range(rng.randint(5, 20))).capitalize()
                             + f" number {i}." for i in range(600)))
    row = make_row("tsort", "order", 3_000, 0.0, 0, 1, f"files:{book}")
    assert row["length"] == 3_000 and check_row(row, {})[0] == []
    assert json.loads(row["meta"])["source"] == "corpus" and json.loads(row["meta"])["document"]["sha256"]
    with pytest.raises(HaystackError, match="no document of the corpus has a passage"):
        make_row("tsort", "order", 40_000, 0.0, 0, 1, f"files:{book}")


def test_model_tokenizer_with_a_chat_template(tmp_path):
    from lcgen.make import MakeRequest, make
    from lcgen.tests.tokenizer_models import model_folder
    from lcgen.validate import validate

    folder = model_folder(tmp_path / "models", "gemma", "unigram")  # SentencePiece-like: the hard case
    out = tmp_path / "ds"
    make(MakeRequest(family="tsort", lengths=[2_500], seed=2, tokenizer=str(folder), chat_template="auto"), out,
         workers=1)
    assert validate(out)[1] == 0


def test_the_shown_order_is_never_the_original():
    rng = random.Random(5)
    seen = {tuple(_shuffle(rng, 3)) for _ in range(300)}
    assert seen == {(0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)}


@pytest.mark.parametrize("reply, strict, partial", [
    ("[2, 4, 1, 3]", 1, 1), ("Answer: [2,4,1,3]", 1, 1), ("First [1, 2, 3, 4]... Answer: [2, 4, 1, 3]", 1, 1),
    ("Answer: [2, 4, 3, 1]", 0, 1 / 3), ("[4, 1, 3, 2]", 0, 2 / 3),
    ("Answer: []", 0, 0), ("Answer: [2]", 0, 0), ("Answer: {}", 0, 0), ("[2, 4, 1, 3, 9]", 0, 0), ("2413", 0, 0),
    ('"2413"', 0, 0), ("[2, 2, 1, 3]", 0, 0), ("Answer: [2, 4, 1, 3.0]", 0, 0), ("[" * 5000, 0, 0),
])
def test_metric_is_strict_about_permutations(reply, strict, partial):
    assert score_reply(reply, "[2, 4, 1, 3]", ["[2, 4, 1, 3]"], "order") == {"strict": strict, "partial": partial}
