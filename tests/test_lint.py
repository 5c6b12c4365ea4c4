"""Lint, including the banned-API list that keeps randomness on derived per-sample RNGs."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_is_clean():
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is part of the [test] extra; install it with pip install -e '.[test]'")
    res = subprocess.run([ruff, "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_global_random_is_banned(tmp_path):
    ruff = shutil.which("ruff")
    bad = tmp_path / "bad.py"
    bad.write_text("import random\nrandom.shuffle([1, 2])\n")
    res = subprocess.run([ruff, "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), str(bad)],
                         capture_output=True, text=True)
    assert res.returncode != 0 and "lcgen.rng.derive" in res.stdout
