"""``validate``, ``score`` and ``publish --dry-run`` on damaged dataset folders (issue 9, items 16-19).

A damaged card or parquet file is one line naming the key or the column; a damaged row fails its own sample,
named; nothing is read outside the folder and no tokenizer the user did not name is opened. One small dataset per
family is made once; every case copies it and damages the copy.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

LCGEN = [sys.executable, "-c", "from lcgen.cli.main import main; main()"]
VARIANTS = {"needle-threads": "single_needle", "needles": "single_retrieval", "ancestral-trace": "eldest_ancestor",
            "holistic-queries": "selection"}


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Path]:
    """One 2k dataset per family (one variant, two depths)."""
    from lcgen.make import MakeRequest, make

    root = tmp_path_factory.mktemp("made")
    for family, variant in VARIANTS.items():
        make(MakeRequest(family=family, lengths=[2000], variants=[variant], depths=[25.0, 75.0]), root / family)
    return {f: root / f for f in VARIANTS}


@pytest.fixture
def ds(made, tmp_path) -> Path:
    """A copy of the needle-threads dataset, plus predictions for ``score``, in a fresh folder."""
    return _copy(made, "needle-threads", tmp_path)


def _copy(made: dict[str, Path], family: str, tmp_path: Path) -> Path:
    folder = tmp_path / "ds"
    shutil.copytree(made[family], folder)
    rows = [r for f in sorted(folder.rglob("*.parquet")) for r in pq.read_table(f).to_pylist()]
    (tmp_path / "preds.jsonl").write_text("".join(json.dumps({"id": r["id"], "prediction": r["answer"]}) + "\n"
                                                  for r in rows))
    return folder


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    """The real command line, in this process (main() as the console script calls it)."""
    from lcgen.cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out = capsys.readouterr()
    return exit_info.value.code, out.out, out.err


def _commands(folder: Path) -> dict[str, list[str]]:
    return {"validate": ["validate", str(folder)],
            "score": ["score", str(folder), str(folder.parent / "preds.jsonl")],
            "publish": ["publish", str(folder), "--repo", "a/b", "--version", "1.0.0", "--dry-run"]}


def _one_line(code: int, err: str, needle: str) -> str:
    lines = err.strip().splitlines()
    assert code != 0
    assert len(lines) == 1 and lines[0].startswith("lcgen: error: "), err
    assert needle in lines[0] and "Traceback" not in err, err
    return lines[0]


# -- the card ----------------------------------------------------------------------------------------------------

def _header(folder: Path) -> tuple[dict, str]:
    text = (folder / "README.md").read_text(encoding="utf-8")
    end = text.index("\n---\n", 4)
    return yaml.safe_load(text[4:end]), text[end + 5:]


def _edit(change):
    """A damage that edits the parsed YAML header and writes it back."""
    def damage(folder: Path) -> None:
        header, body = _header(folder)
        change(header)
        (folder / "README.md").write_text("---\n" + yaml.safe_dump(header, sort_keys=False) + "---\n" + body)
    return damage


def _raw(data: bytes):
    return lambda folder: (folder / "README.md").write_bytes(data)


def _set(path: str, value):
    """Set ``a.0.b`` style ``path`` of the header to ``value`` (``...`` deletes the key)."""
    def change(header: dict) -> None:
        *parents, last = [int(k) if k.isdigit() else k for k in path.split(".")]
        obj = header
        for k in parents:
            obj = obj[k]
        if value is ...:
            del obj[last]
        else:
            obj[last] = value
    return _edit(change)


CARDS = {
    "not-utf8": (_raw(b"---\nconfigs:\n- config_name: caf\xe9\n---\n"), "README.md: not UTF-8 text (byte 31 is 0xe9)"),
    "header-list": (_raw(b"---\n- a\n- b\n---\n"), "the YAML header must be a mapping, not a list"),
    "deep-yaml": (_raw(b"---\na: " + b"[" * 1100 + b"]" * 1100 + b"\n---\n"), "nests too deeply"),
    "no-configs": (_set("configs", ...), "README.md: configs is missing"),
    "configs-mapping": (_set("configs", {"x": 1}), "configs must be a list, not a mapping"),
    "configs-empty": (_set("configs", []), "configs is empty"),
    "configs-strings": (_set("configs", ["x"]), "configs[0] must be a mapping with config_name and data_files"),
    "no-config-name": (_set("configs.0.config_name", ...), "configs[0].config_name is missing"),
    "config-name-number": (_set("configs.0.config_name", 7), "configs[0].config_name must be text, not a number"),
    "config-repeated": (_edit(lambda h: h["configs"].append(h["configs"][0])),
                        "configs[1].config_name 'single_needle' repeats configs[0]"),
    "data-files-string": (_set("configs.0.data_files", "data/*/*.parquet"), "configs[0].data_files must be a list"),
    "data-file-string": (_set("configs.0.data_files", ["data/x.parquet"]), "configs[0].data_files[0] must be a map"),
    "no-path": (_set("configs.0.data_files.0.path", ...), "configs[0].data_files[0].path is missing"),
    "no-split": (_set("configs.0.data_files.0.split", ...), "configs[0].data_files[0].split is missing"),
    "split-repeated": (_edit(lambda h: h["configs"][0]["data_files"].append(h["configs"][0]["data_files"][0])),
                       "configs[0].data_files[1].split '2k' repeats data_files[0]"),
    "path-number": (_set("configs.0.data_files.0.path", 5), "configs[0].data_files[0].path must be text"),
    "path-list": (_set("configs.0.data_files.0.path", ["a", "b"]), "configs[0].data_files[0].path must be text"),
    "path-empty": (_set("configs.0.data_files.0.path", ""), "configs[0].data_files[0].path is empty"),
    "path-absolute": (_set("configs.0.data_files.0.path", "/etc/*"), "path '/etc/*' must be relative"),
    "path-parent": (_set("configs.0.data_files.0.path", "../**/*.parquet"), "may not leave the dataset folder"),
    "path-url": (_set("configs.0.data_files.0.path", "hf://datasets/a/b/*.parquet"), "not a URL"),
    "path-bad-glob": (_set("configs.0.data_files.0.path", "data/**x/*.parquet"), "is not a usable pattern"),
    "dataset-info-mapping": (_edit(lambda h: h.update(dataset_info=h["dataset_info"][0])),
                             "dataset_info must be a list, not a mapping"),
    "dataset-info-strings": (_set("dataset_info", ["x"]), "dataset_info[0] must be a mapping"),
    "dataset-info-no-config-name": (_set("dataset_info.0.config_name", ...), "dataset_info[0].config_name is missing"),
    "splits-mapping": (_set("dataset_info.0.splits", {"name": "2k"}), "dataset_info[0].splits must be a list"),
    "split-no-name": (_set("dataset_info.0.splits.0.name", ...), "dataset_info[0].splits[0].name is missing"),
    "num-examples-text": (_set("dataset_info.0.splits.0.num_examples", "two"),
                          "dataset_info[0].splits[0].num_examples must be a whole number >= 0, not text"),
    "num-examples-negative": (_set("dataset_info.0.splits.0.num_examples", -2), "num_examples must be a whole"),
}


@pytest.mark.parametrize("case", list(CARDS))
def test_a_damaged_card_is_one_line_naming_the_key_in_every_command(ds, case, capsys):
    damage, needle = CARDS[case]
    damage(ds)
    before = _snapshot(ds.parent)
    for command, args in _commands(ds).items():
        code, _, err = _cli(capsys, *args)
        line = _one_line(code, err, needle)
        assert "README.md" in line, (command, line)
        assert _snapshot(ds.parent) == before, command  # nothing written, nothing left behind


@pytest.mark.parametrize("command", ["validate", "score", "publish"])
def test_the_real_cli_refuses_a_card_that_leaves_the_folder(ds, command):
    """Through a real process: `../**/*.parquet` would find the parquet of a sibling folder."""
    shutil.copytree(ds / "data", ds.parent / "outside")
    _set("configs.0.data_files.0.path", "../**/*.parquet")(ds)
    res = subprocess.run([*LCGEN, *_commands(ds)[command]], capture_output=True, text=True, timeout=120)
    _one_line(res.returncode, res.stderr, "configs[0].data_files[0].path '../**/*.parquet' may not leave")


def test_a_data_file_that_resolves_outside_the_folder_is_not_read(ds, capsys):
    inside = next(ds.rglob("*.parquet"))
    outside = ds.parent / "elsewhere.parquet"
    shutil.move(inside, outside)
    inside.symlink_to(outside)
    for args in _commands(ds).values():
        code, _, err = _cli(capsys, *args)
        _one_line(code, err, "resolves outside the dataset folder")


def test_a_card_that_is_a_link_to_a_file_outside_is_not_read(ds, capsys):
    outside = ds.parent / "card.md"
    shutil.move(ds / "README.md", outside)
    (ds / "README.md").symlink_to(outside)
    for args in _commands(ds).values():
        code, _, err = _cli(capsys, *args)
        _one_line(code, err, "README.md: resolves outside the dataset folder")


# -- parquet files whose schema is not lcgen's -------------------------------------------------------------------

def _rewrite(folder: Path, change_table) -> Path:
    path = next(folder.rglob("*.parquet"))
    pq.write_table(change_table(pq.read_table(path)), path)
    return path


def _cast(table: pa.Table, name: str, dtype: pa.DataType) -> pa.Table:
    i = table.schema.get_field_index(name)
    return table.set_column(i, pa.field(name, dtype), table.column(i).cast(dtype))


@pytest.mark.parametrize("change, needle", [
    (lambda t: _cast(t, "length", pa.string()), "column length holds string, lcgen's schema says integer"),
    (lambda t: _cast(t, "target_depth", pa.string()), "column target_depth holds string"),
    (lambda t: t.drop_columns(["input"]), "missing columns input"),
])
def test_a_parquet_with_another_schema_is_one_line_naming_file_and_column(ds, change, needle, capsys):
    path = _rewrite(ds, change)
    code, _, err = _cli(capsys, "validate", str(ds))
    assert str(path) in _one_line(code, err, needle)


# -- rows ----------------------------------------------------------------------------------------------------------

def _damage_row(folder: Path, change) -> dict:
    """Apply ``change`` to the first row of the first parquet file (same schema); return the row as it was."""
    path = next(folder.rglob("*.parquet"))
    table = pq.read_table(path)
    rows = table.to_pylist()
    original = dict(rows[0])
    change(rows[0])
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)
    return original


def _failed_sample(capsys, folder: Path, label: str, needle: str, *extra: str) -> None:
    """validate fails exactly that sample (named) with ``needle`` and passes the other; no traceback. The card's
    content sha256 no longer matches the edited rows, which validate reports once for the edited config."""
    code, out, err = _cli(capsys, "validate", str(folder), *extra)
    assert code == 1 and "Traceback" not in err, err
    fails = [ln for ln in err.splitlines() if ln.startswith("FAIL ") and not ln.startswith("FAIL card: ")]
    assert len(fails) == 1 and fails[0].startswith(f"FAIL {label}: ") and needle in fails[0], err
    card = [ln for ln in err.splitlines() if ln.startswith("FAIL card: ")]
    assert len(card) == 1 and "the rows do not match the content sha256 in the card" in card[0], err
    assert err.strip().splitlines()[-1] == "lcgen: error: 1 of 2 samples failed validation", err


ROWS = {
    "null-input": (lambda r: r.update(input=None), "input is null"),
    "null-question": (lambda r: r.update(question=None), "question is null"),
    "null-answer-item": (lambda r: r.update(answers=[None]), "answers holds a null item"),
    "null-length": (lambda r: r.update(length=None), "length is null"),
    "nan-target-depth": (lambda r: r.update(target_depth=math.nan), "target_depth nan is not a percentage in 0-100"),
    "target-depth-above-100": (lambda r: r.update(target_depth=250.0), "target_depth 250.0 is not a percentage"),
    "inf-depth": (lambda r: r.update(depth=[math.inf]), "depth holds inf, not a finite percentage"),
    "unknown-task": (lambda r: r.update(task="needle-thread"), "task: unknown oracle 'needle-thread'"),
    "short-of-target": (lambda r: r.update(target_length=r["length"] + 40), "is 40 tokens short of target"),
    "longer-than-target": (lambda r: r.update(target_length=r["length"] - 40), "exceeds target"),
}


@pytest.mark.parametrize("case", list(ROWS))
def test_a_damaged_row_fails_its_sample_by_name(ds, case, capsys):
    change, needle = ROWS[case]
    row = _damage_row(ds, change)
    _failed_sample(capsys, ds, row["id"], needle)


def test_a_row_without_an_id_is_named_by_its_place(ds, capsys):
    _damage_row(ds, lambda r: r.update(id=None))
    _failed_sample(capsys, ds, "single_needle/2k row 1", "id is null")


def test_a_tokenizer_path_in_a_row_is_never_opened(ds, capsys, monkeypatch, tiny_hf_tokenizer):
    import lcgen.validate

    opened = []
    real = lcgen.validate.get_tokenizer
    monkeypatch.setattr(lcgen.validate, "get_tokenizer", lambda spec: opened.append(spec) or real(spec))
    for path in ("/etc/passwd", tiny_hf_tokenizer):
        row = _damage_row(ds, lambda r, path=path: r.update(tokenizer=path))
        _failed_sample(capsys, ds, row["id"], f"tokenizer {path!r} is not one lcgen loads by name")
        assert path not in opened and set(opened) == {"cl100k_base"}
    # The tokenizer the user names is the one loaded, for every row: every sample passes, though the edited
    # tokenizer column still breaks the card's content sha256.
    code, out, err = _cli(capsys, "validate", str(ds), "--tokenizer", "cl100k_base")
    assert code == 1 and "all 2 samples passed" in out, err
    assert err.strip().splitlines()[-1] == "lcgen: error: the card does not match the rows of 1 config(s)", err


# -- meta ----------------------------------------------------------------------------------------------------------

def _meta(change):
    def edit(row: dict) -> None:
        meta = json.loads(row["meta"])
        change(meta)
        row["meta"] = json.dumps(meta)
    return edit


META = {
    "not-json": (lambda r: r.update(meta="{not json"), "meta is not JSON"),
    "empty-object": (lambda r: r.update(meta="{}"), "meta has no family_version"),
    "a-list": (lambda r: r.update(meta="[1, 2]"), "meta is a list, not a JSON object"),
    "nan": (lambda r: r.update(meta=r["meta"].replace('"context_tokens":', '"x":NaN,"context_tokens":')),
            "meta is not JSON (NaN is not a JSON number)"),
    "nested": (lambda r: r.update(meta="[" * 100_000 + "]" * 100_000), "meta is not JSON"),
    "offsets-moved": (_meta(lambda m: m.update(needle_offsets=[o + 7 for o in m["needle_offsets"]])),
                      "meta.needle_offsets differ from where the oracle finds the needles"),
    "offsets-dropped": (_meta(lambda m: m.update(needle_offsets=m["needle_offsets"][1:])),
                        "meta.needle_offsets differ"),
    "offsets-text": (_meta(lambda m: m.update(needle_offsets="12")), "meta.needle_offsets is text, not a list"),
    "span-moved": (_meta(lambda m: m.update(context_span=[0, 1])), "meta.context_span differs"),
    "context-tokens": (_meta(lambda m: m.update(context_tokens=m["context_tokens"] + 1)), "meta.context_tokens"),
    "params-missing": (_meta(lambda m: m.pop("params")), "meta has no params"),
    "params-knob-missing": (_meta(lambda m: m["params"].pop(next(iter(m["params"])))), "meta.params has no"),
    "params-wrong": (_meta(lambda m: m["params"].update({next(iter(m["params"])): [1]})), "meta.params: --"),
}


@pytest.mark.parametrize("family", list(VARIANTS))
@pytest.mark.parametrize("case", list(META))
def test_damaged_meta_fails_its_sample_in_every_family(made, tmp_path, family, case, capsys):
    folder = _copy(made, family, tmp_path)
    change, needle = META[case]
    row = _damage_row(folder, change)
    _failed_sample(capsys, folder, row["id"], needle)


def test_meta_must_hold_the_keys_score_breaks_results_down_by(made, tmp_path, capsys):
    folder = _copy(made, "ancestral-trace", tmp_path)
    row = _damage_row(folder, _meta(lambda m: m.pop("order")))
    _failed_sample(capsys, folder, row["id"], "meta has no order")


# -- the depth allowance -------------------------------------------------------------------------------------------

def test_a_huge_unit_cannot_excuse_a_needle_far_from_its_depth():
    """Item 10's sample: the needle 88 points from its target, inside one unit of 88% of the context."""
    from lcgen.oracle import OracleResult
    from lcgen.tokenizer import TokenIndex
    from lcgen.validate import MAX_DEPTH_ALLOWANCE, _anchor_error, depth_allowance

    text = "x" * 1000  # one character per token
    index = TokenIndex(text, np.arange(1, 1001), "chars")
    got = OracleResult("a", ["a"], needle_offsets=[880], anchor=0, context_span=(0, 1000), unit_offsets=[0, 880])
    error, allowed = _anchor_error(index, got, index.tokens_at([880]), 0, 1000, 0.0)
    assert error == pytest.approx(88.0) and allowed < error
    assert allowed == pytest.approx(MAX_DEPTH_ALLOWANCE, abs=1e-3)
    assert depth_allowance(30, 2000) == pytest.approx(1.5, abs=1e-3)  # ordinary units keep their one-unit allowance
