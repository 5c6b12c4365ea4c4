"""A newcomer's first hour: a fresh venv with only the README's ``pip install .`` runs every kind of command the
README shows (make, validate, score with its PNG, publish --dry-run, list, load_dataset), offline.

The install is real: a new venv (no system site-packages) and pip resolving lcgen's declared dependencies, so a
dependency left out of ``pyproject.toml`` fails here. It takes about half a minute with pip's wheel cache warm.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import venv
from pathlib import Path

import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[1]
PNG = b"\x89PNG\r\n\x1a\n"


def _readme_install() -> list[str]:
    """The install half of the README's first command (``pip install . && lcgen make ...``)."""
    block = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    first = block.strip().splitlines()[0]
    install, _, main_job = first.partition(" && ")
    assert main_job.startswith("lcgen make needle-threads --len 1M --seed 7"), first
    return install.split()


def _source_copy(dest: Path) -> Path:
    """The project's files as a clean clone holds them once committed (tracked and new, not ignored), so no build/ or
    egg-info of this checkout leaks in."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout
    for rel in filter(None, listed.decode().split("\0")):
        if (ROOT / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dest / rel)
    return dest


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    if not (ROOT / ".git").exists():
        pytest.skip("needs the git checkout to copy the tracked files from")
    base = tmp_path_factory.mktemp("fresh")
    src = _source_copy(base / "src")
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    bindir = env_dir / "bin"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env.update(PATH=f"{bindir}{os.pathsep}{env['PATH']}", VIRTUAL_ENV=str(env_dir), HF_HOME=str(base / "hf"),
               HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", MPLCONFIGDIR=str(base / "mpl"),
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    install = _readme_install()
    assert install[:2] == ["pip", "install"]
    res = subprocess.run([str(bindir / "python"), "-m", *install, "-q"], cwd=src, env=env, capture_output=True,
                         text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    return base, env


def _run(fresh, *args: str) -> subprocess.CompletedProcess:
    base, env = fresh
    res = subprocess.run(list(args), cwd=base, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, f"{args}: {res.stderr[-3000:]}"
    assert "Traceback" not in res.stderr
    return res


def _installed_lcgen_is_this_checkout_and_not_the_test_venv(fresh):
    base, env = fresh
    where = _run(fresh, "python", "-c", "import lcgen, sys; print(lcgen.__file__); print(sys.prefix)").stdout
    assert str(base / "venv") in where and str(ROOT) not in where
    for extra in ("pytest", "lm_eval", "inspect_ai"):  # test-only packages are not there to hide a missing dep
        probe = subprocess.run(["python", "-c", f"import {extra}"], cwd=base, env=env, capture_output=True)
        assert probe.returncode != 0, extra


def test_every_command_after_the_readme_install(fresh):
    """One test, so the venv is built once: pytest-xdist would build a module fixture once per worker."""
    base, _ = fresh
    _installed_lcgen_is_this_checkout_and_not_the_test_venv(fresh)
    assert _run(fresh, "lcgen", "--version").stdout.startswith("lcgen ")
    assert "needle-threads" in _run(fresh, "lcgen", "list").stdout
    _run(fresh, "lcgen", "make", "needle-threads", "--len", "2k,4k", "--seed", "7", "--variants",
         "single_needle,threads", "--depths", "0,100", "--out", "ds")
    assert "all 8 samples passed" in _run(fresh, "lcgen", "validate", "ds").stdout

    # ruler reads wonderwords' lists and templates/ruler/qa/*/ three folders down: both must come with the install.
    _run(fresh, "lcgen", "make", "ruler", "--len", "2k", "--seed", "7", "--variants", "niah_single_1,cwe,qa_2",
         "--depths", "50", "--out", "rl")
    assert "all 3 samples passed" in _run(fresh, "lcgen", "validate", "rl").stdout

    rows = [r for f in sorted((base / "ds" / "data").rglob("*.parquet"))
            for r in pq.read_table(f, columns=["id", "answer"]).to_pylist()]
    predictions = base / "pred.jsonl"
    predictions.write_text("".join(json.dumps({"id": r["id"], "prediction": r["answer"]}) + "\n" for r in rows))
    scored = _run(fresh, "lcgen", "score", "ds", str(predictions))
    assert "100.0%" in scored.stdout
    pngs = sorted((base / "lcgen-scores").rglob("*.png"))
    assert pngs and all(p.read_bytes().startswith(PNG) for p in pngs)

    plan = _run(fresh, "lcgen", "publish", "ds", "--repo", "org/name", "--version", "1.0.0", "--dry-run").stdout
    assert "coverage.png" in plan and "org/name" in plan

    loaded = _run(fresh, "python", "-c",
                  "import datasets; print(datasets.load_dataset('ds', 'threads', split='4k').num_rows)").stdout
    assert loaded.strip().splitlines()[-1] == "2"

