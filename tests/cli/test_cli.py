"""The real ``lcgen`` command: bad inputs, determinism across processes and workers, interrupts, round trips."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

LCGEN = [sys.executable, "-c", "from lcgen.cli.main import main; main()"]


def run(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*LCGEN, *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def sha256s(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


BAD_MAKE = [
    (["--len", "0"], "--len"),
    (["--len", "-5"], "--len"),
    (["--len", "abc"], "--len"),
    (["--len", "1.5.3M"], "--len"),
    (["--len", "17M"], "maximum"),
    (["--len", "8k", "--variants", "single,threads"], "did you mean 'single_needle'"),
    (["--len", "8k", "--tokenizer", "gpt9"], "unknown tokenizer"),
    (["--len", "8k", "--tokenizer", "missing/tokenizer.json"], "does not exist"),
    (["--len", "8k", "--depths", "50,101"], "outside 0-100"),
    (["--len", "8k", "--depths", "-1"], "outside 0-100"),
    (["--len", "8k", "--depths", "half"], "not a number"),
    (["--len", "8k", "--seed", "abc"], "--seed"),
    (["--len", "8k", "--seed", "1.5"], "--seed"),
    (["--len", "8k", "--thread-length", "1"], "--thread-length"),
    (["--len", "8k", "--direction", "up"], "--direction"),
    (["--len", "8k", "--marker", "a"], "--marker"),
    (["--len", "300", "--variants", "multiple_needles"], "too short"),
    (["--len", "8k", "--out", "no/such/parent/ds"], "does not exist"),
]


@pytest.mark.parametrize("args, needle", BAD_MAKE)
def test_bad_make_input_is_one_line(tmp_path, args, needle):
    res = run("make", "needle-threads", *args, cwd=tmp_path)
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], res.stderr
    assert "Traceback" not in res.stderr
    assert list(tmp_path.iterdir()) == []  # nothing left behind


def test_unknown_family(tmp_path):
    res = run("make", "needle-thread", "--len", "8k", cwd=tmp_path)
    assert res.returncode != 0 and res.stderr.count("\n") == 1 and "did you mean 'needle-threads'" in res.stderr


def test_existing_out_is_refused_unless_overwrite(tmp_path):
    out = tmp_path / "ds"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    res = run("make", "needle-threads", "--len", "2k", "--out", str(out), cwd=tmp_path)
    assert res.returncode != 0 and res.stderr.count("\n") == 1 and "not empty" in res.stderr
    assert (out / "keep.txt").read_text() == "mine"
    res = run("make", "needle-threads", "--len", "2k", "--out", str(out), "--overwrite", "--variants", "threads",
              cwd=tmp_path)  # --overwrite replaces an lcgen dataset only, never a folder of the user's
    assert res.returncode != 0 and res.stderr.count("\n") == 1 and "not an lcgen dataset" in res.stderr
    assert (out / "keep.txt").read_text() == "mine"
    (out / "keep.txt").unlink()
    for seed in ("1", "2"):
        res = run("make", "needle-threads", "--len", "2k", "--out", str(out), "--overwrite", "--variants", "threads",
                  "--seed", seed, cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        assert (out / "README.md").is_file() and f"--seed {seed}" in (out / "README.md").read_text()
    file_out = tmp_path / "afile"
    file_out.write_text("x")
    res = run("make", "needle-threads", "--len", "2k", "--out", str(file_out), cwd=tmp_path)
    assert res.returncode != 0 and "not a folder" in res.stderr


def test_unwritable_out(tmp_path):
    if os.geteuid() == 0:
        ro = Path("/proc/lcgen-out")  # root ignores permissions; /proc refuses new folders
    else:
        (tmp_path / "ro").mkdir(mode=0o500)
        ro = tmp_path / "ro" / "ds"
    res = run("make", "needle-threads", "--len", "2k", "--out", str(ro), cwd=tmp_path)
    assert res.returncode != 0 and res.stderr.count("\n") == 1 and "Traceback" not in res.stderr


@pytest.mark.parametrize("breakage", ["missing", "no_card", "bad_parquet", "bad_yaml", "count_mismatch"])
def test_validate_refuses_broken_datasets(tmp_path, small_dataset, breakage):
    ds = tmp_path / "ds"
    if breakage != "missing":
        shutil.copytree(small_dataset, ds)
    if breakage == "no_card":
        (ds / "README.md").unlink()
    elif breakage == "bad_parquet":
        next(ds.rglob("*.parquet")).write_bytes(b"not parquet at all")
    elif breakage == "bad_yaml":
        (ds / "README.md").write_text("---\nconfigs: [\n---\n")
    elif breakage == "count_mismatch":
        card = ds / "README.md"
        card.write_text(card.read_text().replace("num_examples: 2", "num_examples: 3", 1))
    res = run("validate", str(ds), cwd=tmp_path)
    assert res.returncode != 0
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr, res.stderr


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("small")
    res = run("make", "needle-threads", "--len", "2k,3Ki", "--seed", "5", "--depths", "10,90", "--out", "ds",
              "--workers", "1", cwd=root)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ds"
    return root / "ds"


def test_validate_passes_and_prints_a_table(small_dataset, tmp_path):
    res = run("validate", str(small_dataset), cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    for variant in ("single_needle", "branched_threads"):
        assert variant in res.stdout
    assert "all 24 samples passed" in res.stdout


def test_validate_fails_a_tampered_dataset(small_dataset, tmp_path):
    import pyarrow.parquet as pq

    ds = tmp_path / "ds"
    shutil.copytree(small_dataset, ds)
    path = next((ds / "data" / "threads").glob("2k-*.parquet"))
    table = pq.read_table(path)
    rows = table.to_pylist()
    rows[0]["answer"] = rows[1]["answer"]
    pq.write_table(type(table).from_pylist(rows, schema=table.schema), path)
    res = run("validate", str(ds), cwd=tmp_path)
    assert res.returncode != 0 and "oracle answer differs" in res.stderr


def test_determinism_across_processes_hash_seeds_and_workers(tmp_path):
    args = ["make", "needle-threads", "--len", "3k,5000", "--seed", "9", "--depths", "0,50,100"]
    a = run(*args, "--out", "a", "--workers", "1", cwd=tmp_path, env={"PYTHONHASHSEED": "1"})
    b = run(*args, "--out", "b", "--workers", "2", cwd=tmp_path, env={"PYTHONHASHSEED": "2", "LC_ALL": "C"})
    assert a.returncode == 0 and b.returncode == 0, (a.stderr, b.stderr)
    ha, hb = sha256s(tmp_path / "a"), sha256s(tmp_path / "b")
    assert len([k for k in ha if k.endswith(".parquet")]) == 12
    # Every file, the card included: it leaves out --out and --workers, which change no row.
    assert ha == hb
    assert "--workers 1" not in (tmp_path / "a" / "README.md").read_text()


def test_interrupt_leaves_nothing_that_looks_complete(tmp_path):
    proc = subprocess.Popen([*LCGEN, "make", "needle-threads", "--len", "1M", "--depths", "0,50,100",
                             "--workers", "1", "--out", "big"], cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and not any(p.name.startswith(".big.incomplete") for p in tmp_path.iterdir()):
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0
    assert "Traceback" not in err and "interrupted" in err
    assert list(tmp_path.iterdir()) == []


def test_help_everywhere(tmp_path):
    for args in (["--help"], ["make", "--help"], ["make", "needle-threads", "--help"], ["list", "--help"],
                 ["validate", "--help"]):
        res = run(*args, cwd=tmp_path)
        assert res.returncode == 0 and "Usage" in res.stdout, args
    res = run("make", "needle-threads", "--help", cwd=tmp_path)
    for option in ("--len", "--depths", "0,25,50,75,100", "--thread-length", "--placement", "--workers"):
        assert option in res.stdout
    assert run("--version", cwd=tmp_path).stdout.startswith("lcgen ")
    assert "needle-threads" in run("list", cwd=tmp_path).stdout


def test_local_hf_tokenizer_end_to_end(tmp_path, tiny_hf_tokenizer):
    res = run("make", "needle-threads", "--len", "6k", "--tokenizer", tiny_hf_tokenizer, "--depths", "20,80",
              "--out", "hf", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    res = run("validate", "hf", cwd=tmp_path)  # found again at its recorded absolute path, checked by sha256
    assert res.returncode == 0 and "all 12 samples passed" in res.stdout, res.stdout + res.stderr
    moved = tmp_path / "moved" / "tokenizer.json"
    moved.parent.mkdir()
    Path(tiny_hf_tokenizer).rename(moved)
    try:
        res = run("validate", "hf", cwd=tmp_path)
        assert res.returncode != 0 and res.stderr.count("\n") == 1, res.stderr
        assert "does not exist here; pass --tokenizer PATH" in res.stderr and "sha256" in res.stderr
        res = run("validate", "hf", "--tokenizer", str(moved.parent), cwd=tmp_path)
        assert res.returncode == 0 and "all 12 samples passed" in res.stdout, res.stdout + res.stderr
    finally:
        moved.rename(tiny_hf_tokenizer)


BAD_HAYSTACKS = [
    (lambda d: f"files:{d / 'missing'}", "does not exist"),
    (lambda d: (d / "b.bin").write_bytes(b"\x00\x01binary") and f"files:{d / 'b.bin'}", "binary"),
    (lambda d: "gutenberg:1342", "unknown source"),
    (lambda d: f"hf:{d / 'hfds'}:body", "no column 'body'"),
]


@pytest.mark.parametrize("make_spec, needle", BAD_HAYSTACKS)
def test_bad_haystack_is_one_line(tmp_path, make_spec, needle):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "hfds" / "data").mkdir(parents=True)
    pq.write_table(pa.table({"text": ["One sentence here. Another one."]}),
                   tmp_path / "hfds" / "data" / "train-00000-of-00001.parquet")
    spec = make_spec(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    res = run("make", "needles", "--len", "4k", "--haystack", spec, "--out", "ds", cwd=tmp_path)
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in res.stderr, res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_needles_with_a_folder_of_text_files(tmp_path):
    corpus = Path(__file__).resolve().parent.parent / "data" / "corpus_en"
    res = run("make", "needles", "--len", "3k", "--haystack", f"files:{corpus}", "--allow-repeat", "--out", "nd",
              cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    res = run("validate", "nd", cwd=tmp_path)
    assert res.returncode == 0 and "all 15 samples passed" in res.stdout, res.stdout + res.stderr
    assert "| repeated haystack text | 15 sample(s) hold" in (tmp_path / "nd" / "README.md").read_text()
    card = (tmp_path / "nd" / "README.md").read_text()
    assert "files:" in card and "local text file" in card
