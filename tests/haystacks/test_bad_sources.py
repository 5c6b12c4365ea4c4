"""Bad haystack sources: nothing hangs, a corpus too small is refused (or repeats on request and says so), an
unreadable or unusable file is one line, and a source read once in the parent reaches workers without the disk."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import pickle
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lcgen.haystack
from lcgen.errors import HaystackError
from lcgen.haystack import (
    MAX_BARREN,
    Haystack,
    SentenceUnits,
    get_haystack,
    install_haystacks,
    loaded_haystacks,
    unit_text,
)
from lcgen.haystacks.files import MAX_SENTENCE_CHARS, clean_sentence
from lcgen.haystacks.procedural import ProceduralHaystack
from lcgen.haystacks.sentences import split_sentences
from lcgen.make import MakeRequest, SampleSpec, build_sample
from lcgen.registry import families

LCGEN = [sys.executable, "-c", "from lcgen.cli.main import main; main()"]
EN = Path(__file__).resolve().parent.parent / "data" / "corpus_en"  # 36 sentences, ~525 tokens
VARIANT = {"needles": "single_retrieval", "ancestral-trace": "eldest_ancestor"}


def run(*args: str, cwd: Path, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    # A timeout, so that a regression of the old endless loops fails the test instead of hanging the suite.
    return subprocess.run([*prefix, *LCGEN, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def make(family: str, source: str, *extra: str, length: str = "4k") -> tuple[str, ...]:
    return ("make", family, "--len", length, "--variants", VARIANT[family], "--depths", "50", "--haystack", source,
            "--out", "ds", *extra)


def refused(res: subprocess.CompletedProcess, *words: str) -> str:
    assert res.returncode == 2, res.stdout + res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    assert all(w in lines[0] for w in words), lines[0]
    return lines[0]


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """An empty folder to run in: it must still be empty after a refusal."""
    (tmp_path / "work").mkdir()
    return tmp_path / "work"


def write_prose(folder: Path, docs: int, seed: int = 1) -> set[str]:
    """Procedural English prose as text files, every sentence distinct; returns the sentences."""
    folder.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    source = ProceduralHaystack(None).documents(random.Random(seed), "en")
    for i, doc in enumerate(itertools.islice(source, docs)):
        fresh = [s for s in doc if s not in seen]
        seen.update(fresh)
        (folder / f"doc{i:03d}.txt").write_text(" ".join(fresh) + "\n")
    return seen


def rows(folder: Path) -> list[dict]:
    return [r for p in sorted(folder.glob("data/*/*.parquet")) for r in pq.read_table(p).to_pylist()]


# ---------------------------------------------------------------------------------------------- nothing hangs


@pytest.mark.parametrize("family", ["needles", "ancestral-trace"])
def test_corpus_without_full_stops_is_refused_not_hung(tmp_path, work, family):
    corpus = tmp_path / "headings"
    corpus.mkdir()
    (corpus / "h.txt").write_text("".join(f"Heading number {i} about bread\n\n" for i in range(60)))
    refused(run(*make(family, f"files:{corpus}"), cwd=work), "0 usable sentences", "60 without a closing")
    assert list(work.iterdir()) == []


def test_corpus_the_leakage_guard_empties_is_refused_not_hung(tmp_path, work):
    corpus = tmp_path / "lookalikes"
    corpus.mkdir()
    names = ["Ada Brook", "Ben Stone", "Cora Vale", "Dan Reed", "Eve Marsh", "Finn Hale"]
    lines = [f"The access code of {n} is AMBER-{1000 + 7 * i + j}." for i, n in enumerate(names) for j in range(5)]
    (corpus / "facts.txt").write_text(" ".join(lines) + "\n")
    refused(run(*make("needles", f"files:{corpus}"), cwd=work), "no sentence of files:", "30 read like a needle",
            "such as 'The access code of Ada Brook is AMBER-1000.'")
    assert list(work.iterdir()) == []


class _Endless(Haystack):
    scheme = "test-endless"

    def documents(self, rng, lang, avoid=()):
        while True:
            yield ["A sentence that the test rejects."]


class _Finite(Haystack):
    scheme = "test-finite"

    def documents(self, rng, lang, avoid=()):
        yield ["One sentence.", "Two sentences."]


def test_every_draw_is_bounded(tmp_path):
    files = get_haystack(f"files:{EN}")
    with pytest.raises(HaystackError, match="no sentence of files:.* is usable"):
        SentenceUnits(files, random.Random(0), "en", reject=lambda s: True).draw_many(10)
    with pytest.raises(HaystackError, match=f"{MAX_BARREN:,} documents of test-endless in a row"):
        SentenceUnits(_Endless(None), random.Random(0), "en", reject=lambda s: True).draw()
    with pytest.raises(HaystackError, match="test-finite ran out of text"):
        SentenceUnits(_Finite(None), random.Random(0), "en").draw_many(3)

    (tmp_path / "hf" / "data").mkdir(parents=True)
    texts = [p.read_text() for p in sorted(EN.glob("*.txt"))]
    pq.write_table(pa.table({"text": texts}), tmp_path / "hf" / "data" / "train-00000-of-00001.parquet")
    hf = get_haystack.__wrapped__(f"hf:{tmp_path / 'hf'}:text")
    with pytest.raises(HaystackError, match="no sentence of hf:.* is usable"):
        SentenceUnits(hf, random.Random(0), "en", reject=lambda s: True).draw_many(10)
    (tmp_path / "hf2" / "data").mkdir(parents=True)
    pq.write_table(pa.table({"text": ["A heading", "Another heading"]}),
                   tmp_path / "hf2" / "data" / "train-00000-of-00001.parquet")
    fragments = get_haystack.__wrapped__(f"hf:{tmp_path / 'hf2'}:text")
    with pytest.raises(HaystackError, match="holds no usable text"):
        SentenceUnits(fragments, random.Random(0), "en").draw()


def test_usable_sentences_are_counted_per_language(tmp_path, monkeypatch):
    # zh cleaning drops only the spaces between CJK characters: "Sentence 7 is done. )" is a fragment in both forms.
    (tmp_path / "zh.txt").write_text("\n\n".join(f"第 {i} 句 话 写 完 了。 Sentence {i} is done. )" for i in range(25)))
    source = get_haystack.__wrapped__(f"files:{tmp_path / 'zh.txt'}")
    assert source.usable == {"en": 25, "zh": 25}
    assert next(source.documents(random.Random(0), "zh"))[0] == "第 0 句话写完了。"
    assert next(source.documents(random.Random(0), "en"))[0] == "第 0 句 话 写 完 了。"
    monkeypatch.setitem(source.usable, "en", 0)
    with pytest.raises(HaystackError, match="0 usable sentences for --lang en"):
        source.documents(random.Random(0), "en")


# ------------------------------------------------------------------------------------------ overlong sentences


def test_overlong_sentences_are_dropped_and_counted(tmp_path, work):
    corpus = tmp_path / "long"
    corpus.mkdir()
    (corpus / "l.txt").write_text("".join(("Word " * 20_001)[:100_000] + ".\n" for _ in range(30)))
    refused(run(*make("needles", f"files:{corpus}"), cwd=work), "0 usable sentences",
            f"30 longer than {MAX_SENTENCE_CHARS:,} characters")
    assert list(work.iterdir()) == []


def test_overlong_sentences_leave_the_prose_usable(tmp_path, work):
    corpus = tmp_path / "mixed"
    write_prose(corpus, 40)
    for path in corpus.iterdir():  # every document ends with a 100,000-character "sentence"
        path.write_text(path.read_text() + ("Word " * 20_001)[:100_000] + ".\n")
    res = run(*make("needles", f"files:{corpus}"), cwd=work)
    assert res.returncode == 0, res.stderr
    (row,) = rows(work / "ds")
    assert row["length"] == row["target_length"] == 4000
    assert abs(row["depth"][0] - 50) < 5 and "Word Word Word" not in row["input"]


def test_clean_sentence_bounds_the_length():
    assert clean_sentence("Word " * 400 + "end.", "en") == ""
    assert clean_sentence("Word " * 300 + "end.", "en").endswith("end.")


# ------------------------------------------------------------------------------------------- unreadable files


def test_unreadable_file_is_one_line(tmp_path, work):
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv to take away root's permission to read any file")
    corpus = tmp_path / "corpus"
    shutil.copytree(EN, corpus)
    (corpus / "locked.txt").write_text("A sentence nobody may read.\n")
    (corpus / "locked.txt").chmod(0)
    # root without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH obeys file modes like any user.
    drop = ("--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-dac_override,-dac_read_search", "--")
    res = run(*make("needles", f"files:{corpus}"), cwd=work, prefix=(setpriv, *drop))
    refused(res, "cannot read", str(corpus / "locked.txt"), "Permission denied")
    assert list(work.iterdir()) == []


def test_read_errors_name_the_file(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    shutil.copytree(EN, corpus)
    real = Path.read_bytes

    def read_bytes(self):
        if self.name == "lighthouses.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with pytest.raises(HaystackError, match=r"cannot read .*lighthouses\.txt: Permission denied$"):
        get_haystack.__wrapped__(f"files:{corpus}")


@pytest.mark.skipif(not os.path.exists("/proc/self/mem"), reason="needs Linux /proc")
def test_a_file_that_fails_to_read_is_named(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(EN, corpus)
    (corpus / "mem.txt").symlink_to("/proc/self/mem")  # a regular file whose read fails, even for root
    with pytest.raises(HaystackError, match=r"cannot read .*mem\.txt: Input/output error"):
        get_haystack.__wrapped__(f"files:{corpus}")


def test_links_and_special_files(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(EN, corpus)
    os.mkfifo(corpus / "pipe.txt")  # reading it would block: it is not a regular file, so it is skipped
    assert len(get_haystack.__wrapped__(f"files:{corpus}").docs) == 3
    with pytest.raises(HaystackError, match="is not a regular file or folder"):
        get_haystack.__wrapped__(f"files:{corpus / 'pipe.txt'}")
    (corpus / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    with pytest.raises(HaystackError, match=r"gone\.txt is a broken symbolic link"):
        get_haystack.__wrapped__(f"files:{corpus}")
    with pytest.raises(HaystackError, match=r"gone\.txt is a broken symbolic link"):
        get_haystack.__wrapped__(f"files:{corpus / 'gone.txt'}")


# ----------------------------------------------------------------------------------------- bad --haystack values


@pytest.mark.parametrize("value, words", [
    ("", ("--haystack: empty value",)),
    ("procedural:extra", ("procedural takes no argument", "procedural:extra")),
    ("procedural:", ("procedural takes no argument",)),
])
def test_bad_values_fail_in_one_line(value, words):
    with pytest.raises(HaystackError) as err:
        get_haystack.__wrapped__(value)
    assert all(w in str(err.value) for w in words) and "\n" not in str(err.value)


def test_procedural_extra_is_refused_by_make(work):
    refused(run(*make("needles", "procedural:extra"), cwd=work), "procedural takes no argument")
    assert list(work.iterdir()) == []


# -------------------------------------------------------------------------------------------------- repetition


def duplicates(row: dict, sentences: set[str]) -> int:
    """Filler sentences that occur earlier in the same sample (the corpus' own sentences are all distinct)."""
    text = row["input"]
    inner = text[text.index("<document>") + len("<document>"): text.rindex("</document>")]
    for s in json.loads(row["meta"])["sentences"]:
        inner = inner.replace(" " + s, "", 1)
    pieces = [p.strip() for p in split_sentences(inner) if p.strip()]
    assert set(pieces) <= sentences
    return len(pieces) - len(set(pieces))


def test_small_corpus_is_refused_without_allow_repeat(work):
    line = refused(run(*make("needles", f"files:{EN}", length="2k"), cwd=work),
                   "has only 36 usable sentences", "--allow-repeat")
    assert "needles/single_retrieval/2k/d50/0" in line
    assert list(work.iterdir()) == []


def test_allow_repeat_records_the_repeats_the_sample_holds(tmp_path, work):
    corpus = tmp_path / "small"
    sentences = write_prose(corpus, 4)
    args = ("make", "needles", "--len", "2k", "--variants", "single_retrieval", "--depths", "25,75",
            "--haystack", f"files:{corpus}", "--allow-repeat", "--out", "ds")
    res = run(*args, "--workers", "2", cwd=work)
    assert res.returncode == 0, res.stderr
    made = rows(work / "ds")
    assert len(made) == 2
    for row in made:
        repeats = json.loads(row["meta"])["haystack_repeats"]
        assert repeats == duplicates(row, sentences) > 0
    # The same counts in this process, one sample at a time: they do not depend on workers.
    req = MakeRequest(family="needles", lengths=[2000], variants=["single_retrieval"], depths=[25.0, 75.0],
                      haystack=f"files:{corpus}", allow_repeat=True)
    assert [build_sample(s)["meta"] for s in req.specs()] == [r["meta"] for r in made]
    res = run("validate", "ds", cwd=work)
    assert res.returncode == 0 and "all 2 samples passed" in res.stdout, res.stdout + res.stderr


def test_repeats_are_counted_among_the_units_used_not_drawn(tmp_path, monkeypatch):
    import lcgen.generators.needles as needles_module

    corpus = tmp_path / "corpus"
    sentences = write_prose(corpus, 12)
    made: list[SentenceUnits] = []

    class Recorded(SentenceUnits):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(needles_module, "SentenceUnits", Recorded)
    fam = families.get("needles")
    params = dataclasses.asdict(fam.params(**fam.variants["single_retrieval"]))
    corpus_tokens = sum(len(s) for s in sentences) // 5  # ~ characters per token of English prose
    drawn_unused = 0
    for length in range(corpus_tokens // 4, 2 * corpus_tokens // 3, 20):  # within the corpus: never refused
        made.clear()
        row = build_sample(SampleSpec("needles", "single_retrieval", length, 50.0, 0, 1, "cl100k_base", params,
                                      f"files:{corpus}"))
        assert row["length"] == length
        recorded = json.loads(row["meta"]).get("haystack_repeats", 0)
        assert recorded == duplicates(row, sentences)
        drawn_unused += made[0].repeats_drawn > recorded
    assert drawn_unused  # the engine drew past the corpus' first pass without using what it drew


def test_usage_matches_units_to_draws(tmp_path):
    (tmp_path / "one.txt").write_text(" ".join(f"Sentence number {i} ends here." for i in range(25)))
    units = SentenceUnits(get_haystack.__wrapped__(f"files:{tmp_path / 'one.txt'}"), random.Random(0), "en")
    drawn = units.draw_many(40)  # one document: the second pass repeats the first in the same order
    assert units.first_pass_units == 25 and units.repeats_drawn == 15
    needle = unit_text("A needle.", "en")

    def usage(kept: list[str], at: int = 0) -> tuple[int, int]:
        pieces = kept[:at] + [needle] + kept[at:]
        text = "".join(pieces)
        return units.usage(text, 0, len(text), {len("".join(kept[:at])): len(needle)})

    assert usage(drawn[:10] + drawn[30:35], at=4) == (15, 5)  # sentences 5-9 twice
    assert usage(drawn[:10] + drawn[35:40], at=12) == (15, 0)  # 10-14 once each: their first draws went unused
    assert usage(drawn[:25] + drawn[25:27]) == (27, 2)


def test_procedural_never_repeats():
    units = SentenceUnits(get_haystack("procedural"), random.Random(0), "en")
    units.draw_many(5_000)
    assert units.first_pass_units is None and units.repeats_drawn == 0


# ------------------------------------------------------------------------------------ sources shared by workers


def test_installed_sources_skip_the_disk(tmp_path, monkeypatch):
    monkeypatch.setattr(lcgen.haystack, "_installed", {})
    corpus = tmp_path / "corpus"
    write_prose(corpus, 30)
    spec = f"files:{corpus}"
    source = get_haystack(spec)
    assert loaded_haystacks()[spec] is source
    size = sum(p.stat().st_size for p in corpus.iterdir())
    before = source.documents(random.Random(4), "zh")  # builds a per-language view that is not pickled
    blob = pickle.dumps({spec: loaded_haystacks()[spec]})
    assert len(blob) < 1.3 * size

    shutil.rmtree(corpus)
    monkeypatch.setattr(os, "walk", lambda *a, **k: pytest.fail("the disk was read"))
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("the disk was read"))
    get_haystack.cache_clear()
    install_haystacks(pickle.loads(blob))
    shared = get_haystack(spec)
    assert shared is not source and shared.description == source.description
    assert list(itertools.islice(shared.documents(random.Random(4), "zh"), 50)) == list(itertools.islice(before, 50))
    get_haystack.cache_clear()
