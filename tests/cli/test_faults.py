"""``lcgen make`` never loses a user's files, never hangs on a fault, and answers every refusal in one line:
dangerous ``--out`` values, concurrent writers, signals, a killed parent, a full disk, a full stdout."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

LCGEN = [sys.executable, "-c", "from lcgen.cli.main import main; main()"]
NT = ["make", "needle-threads", "--len", "4k", "--variants", "single_needle", "--depths", "50"]


def run(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*LCGEN, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def one_line(res: subprocess.CompletedProcess, *words: str) -> str:
    assert res.returncode != 0, res.stdout
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def user_folder(tmp_path: Path) -> Path:
    """A folder of the user's own, with a subfolder to stand in."""
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "draft.txt").write_text("also mine")
    return tmp_path


@pytest.mark.parametrize("out, where", [(".", "sub"), ("", "sub"), ("..", "sub"), (".", ".")])
def test_out_that_is_or_contains_the_working_folder_is_refused(user_folder, out, where):
    before = tree(user_folder)
    res = run(*NT, "--out", out, "--overwrite", cwd=user_folder / where)
    one_line(res, "--out")
    assert tree(user_folder) == before


def test_overwrite_replaces_only_an_lcgen_dataset(tmp_path):
    assert run(*NT, "--out", "ds", cwd=tmp_path).returncode == 0
    (tmp_path / "ds" / "predictions.jsonl").write_text("{}\n")
    one_line(run(*NT, "--out", "ds", "--overwrite", "--seed", "2", cwd=tmp_path), "not an lcgen dataset",
             "predictions.jsonl")
    assert (tmp_path / "ds" / "predictions.jsonl").is_file()
    (tmp_path / "ds" / "predictions.jsonl").unlink()
    first = tree(tmp_path / "ds")
    res = run(*NT, "--out", "ds", "--overwrite", "--seed", "2", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert tree(tmp_path / "ds") != first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]  # no lock, no temporary or replaced folder left

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "README.md").write_text("---\ntags: [other]\n---\n# my project\n")
    one_line(run(*NT, "--out", "mine", "--overwrite", cwd=tmp_path), "not an lcgen card")
    assert (mine / "README.md").read_text().endswith("# my project\n")


@pytest.mark.parametrize("target", ["empty", "full"])
def test_symlinked_out_is_refused_before_any_work(tmp_path, target):
    real = tmp_path / target
    real.mkdir()
    if target == "full":
        (real / "keep.txt").write_text("x")
    (tmp_path / "link").symlink_to(real)
    start = time.monotonic()
    one_line(run("make", "needle-threads", "--len", "64k", "--out", "link", "--overwrite", cwd=tmp_path),
             "symbolic link")
    assert time.monotonic() - start < 30
    assert (tmp_path / "link").is_symlink() and (target == "empty" or (real / "keep.txt").is_file())


def test_long_out_name_is_one_line(tmp_path):
    for n in (250, 300):
        one_line(run(*NT, "--out", "x" * n, cwd=tmp_path), "--out", "too long")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("seed", ["-1", str(2**63), "9" * 40])
def test_seed_out_of_range_is_one_line(tmp_path, seed):
    one_line(run(*NT, "--seed", seed, cwd=tmp_path), "--seed")
    assert list(tmp_path.iterdir()) == []


def test_largest_seed_is_accepted(tmp_path):
    res = run(*NT, "--seed", str(2**63 - 1), "--out", "ds", cwd=tmp_path)
    assert res.returncode == 0, res.stderr


@pytest.mark.parametrize("value", ["", ","])
def test_empty_variants_is_refused(tmp_path, value):
    one_line(run("make", "needle-threads", "--len", "4k", "--variants", value, cwd=tmp_path), "--variants", "empty")


