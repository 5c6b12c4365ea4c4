"""RULER's QA data loader: SQuAD v2 dev and HotpotQA dev distractor, from files: and hf: sources."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lcgen.errors import ParamError
from lcgen.generators._ruler_qa_data import QaItem, load_qa_pool, normalise_document, parse_hf_source

DATA = Path(__file__).resolve().parent.parent / "data" / "ruler_qa"
SQUAD = DATA / "dev-v2.0.json"
HOTPOT = DATA / "hotpot_dev_distractor_v1.json"


@pytest.fixture(autouse=True)
def _fresh_cache():
    load_qa_pool.cache_clear()
    yield
    load_qa_pool.cache_clear()


def _doc(title: str, *sentences: str) -> str:
    return f"{title}\n{''.join(sentences)}"


def test_squad_file_skips_unanswerable_and_keeps_file_order():
    pool = load_qa_pool(f"files:{SQUAD}", "squad")
    assert pool.dataset == "squad" and pool.source == f"files:{SQUAD}"
    assert [i.question for i in pool.items] == [
        "When was the present Eddystone tower lit?", "How tall is the present tower?", "What did a keeper wind?",
        "How many queens does a colony have?", "What calms a hive?"]  # q2, q5, q6, q9 are unanswerable
    first = pool.items[0]
    assert first.answers == ("1882", "in 1882")  # every annotator's text, de-duplicated, first seen first
    assert first.supporting == 1 and first.article == "Lighthouses" and len(first.gold) == 1
    assert first.gold[0].startswith("The Eddystone Lighthouse")
    assert pool.items[2].answers == ("the clockwork", "clockwork")
    for item in pool.items:
        assert isinstance(item, QaItem) and item.gold[0] in pool.documents
        assert all(a and a in item.gold[0] for a in item.answers)


def test_squad_pool_is_every_unique_paragraph_sorted():
    pool = load_qa_pool(f"files:{SQUAD}", "squad")
    raw = json.loads(SQUAD.read_text())
    contexts = [p["context"] for a in raw["data"] for p in a["paragraphs"]]
    assert len(contexts) == 6 and pool.documents == tuple(sorted({normalise_document(c) for c in contexts}))
    assert len(pool.documents) == 5  # the Fresnel paragraph is in both articles, its questions all unanswerable
    fresnel = next(i for i, d in enumerate(pool.documents) if d.startswith("Fresnel"))
    keeper = pool.documents.index("A lighthouse keeper tended the lamp, wound the clockwork and cleaned the lens.\n"
                                  "Most towers are automated now.")
    eddystone = next(i for i, d in enumerate(pool.documents) if d.startswith("The Eddystone"))
    bees = [next(i for i, d in enumerate(pool.documents) if d.startswith(s)) for s in ("A honey bee", "Beekeepers")]
    assert pool.by_article == {"Beekeeping": (bees[0], fresnel, bees[1]), "Lighthouses": (eddystone, keeper, fresnel)}
    assert list(pool.by_article) == sorted(pool.by_article)


def test_hotpot_file_puts_supporting_paragraphs_first():
    pool = load_qa_pool(f"files:{HOTPOT}", "hotpotqa")
    raw = json.loads(HOTPOT.read_text())
    expected_docs = sorted({_doc(t, *s) for ex in raw for t, s in ex["context"]})
    assert pool.documents == tuple(expected_docs) and len(pool.documents) == 9 and pool.by_article == {}
    first = pool.items[0]
    assert first.question == raw[0]["question"] and first.answers == ("1773",) and first.article is None
    assert first.supporting == 2
    titles = [g.split("\n", 1)[0] for g in first.gold]
    assert titles == ["Marlow Weir", "Marlow Lock", "River Thames", "Hambleden Lock"]  # supporting, then the rest
    assert first.gold[0] == ("Marlow Weir\nMarlow Weir is a weir on the River Thames. It lies beside Marlow Lock. "
                             "The weir was rebuilt in 1950.")
    second = pool.items[1]  # Ada Lovelace is named by two supporting facts: still one paragraph
    assert [g.split("\n", 1)[0] for g in second.gold[:2]] == ["Charles Babbage", "Ada Lovelace"]
    assert second.supporting == 2 and len(second.gold) == 5
    assert [i.answers for i in pool.items] == [("1773",), ("Charles Babbage",), ("yes",)]
    assert all(set(i.gold) <= set(pool.documents) for i in pool.items)


def test_a_folder_serves_both_datasets():
    for name, path in (("squad", SQUAD), ("hotpotqa", HOTPOT)):
        by_folder, by_file = load_qa_pool(f"files:{DATA}", name), load_qa_pool(f"files:{path}", name)
        assert (by_folder.items, by_folder.documents, by_folder.by_article) == (
            by_file.items, by_file.documents, by_file.by_article)


def test_ruler_file_names_in_a_folder(tmp_path):
    (tmp_path / "squad.json").write_bytes(SQUAD.read_bytes())
    (tmp_path / "hotpotqa.json").write_bytes(HOTPOT.read_bytes())
    assert len(load_qa_pool(f"files:{tmp_path}", "squad").items) == 5
    assert len(load_qa_pool(f"files:{tmp_path}", "hotpotqa").items) == 3


def test_documents_are_normalised():
    assert normalise_document("  a\r\n\r\n \r\nb\rc \n\n\n d  ") == "a\nb\nc \n d"
    assert normalise_document("one\ntwo") == "one\ntwo"
    pool = load_qa_pool(f"files:{SQUAD}", "squad")
    assert all(d == d.strip() and "\r" not in d and "\n\n" not in d for d in pool.documents)


def test_answers_that_are_not_in_the_paragraph_are_dropped(tmp_path):
    data = {"data": [{"title": "T", "paragraphs": [
        {"context": "The bell rang twice at noon.", "qas": [  # no is_impossible at all: SQuAD v1.1's layout
            {"question": "When?", "answers": [{"text": " at noon "}, {"text": "at midnight"}, {"text": "  "}]},
            {"question": "Who?", "answers": [{"text": "the priest"}]},  # no answer in the text: skipped
            {"question": "   ", "answers": [{"text": "bell"}]}]},  # a blank question: skipped
        {"context": "A paragraph without questions is a distractor all the same.", "qas": []}]}]}
    (tmp_path / "s.json").write_text(json.dumps(data))
    pool = load_qa_pool(f"files:{tmp_path / 's.json'}", "squad")
    assert [(i.question, i.answers) for i in pool.items] == [("When?", ("at noon",))]
    assert len(pool.documents) == 2 and pool.by_article == {"T": (1, 0)}


def test_supporting_order_does_not_depend_on_listing_order(tmp_path):
    raw = json.loads(HOTPOT.read_text())
    for ex in raw:
        ex["supporting_facts"].reverse()
    (tmp_path / "h.json").write_text(json.dumps(raw))
    assert load_qa_pool(f"files:{tmp_path / 'h.json'}", "hotpotqa").items == \
        load_qa_pool(f"files:{HOTPOT}", "hotpotqa").items


def test_loading_is_cached_per_source_and_dataset():
    a = load_qa_pool(f"files:{DATA}", "squad")
    assert load_qa_pool(f"files:{DATA}", "squad") is a
    assert load_qa_pool(f"files:{DATA}", "hotpotqa").dataset == "hotpotqa"


_DIGEST = """
import hashlib, sys
from lcgen.generators._ruler_qa_data import load_qa_pool
print(hashlib.sha256(repr([load_qa_pool(sys.argv[1], d) for d in ("squad", "hotpotqa")]).encode()).hexdigest())
"""


def test_same_pool_in_every_process():
    here = hashlib.sha256(repr([load_qa_pool(f"files:{DATA}", d) for d in ("squad", "hotpotqa")]).encode())
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "LC_ALL": "C"}
        res = subprocess.run([sys.executable, "-c", _DIGEST, f"files:{DATA}"], env=env, capture_output=True,
                             text=True, check=True)
        assert res.stdout.strip() == here.hexdigest()


# --- hf: local folders in the Hub layouts --------------------------------------------------------------------------


def _squad_rows() -> list[dict]:
    rows = []
    for article in json.loads(SQUAD.read_text())["data"]:
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                answers = [] if qa["is_impossible"] else qa["answers"]
                rows.append({"id": qa["id"], "title": article["title"], "context": para["context"],
                             "question": qa["question"],
                             "answers": {"text": [a["text"] for a in answers],
                                         "answer_start": [a["answer_start"] for a in answers]}})
    return rows


def _hotpot_rows() -> list[dict]:
    return [{"id": ex["_id"], "question": ex["question"], "answer": ex["answer"], "type": ex["type"],
             "level": ex["level"],
             "supporting_facts": {"title": [t for t, _ in ex["supporting_facts"]],
                                  "sent_id": [i for _, i in ex["supporting_facts"]]},
             "context": {"title": [t for t, _ in ex["context"]], "sentences": [s for _, s in ex["context"]]}}
            for ex in json.loads(HOTPOT.read_text())]


def _hf_folder(root: Path, rows: list[dict], split: str = "validation") -> Path:
    (root / "data").mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), root / "data" / f"{split}-00000-of-00001.parquet")
    return root


@pytest.fixture(scope="module")
def hf_squad(tmp_path_factory) -> Path:
    return _hf_folder(tmp_path_factory.mktemp("squad_v2"), _squad_rows())


@pytest.fixture(scope="module")
def hf_hotpot(tmp_path_factory) -> Path:
    return _hf_folder(tmp_path_factory.mktemp("hotpot_qa"), _hotpot_rows())


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    # tests/conftest.py sets these (and a fresh HF_DATASETS_CACHE) before datasets is imported; kept so here too
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        monkeypatch.setenv(name, "1")
    assert os.environ.get("HF_DATASETS_CACHE")


@pytest.mark.parametrize("dataset", ["squad", "hotpotqa"])
def test_hub_layouts_give_the_file_pools(dataset, hf_squad, hf_hotpot):
    folder = hf_squad if dataset == "squad" else hf_hotpot
    from_file = load_qa_pool(f"files:{DATA}", dataset)
    for spec in (f"hf:{folder}", f"hf:{folder}::validation", f"hf:{folder}:"):
        from_hub = load_qa_pool(spec, dataset)
        assert (from_hub.items, from_hub.documents, from_hub.by_article) == (
            from_file.items, from_file.documents, from_file.by_article)
        assert from_hub.source == spec


def test_hf_split_is_chosen(tmp_path):
    folder = _hf_folder(tmp_path / "train_only", _squad_rows(), split="train")
    assert len(load_qa_pool(f"hf:{folder}::train", "squad").items) == 5
    with pytest.raises(ParamError, match="Unknown split"):
        load_qa_pool(f"hf:{folder}", "squad")


def test_hf_spec_syntax():
    assert parse_hf_source("rajpurkar/squad_v2") == ("rajpurkar/squad_v2", None, "validation", None)
    assert parse_hf_source("hotpotqa/hotpot_qa:distractor") == ("hotpotqa/hotpot_qa", "distractor", "validation",
                                                                None)
    assert parse_hf_source("org/x::dev@v1.0") == ("org/x", None, "dev", "v1.0")
    assert parse_hf_source("org/x:c:test@abc") == ("org/x", "c", "test", "abc")
    for bad in ("", ":c", "a:b:c:d", "org/x@"):
        with pytest.raises(ValueError):
            parse_hf_source(bad)


# --- every refusal is one line naming the source -------------------------------------------------------------------

LFS = b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"0" * 64 + b"\nsize 42123\n"
SQUAD_OK = {"data": [{"title": "T", "paragraphs": [{"context": "c d", "qas": [{"question": "q", "answers": [
    {"text": "c"}]}]}]}]}


def _write(name: str, content) -> Callable[[Path], str]:
    def make(d: Path) -> str:
        path = d / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content if isinstance(content, str) else json.dumps(content))
        return f"files:{path}"
    return make


def _bad_squad(**change) -> dict:
    data = json.loads(json.dumps(SQUAD_OK))
    qa = data["data"][0]["paragraphs"][0]["qas"][0]
    for key, value in change.items():
        qa[key] = value
    return data


@pytest.mark.parametrize(
    "make, dataset, words",
    [
        (lambda d: "nowhere:x", "squad", "is not files:PATH or hf:REPO[:CONFIG][:SPLIT][@REVISION]"),
        (lambda d: str(d), "squad", "is not files:PATH or hf:REPO[:CONFIG][:SPLIT][@REVISION] (for this path: files:/"),
        (lambda d: "files:", "squad", "files: needs a path"),
        (lambda d: f"{d}/dev-v2.0.json", "squad", "is not files:PATH or hf:REPO[:CONFIG][:SPLIT][@REVISION]"),
        (lambda d: f"files:{d / 'missing.json'}", "squad", "does not exist (the SQuAD v2.0 dev file is dev-v2.0.json"),
        (lambda d: "files:~no-such-user-here/dev-v2.0.json", "squad", "does not exist"),
        (lambda d: f"files:{d}/bad\0name.json", "squad", "cannot be read (embedded null byte)"),
        (lambda d: f"files:{d}/{'x' * 300}/dev-v2.0.json", "squad", "cannot be read (File name too long)"),
        (lambda d: f"files:{d}", "hotpotqa", "is a folder without hotpot_dev_distractor_v1.json or hotpotqa.json"),
        (_write("latin.json", '{"data": "caf\xe9"}'.encode("latin-1")), "squad", "is not UTF-8 JSON"),
        (_write("broken.json", '{"data": ['), "squad", "is not JSON (Expecting value"),
        (_write("empty.json", ""), "squad", "is not JSON"),
        (_write("pointer.json", LFS), "squad", "is a Git LFS pointer"),
        (_write("list.json", [1]), "squad", "is not SQuAD v2.0 dev JSON (dev-v2.0.json): the file is a list, not an"),
        (_write("h.json", SQUAD_OK), "hotpotqa", "the file is an object, not a list of examples"),
        (_write("t.json", {"data": [{"paragraphs": []}]}), "squad", "data[0] has no 'title'"),
        (_write("n.json", _bad_squad(answers=[{"text": 3}])), "squad",
         "data[0].paragraphs[0].qas[0].answers[0].text is a number, not text"),
        (_write("i.json", _bad_squad(is_impossible="no")), "squad", "is_impossible is text, not true or false"),
        (_write("q.json", _bad_squad(question=None)), "squad", "qas[0].question is null, not text"),
        (_write("none.json", _bad_squad(is_impossible=True)), "squad", "holds no answerable SQuAD v2.0 dev question"),
        (_write("nodata.json", {"data": []}), "squad", "holds no SQuAD v2.0 dev documents"),
        (_write("nohot.json", []), "hotpotqa", "holds no HotpotQA dev distractor v1 documents"),
        (_write("pair.json", [{"question": "q", "answer": "a", "supporting_facts": [], "context": [["t"]]}]),
         "hotpotqa", "[0].context[0] is not a [title, sentences] pair"),
        (_write("sent.json", [{"question": "q", "answer": "a", "supporting_facts": [["t", 0]],
                               "context": [["t", ["s.", 5]]]}]), "hotpotqa", "[0].context[0] sentences[1] is a number"),
        (_write("nosup.json", [{"question": "q", "answer": "a", "supporting_facts": [["u", 0]],
                                "context": [["t", ["s."]]]}]), "hotpotqa", "holds no answerable HotpotQA"),
        (_write("ok.json", SQUAD_OK), "trivia", "the QA datasets are squad, hotpotqa"),
        (lambda d: "hf:", "squad", "is not hf:REPO[:CONFIG][:SPLIT][@REVISION]"),
        (lambda d: "hf:a:b:c:d", "squad", "is not hf:REPO"),
        (lambda d: "hf:org/name@", "squad", "is not hf:REPO"),
        (lambda d: f"hf:{d / 'nope'}", "squad", "cannot open dataset"),
        (lambda d: "hf:no-such-org/no-such-set", "squad", "not in the local cache and HF_HUB_OFFLINE is set"),
    ],
)
def test_bad_sources_fail_in_one_line(tmp_path, make, dataset, words):
    source = make(tmp_path)
    with pytest.raises(ParamError) as err:
        load_qa_pool(source, dataset)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"--qa-source: {source} "), message
    assert words in message, message


def test_bad_hf_datasets_fail_in_one_line(hf_squad, tmp_path):
    cases = [
        (f"hf:{hf_squad}", "hotpotqa", "has no column 'answer' (columns: id, title, context, question, answers); "
                                       "expected the hotpotqa/hotpot_qa (distractor) layout"),
        (f"hf:{hf_squad}:distractor", "squad", "BuilderConfig 'distractor' not found"),
        (f"hf:{hf_squad}::test", "squad", "Unknown split \"test\""),
    ]
    rows = [{"title": "T", "context": "c", "question": "q", "answers": "c"}]
    cases.append((f"hf:{_hf_folder(tmp_path / 'flat', rows)}", "squad",
                  "is not in the rajpurkar/squad_v2 layout: row 0.answers is text, not an object"))
    for source, dataset, words in cases:
        with pytest.raises(ParamError) as err:
            load_qa_pool(source, dataset)
        message = str(err.value)
        assert "\n" not in message and message.startswith(f"--qa-source: {source} ") and words in message, message


def test_refusals_show_no_credentials(tmp_path, monkeypatch):
    token = "hf_" + "Q" * 30
    monkeypatch.setenv("HF_TOKEN", "s3cr3t-value-of-the-token")
    for source in (f"hf:org/name@{token}", f"files:{tmp_path}/{token}.json",
                   "files:https://user:pa55word@example.org/dev.json", "files:/tmp/s3cr3t-value-of-the-token"):
        with pytest.raises(ParamError) as err:
            load_qa_pool(source, "squad")
        message = str(err.value)
        assert token not in message and "pa55word" not in message and "s3cr3t" not in message, message
        assert message.startswith("--qa-source: ") and "\n" not in message


def test_odd_source_values_stay_on_one_line(tmp_path):
    with pytest.raises(ParamError) as err:
        load_qa_pool(f"files:{tmp_path}/a\nb.json", "squad")
    assert "\n" not in str(err.value) and "a\\nb.json" in str(err.value)
