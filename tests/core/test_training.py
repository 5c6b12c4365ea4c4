"""Training-set mode: shards cut by row counts, a resumable run, token ids beside the text."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lcgen.errors import OutputError, ParamError
from lcgen.make import MakeRequest, make
from lcgen.shards import ShardSize, group_rows, parse_shard_size, plan_shards
from lcgen.tokenizer import get_tokenizer
from lcgen.validate import validate
from tests.checks import assert_one_line

LCGEN = [sys.executable, "-c", "from lcgen.cli.main import main; main()"]
RUN = ["make", "needles", "--len", "2k", "--seed", "3", "--variants", "single_retrieval,multi_retrieval",
       "--depths", "25,75", "--samples", "9", "--shard-size", "5"]  # 2 configs x 18 rows: 4 shards each


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*LCGEN, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def sha256s(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The uninterrupted run, one worker: what every other way of making it must equal byte for byte."""
    where = tmp_path_factory.mktemp("reference")
    res = run(*RUN, "--workers", "1", "--out", "ref", cwd=where)
    assert res.returncode == 0, res.stderr
    return where / "ref"


def test_shards_are_cut_by_row_count_with_hub_names(reference):
    names = sorted(str(p.relative_to(reference)) for p in reference.rglob("*.parquet"))
    assert names == [f"data/{v}/2k-{i:05d}-of-00004.parquet" for v in ("multi_retrieval", "single_retrieval")
                     for i in range(4)]
    rows = [pq.ParquetFile(reference / n).metadata.num_rows for n in names[:4]]
    assert rows == [5, 5, 5, 3]
    ids = [r for n in names[4:] for r in pq.read_table(reference / n, columns=["id"]).column("id").to_pylist()]
    # Layout order: depth, then index, across the shard boundaries.
    assert ids == [f"needles/single_retrieval/2k/d{d}/{i}" for d in (25, 75) for i in range(9)]
    assert "--shard-size 5" in (reference / "README.md").read_text()
    assert not list(reference.rglob(".*"))  # no run record or partial shard is left in the dataset
    reports, failed = validate(reference)
    assert failed == 0 and sum(r.samples for r in reports.values()) == 36
    assert not any(r.card_problems for r in reports.values())