def test_concurrent_runs_into_one_folder(tmp_path):
    """Four runs into one target: one writes it, every other one is refused in one line, nothing is mixed."""
    args = ["make", "needle-threads", "--len", "64k", "--variants", "single_needle", "--depths", "0,50,100",
            "--workers", "1", "--out", "ds"]
    procs = [subprocess.Popen([*LCGEN, *args, "--seed", str(seed)], cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for seed in (1, 2, 3, 4)]
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    winners = [seed for seed, (code, _, _) in zip((1, 2, 3, 4), results) if code == 0]
    assert len(winners) == 1, results
    for code, _, err in results:
        if code != 0:
            assert err.strip().count("\n") == 0 and "Traceback" not in err, err
            assert "another lcgen run is writing" in err or "not empty" in err, err
    import pyarrow.parquet as pq

    seeds = {row["seed"] for path in (tmp_path / "ds").rglob("*.parquet") for row in pq.read_table(path).to_pylist()}
    assert seeds == set(winners)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]


def _descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for c in map(int, children):
                if c not in found:
                    found.add(c)
                    todo.append(c)
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _start_two_worker_run(tmp_path: Path) -> tuple[subprocess.Popen, set[int]]:
    proc = subprocess.Popen([*LCGEN, "make", "needle-threads", "--len", "1M", "--variants", "single_needle",
                             "--depths", "0,25,50,75,100", "--workers", "2", "--out", "big"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    workers: set[int] = set()
    while time.time() < deadline:
        workers = _descendants(proc.pid)
        if len(workers) >= 3 and any(p.name.startswith(".big.incomplete") for p in tmp_path.iterdir()):
            break  # two workers and the resource tracker
        time.sleep(0.05)
    assert workers, "no worker started"
    return proc, workers


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc")
def test_workers_die_with_a_killed_parent(tmp_path):
    proc, workers = _start_two_worker_run(tmp_path)
    proc.kill()
    proc.communicate(timeout=30)
    deadline = time.time() + 20
    while time.time() < deadline and any(_running(p) for p in workers):
        time.sleep(0.1)
    assert not any(_running(p) for p in workers)
    # The next run into the same target removes what the killed one left and says so.
    res = run(*NT, "--out", "big", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "left behind by an interrupted run" in res.stderr and "Traceback" not in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big"]


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc")
def test_sigterm_is_handled_like_ctrl_c(tmp_path):
    proc, workers = _start_two_worker_run(tmp_path)
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143
    assert err.strip().splitlines()[-1].startswith("lcgen: error: terminated") and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
    deadline = time.time() + 20
    while time.time() < deadline and any(_running(p) for p in workers):
        time.sleep(0.1)
    assert not any(_running(p) for p in workers)


def _mount_tiny_tmpfs(where: Path) -> bool:
    if sys.platform != "linux" or os.geteuid() != 0:
        return False
    where.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)], capture_output=True)
    return res.returncode == 0


def test_disk_full_is_one_line_and_leaves_nothing(tmp_path):
    disk = tmp_path / "disk"
    if not _mount_tiny_tmpfs(disk):
        pytest.skip("cannot mount a tmpfs here (needs root on Linux)")
    try:
        res = run("make", "needle-threads", "--len", "1M", "--variants", "single_needle", "--depths", "0,50,100",
                  "--workers", "1", "--out", str(disk / "ds"), cwd=tmp_path)
        one_line(res, "no space left on the device while writing")
        assert list(disk.iterdir()) == []
    finally:
        subprocess.run(["umount", str(disk)], check=False)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["list"], [*NT, "--out", "ds"], ["--version"]])
def test_full_stdout_is_one_line(tmp_path, args):
    with open("/dev/full", "w") as full:
        res = subprocess.run([*LCGEN, *args], cwd=tmp_path, stdout=full, stderr=subprocess.PIPE, text=True,
                             timeout=120)
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert lines[-1] == "lcgen: error: cannot write to standard output (No space left on device)", res.stderr
    assert "Traceback" not in res.stderr and "Exception ignored" not in res.stderr


def test_card_leaves_out_options_that_change_no_row(tmp_path):
    a = run(*NT, "--out", "a", "--workers", "1", cwd=tmp_path)
    b = run(*NT, "--out=b", "--workers=2", "--overwrite", cwd=tmp_path)
    assert a.returncode == 0 and b.returncode == 0, (a.stderr, b.stderr)
    assert tree(tmp_path / "a") == tree(tmp_path / "b")
    card = (tmp_path / "a" / "README.md").read_text()
    assert "`lcgen make needle-threads --len 4k --variants single_needle --depths 50`" in card
