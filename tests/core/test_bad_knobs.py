"""Bad knobs, degenerate tokenizers and oversized requests (issue 9, items 6-9): one line, non-zero exit, no
traceback, nothing left behind; a sample is exact or refused, never short."""

from __future__ import annotations

import dataclasses
import math
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from lcgen.assemble import Needle, Plan, assemble
from lcgen.errors import ParamError
from lcgen.lengths import parse_length
from lcgen.params import build_params, field_type
from lcgen.registry import families
from lcgen.tokenizer import get_tokenizer

LCGEN = [sys.executable, "-c", "from lcgen.cli.main import main; main()"]
NT = ["make", "needle-threads", "--variants", "single_needle", "--depths", "50", "--workers", "1"]
AT = ["make", "ancestral-trace", "--variants", "eldest_ancestor", "--depths", "50", "--workers", "1"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*LCGEN, *args], cwd=cwd, capture_output=True, text=True, env=dict(os.environ), timeout=300)


def refused(res: subprocess.CompletedProcess, cwd: Path, *words: str) -> str:
    """The one stderr line of a refusal, after checking the exit code, the words and that nothing was left."""
    assert res.returncode != 0, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert sorted(p.name for p in cwd.iterdir()) == [], "something was left behind"
    return lines[0]


# --- item 6: lengths are parsed defensively -------------------------------------------------------------------

@pytest.mark.parametrize("length", ["9" * 5000, "1" * 5000 + "k", "4k," + "7" * 5000])
def test_absurdly_long_length_is_one_short_line(tmp_path, length):
    line = refused(run(*NT, "--len", length, cwd=tmp_path), tmp_path, "--len", "maximum of 16,000,000")
    assert len(line) < 200


def test_long_digit_strings_never_reach_int():
    for text in ("9" * 5000, "9" * 5000 + "Mi", "1" + "0" * 100):
        with pytest.raises(ParamError, match="above the maximum") as err:
            parse_length(text)
        assert len(str(err.value)) < 200
    assert parse_length("0" * 5000 + "4k") == 4_000  # leading zeros are only long, not large
    with pytest.raises(ParamError, match="not a length"):
        parse_length("\u0661\u0662\u0668k")  # Arabic-Indic digits: int() reads them, --len does not


# --- item 7: no control characters in text knobs, no NaN/inf in number knobs ----------------------------------

def test_control_character_marker_is_refused(tmp_path):
    refused(run(*NT, "--len", "2k", "--variants", "conditional_needles", "--marker", "\x01", cwd=tmp_path), tmp_path,
            "--marker", "control character U+0001")
    refused(run(*NT, "--len", "2k", "--marker", "\udcff", cwd=tmp_path), tmp_path, "--marker", "surrogate")


def test_nan_spread_is_refused_before_any_output(tmp_path):
    refused(run(*AT, "--len", "4k", "--spread", "nan", cwd=tmp_path), tmp_path, "--spread", "not a finite number")


def _knobs(kind: type) -> list[tuple[str, str]]:
    return [(fam, f.name) for fam in families.names() for f in dataclasses.fields(families.get(fam).params)
            if field_type(families.get(fam).params, f.name) is kind]


@pytest.mark.parametrize("fam, name", _knobs(float))
def test_every_float_knob_refuses_nan_and_inf(fam, name):
    spec = families.get(fam)
    for value in (math.nan, math.inf, -math.inf):
        with pytest.raises(ParamError, match=f"--{name.replace('_', '-')}: .* not a finite number"):
            build_params(spec.params, {}, {name: value})


@pytest.mark.parametrize("fam, name", _knobs(str))
def test_every_text_knob_refuses_control_characters(fam, name):
    spec = families.get(fam)
    for char in ("\x00", "\x01", "\x1b", "\x7f", "\x85", "\udcff"):
        with pytest.raises(ParamError, match=f"--{name.replace('_', '-')}: .*may not contain") as err:
            build_params(spec.params, {}, {name: char})
        assert "\n" not in str(err.value)


# --- item 8: exact length or a one-line refusal, whatever the tokenizer -----------------------------------------

