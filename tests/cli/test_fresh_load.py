"""A remade dataset never loads stale rows: ``datasets`` keys its cache on the card's YAML, so the card names the
content (each config's ``description`` is the sha256 of its rows), and ``lcgen validate`` checks that name.

Every load runs in a fresh subprocess with the user's sequence of commands and one shared ``datasets`` cache, as a
user re-running a notebook cell would; the Hub case goes through the local Hub-compatible server.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from lcgen.tests.hub_server import HubServer, client_env, serving

LCGEN = [sys.executable, "-c", "from lcgen.cli.main import main; main()"]
MAKE = ["make", "needle-threads", "--len", "4k", "--variants", "single_needle", "--depths", "50"]
LOAD = r"""
import json, sys
import datasets
path, config, split, revision = json.loads(sys.argv[1])
print(json.dumps(list(datasets.load_dataset(path, config, split=split, revision=revision)["answer"])))
"""
TOKEN = "hf_freshloadtoken"
OWNER = "lcgen-test"


def _env(home: Path, hub: HubServer | None = None) -> dict[str, str]:
    if hub is not None:
        return client_env(hub, home, TOKEN)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(HF_HOME=str(home / "hf"), HF_DATASETS_CACHE=str(home / "datasets"), HF_HUB_OFFLINE="1",
               HF_DATASETS_OFFLINE="1", HF_HUB_DISABLE_PROGRESS_BARS="1", HF_DATASETS_DISABLE_PROGRESS_BARS="1",
               HF_HUB_DISABLE_TELEMETRY="1")
    return env


def _lcgen(home: Path, *args: str, hub: HubServer | None = None) -> None:
    res = subprocess.run([*LCGEN, *args], capture_output=True, text=True, timeout=120, cwd=home, env=_env(home, hub))
    assert res.returncode == 0, res.stderr


def _load(home: Path, path: str, revision: str | None = None, hub: HubServer | None = None) -> list[str]:
    res = subprocess.run([sys.executable, "-c", LOAD, json.dumps([path, "single_needle", "4k", revision])],
                         capture_output=True, text=True, timeout=120, cwd=home, env=_env(home, hub))
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def _answers_on_disk(folder: Path) -> list[str]:
    files = sorted(glob.glob(str(folder / "data" / "single_needle" / "4k-*.parquet")))
    return [a for f in files for a in pq.read_table(f, columns=["answer"]).column("answer").to_pylist()]


def test_remake_with_another_seed_loads_the_new_rows(tmp_path):
    """The issue's sequence: make seed 1, load, make seed 2 --overwrite, load, then seed 1 again."""
    _lcgen(tmp_path, *MAKE, "--seed", "1", "--out", "d")
    first = _load(tmp_path, "d")
    assert first == _answers_on_disk(tmp_path / "d")
    _lcgen(tmp_path, *MAKE, "--seed", "2", "--out", "d", "--overwrite")
    second = _load(tmp_path, "d")
    assert second == _answers_on_disk(tmp_path / "d") and second != first
    _lcgen(tmp_path, *MAKE, "--seed", "1", "--out", "d", "--overwrite")
    assert _load(tmp_path, "d") == first  # the same content may come from the cache: it is the same content


def test_the_fingerprint_names_the_rows_not_the_run(tmp_path):
    """Same arguments, another folder and worker count: same fingerprint; another seed: another one."""
    _lcgen(tmp_path, *MAKE, "--seed", "1", "--out", "a")
    _lcgen(tmp_path, *MAKE, "--seed", "1", "--out", "b", "--workers", "2")
    _lcgen(tmp_path, *MAKE, "--seed", "2", "--out", "c")

    def fingerprint(name: str) -> str:
        header = yaml.safe_load((tmp_path / name / "README.md").read_text().split("---\n")[1])
        (cfg,) = header["configs"]
        return cfg["description"]

    assert fingerprint("a").startswith("lcgen content sha256:")
    assert fingerprint("a") == fingerprint("b") != fingerprint("c")


def test_validate_fails_rows_edited_after_the_card(tmp_path):
    """An edit no oracle can see (the seed column) still breaks the fingerprint, so validate says so."""
    _lcgen(tmp_path, *MAKE, "--seed", "1", "--out", "d")
    (path,) = (tmp_path / "d" / "data" / "single_needle").glob("4k-*.parquet")
    table = pq.read_table(path)
    rows = table.to_pylist()
    rows[0]["seed"] += 1
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)
    res = subprocess.run([*LCGEN, "validate", "d"], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                         env=_env(tmp_path))
    assert res.returncode == 1
    assert "all 1 samples passed" in res.stdout and "Traceback" not in res.stderr  # no oracle can see the edit
    assert "FAIL card: config single_needle: the rows do not match the content sha256" in res.stderr
    assert res.stderr.strip().splitlines()[-1] == "lcgen: error: the card does not match the rows of 1 config(s)"


@pytest.fixture(scope="module")
def hub():
    # Loading a branch head, datasets asks the Hub's dataset viewer (datasets-server.<endpoint>) for its exported
    # infos; the proxy refuses it and datasets reads the card instead. Nothing else may leave.
    yield from serving({TOKEN: OWNER}, may_reach="//datasets-server.127.0.0.1:")


def test_a_new_hub_revision_loads_its_own_rows(hub, tmp_path):
    """Seed 1 published as v1.0.0, seed 2 as v1.1.0 into the same repo, one cache: each revision its own rows."""
    repo = f"{OWNER}/fresh"
    _lcgen(tmp_path, *MAKE, "--seed", "1", "--out", "d")
    first = _answers_on_disk(tmp_path / "d")
    _lcgen(tmp_path, "publish", "d", "--repo", repo, "--version", "1.0.0", hub=hub)
    assert _load(tmp_path, repo, "v1.0.0", hub) == first
    _lcgen(tmp_path, *MAKE, "--seed", "2", "--out", "d", "--overwrite")
    second = _answers_on_disk(tmp_path / "d")
    _lcgen(tmp_path, "publish", "d", "--repo", repo, "--version", "1.1.0", hub=hub)
    assert _load(tmp_path, repo, "v1.1.0", hub) == second != first
    assert _load(tmp_path, repo, None, hub) == second  # the branch head
    assert _load(tmp_path, repo, "v1.0.0", hub) == first  # the old tag still reads the old rows
