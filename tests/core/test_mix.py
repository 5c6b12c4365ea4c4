"""``lcgen make --mix``: one training set mixing families, deterministic, each row the family's own sample."""

from __future__ import annotations

import hashlib
import math
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lcgen.errors import ParamError
from lcgen.make import build_sample, make
from lcgen.mix import MixRequest, parse_length_draw
from lcgen.validate import validate
from tests.checks import assert_one_line

LCGEN = [sys.executable, "-c", "from lcgen.cli.main import main; main()"]
MIX = """\
samples: 60
length: {log-uniform: [2k, 12k]}
components:
  - family: needles
    weight: 3
    variants: [single_retrieval, multi_retrieval]
    depths: [10, 90]
  - family: ruler
    variants: [niah_single_1, cwe]
  - family: needle-threads
    length: {choice: [3k, 5k]}
    knobs: {thread_length: 3}
"""


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*LCGEN, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def sha256s(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("mix")
    (where / "mix.yaml").write_text(MIX)
    res = run("make", "--mix", "mix.yaml", "--seed", "4", "--shard-size", "25", "--workers", "1", "--out", "m",
              cwd=where)
    assert res.returncode == 0, res.stderr
    return where / "m"


def rows(folder: Path) -> list[dict]:
    return [r for f in sorted(folder.rglob("*.parquet")) for r in pq.read_table(f).to_pylist()]


def test_one_split_with_a_task_column_that_validates(mixed):
    assert sorted(str(p.relative_to(mixed)) for p in mixed.rglob("*.parquet")) == [
        f"data/mix/train-{i:05d}-of-00003.parquet" for i in range(3)]
    got = rows(mixed)
    assert len(got) == 60 and len({r["id"] for r in got}) == 60
    assert set(Counter(r["task"] for r in got)) == {"needles", "ruler", "needle-threads"}
    assert all(r["length"] == r["target_length"] for r in got)
    for r in got:
        if r["task"] == "needle-threads":
            assert r["length"] in (3000, 5000)
        else:
            assert 2000 <= r["length"] <= 12000
        if r["task"] == "needles":
            assert r["target_depth"] in (10.0, 90.0)
    reports, failed = validate(mixed)
    assert failed == 0 and reports["mix"].samples == 60 and not reports["mix"].card_problems
    card = (mixed / "README.md").read_text()
    assert "lcgen-mix" in card and "`needles/single_retrieval`" in card and "thread_length=3" in card


def test_each_row_is_the_familys_own_sample(mixed):
    req = MixRequest(mixed.parent / "mix.yaml", seed=4)
    req.check()
    (recipe,) = req.recipes()
    for position in (0, 17, 59):
        spec = recipe.spec_at(position)
        assert spec.index == position
        assert build_sample(spec) == rows(mixed)[position]


def test_same_bytes_with_two_workers(mixed, tmp_path):
    (tmp_path / "mix.yaml").write_text(MIX)
    res = run("make", "--mix", "mix.yaml", "--seed", "4", "--shard-size", "25", "--workers", "2", "--out", "m",
              cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert sha256s(tmp_path / "m") == sha256s(mixed)


def test_weights_and_lengths_follow_the_file(tmp_path):
    (tmp_path / "mix.yaml").write_text(MIX)
    req = MixRequest(tmp_path / "mix.yaml", seed=9, samples=4000)
    req.check()
    (recipe,) = req.recipes()
    specs = [recipe.spec_at(i) for i in range(4000)]
    share = Counter(s.family for s in specs)
    assert 0.55 < share["needles"] / 4000 < 0.65 and 0.15 < share["ruler"] / 4000 < 0.25
    logs = [math.log(s.length) for s in specs if s.family != "needle-threads"]
    low, high = math.log(2000), math.log(12000)
    assert min(logs) >= low and max(logs) <= high
    below_middle = sum(x < (low + high) / 2 for x in logs) / len(logs)
    assert 0.45 < below_middle < 0.55  # log-uniform: half the samples below the geometric middle
    assert recipe.spec_at(123) == specs[123]  # a draw depends on the position alone


@pytest.mark.parametrize("text, needle", [
    ("components: []\n", "non-empty list"),
    ("samples: 3\ncomponents:\n  - family: nope\n    length: 2k\n", "nope"),
    ("samples: 3\ncomponents:\n  - family: needles\n", "no length"),
    ("samples: 3\nlength: 2k\ncomponents:\n  - family: needles\n    colour: red\n", "unknown key 'colour'"),
    ("samples: 3\nlength: 2k\ncomponents:\n  - family: needles\n    knobs: {nope: 1}\n", "no knob 'nope'"),
    ("samples: 3\nlength: 2k\ncomponents:\n  - family: multihop-qa\n", "cannot be mixed"),
    ("samples: 3\nlength: {log-uniform: [8k, 2k]}\ncomponents:\n  - family: needles\n", "above high"),
    ("samples: 3\nlength: 2k\ncomponents:\n  - family: needles\n    weight: 0\n", "weight"),
    ("samples: 3\nlength: 2k\ncomponents:\n  - family: tsort\n    depths: [50]\n", "takes no depths"),
    ("samples: 3\nlength: 10\ncomponents:\n  - family: needles\n", "--len"),
    ("samples: [\n", "not YAML"),
])
def test_bad_mixtures_are_one_line(tmp_path, text, needle):
    (tmp_path / "mix.yaml").write_text(text)
    assert_one_line(run("make", "--mix", "mix.yaml", "--out", "m", cwd=tmp_path), needle)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mix.yaml"]


def test_mix_with_a_family_is_a_usage_error(tmp_path):
    res = run("make", "--mix", "mix.yaml", "needles", "--len", "2k", cwd=tmp_path)
    assert res.returncode == 2 and "--mix" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.parametrize("value, expected", [("8k", ("fixed", (8000,))), ({"choice": ["2k", 4096]},
                                                                            ("choice", (2000, 4096)))])
def test_length_forms(value, expected):
    draw = parse_length_draw(value, "x")
    assert (draw.kind, draw.values) == expected
    assert draw.draw(random.Random(1)) in expected[1]


def test_bad_length_form():
    with pytest.raises(ParamError, match="give one length"):
        parse_length_draw({"normal": [1, 2]}, "length")


def test_datasets_loads_the_mixture(mixed):
    datasets = pytest.importorskip("datasets")
    ds = datasets.load_dataset(str(mixed), "mix", split="train")
    assert ds.num_rows == 60 and set(ds["task"]) == {"needles", "ruler", "needle-threads"}


def test_make_refuses_a_mixture_for_two_tokenizers(tmp_path):
    (tmp_path / "mix.yaml").write_text(MIX)
    with pytest.raises(ParamError, match="one tokenizer"):
        make(MixRequest(tmp_path / "mix.yaml", tokenizer="cl100k_base,o200k_base"), tmp_path / "m")