def test_workers_do_not_change_a_byte(reference, tmp_path):
    res = run(*RUN, "--workers", "2", "--out", "two", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert sha256s(tmp_path / "two") == sha256s(reference)


def _records(tmp: Path) -> int:
    """Finished shards an in-progress run has recorded (the manifest aside)."""
    return sum(1 for folder in tmp.glob(".big.incomplete-*") for p in (folder / ".lcgen-run").glob("*.json")
               if p.name != "manifest.json")


def test_a_killed_run_resumes_to_the_same_bytes(reference, tmp_path):
    proc = subprocess.Popen([*LCGEN, *RUN, "--workers", "1", "--out", "big"], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and _records(tmp_path) < 2 and proc.poll() is None:
        time.sleep(0.01)
    proc.kill()
    proc.wait(timeout=30)
    assert 2 <= _records(tmp_path) < 8, "the run was not caught between shards"
    res = run(*RUN, "--workers", "2", "--out", "big", "--resume", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "resuming:" in res.stderr and "of 8 shards were finished" in res.stderr
    assert sha256s(tmp_path / "big") == sha256s(reference)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big"]


def test_ctrl_c_keeps_finished_shards_for_resume(reference, tmp_path):
    proc = subprocess.Popen([*LCGEN, *RUN, "--workers", "1", "--out", "big"], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and _records(tmp_path) < 1 and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("lcgen: error: interrupted; the finished shards are kept in "
                                                   ".big.incomplete-") and "--resume" in err
    res = run(*RUN, "--out", "big", "--resume", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert sha256s(tmp_path / "big") == sha256s(reference)


def test_resume_refuses_other_arguments_in_one_line(tmp_path):
    proc = subprocess.Popen([*LCGEN, *RUN, "--workers", "1", "--out", "big"], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and _records(tmp_path) < 1 and proc.poll() is None:
        time.sleep(0.01)
    proc.kill()
    proc.wait(timeout=30)
    other = [a if a != "3" else "4" for a in RUN]  # another seed
    assert_one_line(run(*other, "--out", "big", "--resume", cwd=tmp_path), "--resume", "no interrupted run")
    # Without --resume the leftover is removed (and said), and the run starts afresh.
    res = run(*other, "--out", "big", cwd=tmp_path)
    assert res.returncode == 0 and "left behind by an interrupted run" in res.stderr


def test_a_shard_changed_on_disk_is_made_again(reference, tmp_path):
    proc = subprocess.Popen([*LCGEN, *RUN, "--workers", "1", "--out", "big"], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and _records(tmp_path) < 2 and proc.poll() is None:
        time.sleep(0.01)
    proc.kill()
    proc.wait(timeout=30)
    (folder,) = tmp_path.glob(".big.incomplete-*")
    first = folder / "data" / "single_retrieval" / "2k-00000-of-00004.parquet"
    first.write_bytes(first.read_bytes()[:-10])  # truncated: its record's sha256 no longer matches
    res = run(*RUN, "--out", "big", "--resume", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert sha256s(tmp_path / "big") == sha256s(reference)


def test_input_ids_are_the_tokenizers_ids(tmp_path):
    req = MakeRequest(family="needle-threads", lengths=[3000], seed=1, variants=["single_needle"], depths=[50.0],
                      samples=2, input_ids=True)
    make(req, tmp_path / "ids")
    table = pq.read_table(next((tmp_path / "ids").rglob("*.parquet")))
    assert table.schema.field("input_ids").type.value_type == pa.int32()
    tok = get_tokenizer("cl100k_base")
    for row in table.to_pylist():
        assert row["input_ids"] == tok.encode(row["input"]) and len(row["input_ids"]) == row["length"] == 3000
    card = (tmp_path / "ids" / "README.md").read_text()
    assert "name: input_ids" in card
    assert validate(tmp_path / "ids")[1] == 0
    # A tampered id is found.
    path = next((tmp_path / "ids").rglob("*.parquet"))
    rows = table.to_pylist()
    rows[0]["input_ids"] = [t + 1 for t in rows[0]["input_ids"][:1]] + rows[0]["input_ids"][1:]
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)
    reports, failed = validate(tmp_path / "ids")
    assert failed == 1 and any("input_ids" in f for r in reports.values() for f in r.failures)


def test_datasets_reads_input_ids(tmp_path):
    datasets = pytest.importorskip("datasets")
    req = MakeRequest(family="needle-threads", lengths=[2000], seed=1, variants=["single_needle"], depths=[50.0],
                      input_ids=True)
    make(req, tmp_path / "ids")
    ds = datasets.load_dataset(str(tmp_path / "ids"), "single_needle", split="2k")
    assert ds.features["input_ids"].feature.dtype == "int32" and len(ds[0]["input_ids"]) == 2000


@pytest.mark.parametrize("value, rows_at_8k", [("auto", 12207), ("100", 100), ("32MB", 976), ("1GiB", 32768)])
def test_shard_size_forms(value, rows_at_8k):
    assert parse_shard_size(value).rows_for(8192) == rows_at_8k


@pytest.mark.parametrize("value", ["0", "-3", "12 apples", "1.5", "MB"])
def test_bad_shard_size_is_refused(value):
    with pytest.raises(ParamError, match="--shard-size"):
        parse_shard_size(value)


def test_bad_shard_size_on_the_command_line_is_one_line(tmp_path):
    res = run("make", "needles", "--len", "2k", "--shard-size", "12 apples", cwd=tmp_path)
    assert res.returncode == 2 and "--shard-size" in res.stderr and "Traceback" not in res.stderr


def test_resume_without_an_interrupted_run_is_one_line(tmp_path):
    assert_one_line(run("make", "needles", "--len", "2k", "--resume", "--out", "x", cwd=tmp_path), "--resume")
    with pytest.raises(OutputError, match="--resume"):
        make(MakeRequest(family="needles", lengths=[2000]), tmp_path / "y", resume=True)


def test_shard_plan_depends_on_counts_alone():
    req = MakeRequest(family="needles", lengths=[2000, 8000], variants=["single_retrieval"], depths=[0.0, 50.0],
                      samples=1000, shard_size=ShardSize(rows=300))
    shards = plan_shards(req.recipes(), req.shard_size)
    assert [(s.recipe.split, s.index, s.count, s.n) for s in shards] == [
        ("2k", i, 7, 300 if i < 6 else 200) for i in range(7)] + [("8k", i, 7, 300 if i < 6 else 200) for i in range(7)]
    assert shards[3].recipe.spec_at(shards[3].start).index == 900 and shards[4].recipe.spec_at(1100).depth == 50.0
    assert group_rows(1_000_000) == 8 and group_rows(8192) == 488 and group_rows(None) == 8
    # The specs come from the recipe: a million samples cost nothing until a shard asks for its slice.
    big = MakeRequest(family="needles", lengths=[8000], variants=["single_retrieval"], depths=[50.0],
                      samples=10_000_000)
    assert big.split_counts() == {("single_retrieval", "8k"): 10_000_000}
    assert sum(s.n for s in plan_shards(big.recipes(), big.shard_size)) == 10_000_000


def test_card_counts_every_shard(reference):
    header = (reference / "README.md").read_text().split("---")[1]
    assert header.count("num_examples: 18") == 2
