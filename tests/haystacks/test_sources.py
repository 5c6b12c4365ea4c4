"""Haystack sources: files: and hf:, their one-line errors, determinism and the leakage guard."""

from __future__ import annotations

import random
from itertools import islice
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lcgen.errors import HaystackError
from lcgen.haystack import SentenceUnits, get_haystack
from lcgen.haystacks.files import clean_sentence

DATA = Path(__file__).resolve().parent.parent / "data"
EN = DATA / "corpus_en"


def test_files_source_is_seeded_and_cycles():
    hs = get_haystack(f"files:{EN}")
    a = list(islice(hs.documents(random.Random(1), "en"), 9))
    b = list(islice(hs.documents(random.Random(1), "en"), 9))
    c = list(islice(hs.documents(random.Random(2), "en"), 9))
    assert a == b and a != c
    assert sorted(map(tuple, a[:3])) == sorted(map(tuple, a[3:6]))  # each pass visits every document once
    assert all(s.endswith((".", "!", "?")) for doc in a for s in doc)


def test_fragments_are_dropped():
    assert clean_sentence("Subscribe", "en") == ""
    assert clean_sentence("  A   full\nsentence. ", "en") == "A full sentence."
    assert clean_sentence("茶起源于中国，\n已有数千年的历史。", "zh") == "茶起源于中国，已有数千年的历史。"


def test_avoid_and_reject_drop_sentences():
    hs = get_haystack(f"files:{EN}")
    units = SentenceUnits(hs, random.Random(3), "en", avoid=["levees"], reject=lambda s: "yeast" in s)
    drawn = [units.draw() for _ in range(200)]
    assert not any("levees" in u.lower() or "yeast" in u for u in drawn)
    assert all(u.startswith(" ") for u in drawn) and units.dropped > 0


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: f"files:{d / 'missing'}", "does not exist"),
        (lambda d: (d / "bin.txt").write_bytes(b"abc\x00def") and f"files:{d / 'bin.txt'}", "binary"),
        (lambda d: (d / "latin.txt").write_bytes("café. ".encode("latin-1") * 40) and f"files:{d / 'latin.txt'}",
         "not UTF-8"),
        (lambda d: (d / "empty.txt").write_text("  \n") and f"files:{d / 'empty.txt'}", "empty"),
        (lambda d: (d / "short.txt").write_text("One sentence. Two sentences.") and f"files:{d / 'short.txt'}",
         "too short"),
        (lambda d: "files:", "needs a path"),
        (lambda d: "wikipedia:en", "unknown source"),
        (lambda d: "hf:only-repo", "hf:REPO"),
        (lambda d: f"hf:{d / 'nope'}:text", "cannot open"),
    ],
)
def test_bad_sources_fail_in_one_line(tmp_path, make, message):
    spec = make(tmp_path)
    with pytest.raises(HaystackError) as err:
        get_haystack.__wrapped__(spec)
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.fixture(scope="module")
def hf_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hfds")
    (folder / "data").mkdir()
    texts = [p.read_text() for p in sorted(EN.glob("*.txt"))] * 3
    table = pa.table({"text": texts, "n": list(range(len(texts)))})
    pq.write_table(table, folder / "data" / "train-00000-of-00001.parquet")
    return folder


def test_hf_source_streams_a_local_dataset(hf_folder):
    hs = get_haystack(f"hf:{hf_folder}:text")
    a = list(islice(hs.documents(random.Random(5), "en"), 12))
    b = list(islice(hs.documents(random.Random(5), "en"), 12))
    assert a == b and len(a) == 12 and all(doc for doc in a)
    assert "column 'text'" in hs.description


def test_hf_source_errors(hf_folder):
    with pytest.raises(HaystackError, match="no column 'body'"):
        get_haystack.__wrapped__(f"hf:{hf_folder}:body")
    with pytest.raises(HaystackError, match="does not hold text"):
        get_haystack.__wrapped__(f"hf:{hf_folder}:n")