@pytest.fixture(scope="module")
def odd_tokenizers(tmp_path_factory) -> dict[str, str]:
    """Degenerate tokenizer.json files: bytes (BPE without merges: one token per byte, every filler line 82
    tokens), unk (WordLevel knowing only [UNK], split on whitespace and punctuation: every line 22 tokens), whole
    (the same without a pre-tokenizer: any text is one token) and blind (BPE knowing one letter: text is no tokens)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    root = tmp_path_factory.mktemp("odd-tokenizers")
    alphabet = {c: i for i, c in enumerate(sorted(pre_tokenizers.ByteLevel.alphabet()))}
    made = {"bytes": Tokenizer(models.BPE(vocab=alphabet, merges=[])),
            "unk": Tokenizer(models.WordLevel(vocab={"[UNK]": 0}, unk_token="[UNK]")),
            "whole": Tokenizer(models.WordLevel(vocab={"[UNK]": 0}, unk_token="[UNK]")),
            "blind": Tokenizer(models.BPE(vocab={"Q": 0}, merges=[]))}
    for name in ("bytes", "blind"):
        made[name].pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        made[name].decoder = decoders.ByteLevel()
    made["unk"].pre_tokenizer = pre_tokenizers.Whitespace()
    paths = {}
    for name, tok in made.items():
        paths[name] = str(root / name / "tokenizer.json")
        Path(paths[name]).parent.mkdir()
        tok.save(paths[name])
    return paths


@pytest.mark.parametrize("name, length, unit", [("bytes", "16k", 82), ("unk", "4k", 22)])
def test_equal_units_hit_a_reachable_length_and_refuse_the_rest(tmp_path, odd_tokenizers, name, length, unit):
    tok = odd_tokenizers[name]
    line = refused(run(*NT, "--len", length, "--tokenizer", tok, cwd=tmp_path), tmp_path,
                   "--len", "cannot be hit exactly", f"every filler unit takes {unit} tokens")
    hinted = [int(n.replace(",", "")) for n in re.findall(r"[\d,]+", line.split("work for this sample:")[1])]
    assert hinted[0] < parse_length(length) < hinted[1] and hinted[1] - hinted[0] == unit
    res = run(*NT, "--len", str(hinted[1]), "--tokenizer", tok, "--out", "ds", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    table = pq.read_table(next((tmp_path / "ds").rglob("*.parquet")))
    assert table["length"].to_pylist() == table["target_length"].to_pylist() == [hinted[1]]
    assert get_tokenizer(tok).count(table["input"][0].as_py()) == hinted[1]


def test_tokenizers_that_cannot_count_text_are_refused(tmp_path, odd_tokenizers):
    refused(run(*NT, "--len", "4k", "--tokenizer", odd_tokenizers["whole"], cwd=tmp_path), tmp_path,
            "--len", "4,000", "do not add up")
    refused(run(*NT, "--len", "2k", "--tokenizer", odd_tokenizers["blind"], cwd=tmp_path), tmp_path,  # hung before
            "--tokenizer", "too few")


class Lines:
    """Filler lines of 82 bytes, one in twenty of 83 (one token per byte with the ``bytes`` tokenizer)."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def draw(self) -> str:
        size = 83 if self.rng.random() < 0.05 else 82
        return "\n" + "".join(self.rng.choice("abcdefgh") for _ in range(size - 1))


def _sums_of_82_and_83(total: int) -> bool:
    return any(82 * k <= total <= 83 * k for k in range(total // 82 + 1))


def test_rare_sizes_still_close_exactly_or_refuse(odd_tokenizers):
    tok = get_tokenizer(odd_tokenizers["bytes"])
    outcomes = set()
    for target in (1_000, 3_600, 4_000, 9_000, 30_000):
        plan = Plan(head="Q:", tail="\nA:", ctx_open="[", ctx_close="]", needles=[Needle("\nNEEDLE", 50.0)],
                    filler=Lines(random.Random(target)))
        budget = target - tok.count("Q:[") - tok.count("]\nA:") - tok.count("\nNEEDLE")
        if _sums_of_82_and_83(budget):
            built = assemble(tok, target, plan)
            assert built.length == target == tok.count(built.text)
            outcomes.add("exact")
        else:
            with pytest.raises(ParamError, match="cannot be hit exactly"):
                assemble(tok, target, plan)
            outcomes.add("refused")
    assert outcomes == {"exact", "refused"}


# --- item 9: ancestral-trace refuses what cannot fit before building it ----------------------------------------

@pytest.mark.parametrize("knobs, words", [
    (["--len", "4k", "--families", "64", "--branch-length", "256"], ["--len", "16,400 kinship statements"]),
    (["--len", "4k", "--families", "256", "--branch-length", "256"], ["--len", "kinship statements"]),
    (["--len", "128k", "--families", "4096", "--branch-length", "256"], ["--families", "1,052,689 people"]),
    (["--needles", "4096", "--branches", "4096", "--branch-length", "256"], ["--branches", "people"]),
])
def test_oversized_ancestral_trace_is_refused_at_once(tmp_path, knobs, words):
    refused(run(*AT, *knobs, cwd=tmp_path), tmp_path, *words)


def test_people_are_capped_by_language():
    fam = families.get("ancestral-trace")
    assert fam.params(families=380, branch_length=256).max_people() < 100_000
    with pytest.raises(ParamError, match="above the 100,000"):
        fam.params(families=1024, branch_length=256)
    with pytest.raises(ParamError, match="above the 25,000 one zh sample"):
        fam.params(families=128, branch_length=256, lang="zh")


# --- issue 9, "Also": a tokenizer path that is not a file says what it is ---------------------------------------

def test_tokenizer_folder_or_device_says_what_it_is(tmp_path):
    (tmp_path / "folder").mkdir()
    work = tmp_path / "work"
    work.mkdir()
    refused(run(*NT, "--len", "2k", "--tokenizer", str(tmp_path / "folder"), cwd=work), work, "has no tokenizer.json")
    refused(run(*NT, "--len", "2k", "--tokenizer", os.devnull, cwd=work), work, "not a regular file")
