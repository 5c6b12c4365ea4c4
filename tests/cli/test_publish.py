"""``lcgen publish`` against a local Hub-compatible server (``tests/hub_server.py``); the real Hub is never contacted.

Publishing and loading run in subprocesses with a clean environment: ``HF_ENDPOINT`` pointing at the local server,
``HF_HUB_OFFLINE=0`` (conftest sets it to 1 for this process), fresh ``HF_HOME``/``HF_DATASETS_CACHE``, Xet off
(the server speaks plain LFS only) and ``HTTP(S)_PROXY`` pointing at the server too, so any request meant for
another host is refused and recorded (``hub.state.outside``) instead of leaving the machine.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from lcgen._version import __version__
from lcgen.tests.hub_server import HubServer, client_env, serving

TOKEN = "hf_secretvalue"
OWNER = "lcgen-test"
REPO = f"{OWNER}/needles"
LCGEN = [sys.executable, "-c", "from lcgen.cli.main import main; main()"]
EXTRA = "extra/noise.bin"  # 12 MiB of random bytes: over the 10 MiB regular-file limit, so LFS multipart

LOAD = r"""
import hashlib, json, sys
import datasets
from huggingface_hub import HfApi, hf_hub_download
out = {}
api = HfApi()
for repo, config, split, rev in json.loads(sys.argv[1]):
    ds = datasets.load_dataset(repo, config, split=split, revision=rev)
    out[f"{config}/{split}@{rev}"] = ds.to_list()
for repo, path, rev in json.loads(sys.argv[2]):
    local = hf_hub_download(repo, path, repo_type="dataset", revision=rev)
    out[f"{path}@{rev}"] = hashlib.sha256(open(local, "rb").read()).hexdigest()
for repo, paths, rev in json.loads(sys.argv[3]):  # routes publish and load_dataset do not call: checked here
    out["whoami"] = api.whoami()["name"]
    infos = api.get_paths_info(repo, paths, repo_type="dataset", revision=rev)
    out[f"paths-info@{rev}"] = [[i.path, type(i).__name__, getattr(i, "size", None),
                                 getattr(getattr(i, "lfs", None), "sha256", None)] for i in infos]
print(json.dumps(out))
"""


def _sha256s(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _rows(folder: Path, config: str, split: str) -> list[dict]:
    files = sorted((folder / "data" / config).glob(f"{split}-*.parquet"))
    return json.loads(json.dumps([r for f in files for r in pq.read_table(f).to_pylist()]))


def _make(out: Path, *args: str) -> Path:
    res = subprocess.run([*LCGEN, "make", "needle-threads", "--len", "2k", "--depths", "10,90", "--out", str(out),
                          *args], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return out


@pytest.fixture(scope="module")
def hub():
    yield from serving({TOKEN: OWNER})


def hub_env(hub: HubServer, home: Path, *, token: bool = True) -> dict[str, str]:
    return client_env(hub, home, TOKEN if token else None)


def run(hub: HubServer, home: Path, *args: str, token: bool = True, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([*LCGEN, *args], capture_output=True, text=True, timeout=120,
                          env=hub_env(hub, home, token=token) | env)


def load(hub: HubServer, home: Path, splits: list[tuple], files: list[tuple] = (),
         api: list[tuple] = ()) -> tuple[dict, str]:
    res = subprocess.run([sys.executable, "-c", LOAD, json.dumps(splits), json.dumps(list(files)),
                          json.dumps(list(api))],
                         capture_output=True, text=True, timeout=120, env=hub_env(hub, home))
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout), res.stdout + res.stderr


def one_line_refusal(res: subprocess.CompletedProcess, needle: str) -> None:
    assert res.returncode != 0, res.stdout
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], res.stderr
    assert "Traceback" not in res.stderr


@pytest.fixture(scope="module")
def ds(tmp_path_factory) -> Path:
    return _make(tmp_path_factory.mktemp("make") / "ds")


@pytest.fixture(scope="module")
def big(ds, tmp_path_factory) -> Path:
    """The dataset plus a 12 MiB random file (a test-only variant of the folder, for the large-file path)."""
    import numpy as np

    folder = tmp_path_factory.mktemp("big") / "ds"
    shutil.copytree(ds, folder)
    (folder / EXTRA).parent.mkdir()
    (folder / EXTRA).write_bytes(np.random.default_rng(0).bytes(12 * 1024 * 1024))
    return folder


@pytest.fixture(scope="module")
def published(hub, big, tmp_path_factory):
    """``big`` published as v1.0.0; yields (home, publish result, folder checksums before publishing)."""
    home = tmp_path_factory.mktemp("publish")
    before = _sha256s(big)
    res = run(hub, home, "publish", str(big), "--repo", REPO, "--version", "1.0.0")
    assert res.returncode == 0, res.stderr
    return home, res, before


def test_publish_then_load_the_tag_through_the_real_clients(hub, big, published, tmp_path):
    home, res, before = published
    assert f"published {REPO} v1.0.0" in res.stdout
    assert _sha256s(big) == before  # the user's folder is untouched
    assert list((home / "tmp").iterdir()) == []  # the staging folder is gone

    loaded, _ = load(hub, tmp_path, [(REPO, "single_needle", "2k", "v1.0.0"), (REPO, "threads", "2k", "v1.0.0")],
                     [(REPO, EXTRA, "v1.0.0")], [(REPO, ["README.md", "data/threads", EXTRA, "nope"], "v1.0.0")])
    assert loaded["single_needle/2k@v1.0.0"] == _rows(big, "single_needle", "2k")
    assert loaded["threads/2k@v1.0.0"] == _rows(big, "threads", "2k")
    extra_sha = hashlib.sha256((big / EXTRA).read_bytes()).hexdigest()
    assert loaded[f"{EXTRA}@v1.0.0"] == extra_sha
    assert loaded["whoami"] == OWNER
    card_size = len(hub.files_at(REPO, "v1.0.0")["README.md"])
    assert loaded["paths-info@v1.0.0"] == [["README.md", "RepoFile", card_size, None],
                                           ["data/threads", "RepoFolder", None, None],
                                           [EXTRA, "RepoFile", 12 * 1024 * 1024, extra_sha]]

    files = hub.files_at(REPO, "v1.0.0")
    local = {str(p.relative_to(big)): p.read_bytes() for p in big.rglob("*") if p.is_file()}
    assert set(files) == set(local) | {".gitattributes", "coverage.png"}
    relocated = {"harness/lm_eval/_lcgen_needle_threads_base.yaml", "harness/inspect_task.py"}
    assert all(files[p] == data for p, data in local.items() if p != "README.md" and p not in relocated)
    # The uploaded harness files read the repo at the tag; the local ones keep reading the folder.
    base = files["harness/lm_eval/_lcgen_needle_threads_base.yaml"].decode()
    assert "lcgen-test/needles" in base and "v1.0.0" in base
    assert "lcgen-test/needles" not in local["harness/lm_eval/_lcgen_needle_threads_base.yaml"].decode()
    assert "lcgen-test/needles" in files["harness/inspect_task.py"].decode()
    card = files["README.md"].decode()
    header = yaml.safe_load(card.split("---\n")[1])
    assert header["configs"] == yaml.safe_load(local["README.md"].decode().split("---\n")[1])["configs"]
    assert {s["num_examples"] for i in header["dataset_info"] for s in i["splits"]} == {2}
    for needle in ('load_dataset("lcgen-test/needles", "single_needle", split="2k", revision="v1.0.0")',
                   "## What each config holds", "## Coverage: lengths and depths",
                   "| single_needle | 2k | 2000 | 1 | 1 | 2 |",
                   "](coverage.png)", "**strict**", "**partial**", "Needle Threading", "## License", "cc-by-4.0",
                   f"- v1.0.0 — 12 samples, lcgen {__version__}", "lcgen make needle-threads --len 2k --depths 10,90",
                   "tokenizer file sha256", "| seed | 0 |"):
        assert needle in card, needle
    assert "<this folder or repo>" not in card
    assert files["coverage.png"].startswith(b"\x89PNG\r\n\x1a\n")

    calls = [(m, p.split("?")[0]) for m, p, _ in hub.requests()]
    assert ("POST", f"/datasets/{REPO}.git/info/lfs/objects/batch") in calls
    assert any(m == "PUT" and p.startswith("/lfs-upload/") for m, p in calls)  # basic transfer (parquet, png)
    assert any(m == "PUT" and p.startswith("/lfs-multipart/") for m, p in calls)  # multipart (the 12 MiB file)
    assert any("/tree/" in p and "cursor=" in p for _, p, _ in hub.requests())  # the listing was paginated
    assert hub.state.outside == []  # nothing tried to reach another host


def test_the_token_never_leaks(hub, big, published, tmp_path):
    home, res, _ = published
    assert f"Bearer {TOKEN}" in hub.state.auth_seen  # the token from HF_TOKEN was used...
    assert TOKEN not in res.stdout + res.stderr  # ...but never printed
    assert TOKEN.encode() not in hub.state.all_stored_bytes()  # nor uploaded
    for folder in (big, home):  # nor written into the dataset folder, HF_HOME or the temp dir
        for p in folder.rglob("*"):
            assert not p.is_file() or TOKEN.encode() not in p.read_bytes(), p
    dry = run(hub, tmp_path, "publish", str(big), "--repo", REPO, "--version", "9.9.9", "--dry-run")
    bad = run(hub, tmp_path, "publish", str(big), "--repo", REPO, "--version", "1.0.0")
    assert TOKEN not in dry.stdout + dry.stderr + bad.stdout + bad.stderr


def test_republishing_a_version_is_refused(hub, big, published, tmp_path):
    repo = hub.repo(REPO)
    commits, tags = dict(repo.commits), dict(repo.tags)
    res = run(hub, tmp_path, "publish", str(big), "--repo", REPO, "--version", "1.0.0")
    one_line_refusal(res, "tag v1.0.0 already exists")
    assert repo.commits == commits and repo.tags == tags


@pytest.mark.parametrize("args, needle", [
    (["--repo", "needles", "--version", "1.0.0"], "is not OWNER/NAME"),
    (["--repo", "a/b/c", "--version", "1.0.0"], "is not OWNER/NAME"),
    (["--repo", "-owner/needles", "--version", "1.0.0"], "is not OWNER/NAME"),
    (["--repo", "owner/nee dles", "--version", "1.0.0"], "is not OWNER/NAME"),
    (["--repo", "owner/", "--version", "1.0.0"], "is not OWNER/NAME"),
    (["--repo", "someone/x.git", "--version", "1.0.0"], "Repo_id cannot end by '.git'"),
    (["--repo", "someone/x.git", "--version", "1.0.0", "--dry-run"], "is not OWNER/NAME"),
    (["--repo", "datasets/needles", "--version", "1.0.0", "--dry-run"], "is a repo type, not an owner"),
    (["--repo", "ownér/needles", "--version", "1.0.0", "--dry-run"], "is not OWNER/NAME"),
    (["--repo", REPO, "--version", "1\u0663.0.0", "--dry-run"], "is not X.Y.Z"),  # ARABIC-INDIC DIGIT THREE
    (["--repo", REPO, "--version", "\uff11.0.0", "--dry-run"], "is not X.Y.Z"),  # FULLWIDTH DIGIT ONE
    (["--repo", REPO, "--version", "1.0"], "is not X.Y.Z"),
    (["--repo", REPO, "--version", "v1.0.0"], "write 1.0.0"),
    (["--repo", REPO, "--version", "1.0.0-rc1"], "is not X.Y.Z"),
    (["--repo", REPO, "--version", "01.0.0"], "is not X.Y.Z"),
    (["--repo", REPO, "--version", "1.0.0", "--branch", "refs/heads/x"], "--branch"),
])
def test_bad_repo_id_version_or_branch_is_one_line(ds, args, needle, capsys):
    from lcgen.cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main(["publish", str(ds), *args])
    err = capsys.readouterr().err
    assert exit_info.value.code != 0
    assert len(err.strip().splitlines()) == 1 and needle in err, err


def test_a_repo_id_the_hub_client_refuses_is_refused_before_contacting_it(hub, ds, tmp_path):
    start = len(hub.requests())
    res = run(hub, tmp_path, "publish", str(ds), "--repo", f"{OWNER}/x.git", "--version", "1.0.0")
    one_line_refusal(res, "is not OWNER/NAME")
    assert "HFValidationError" not in res.stderr and hub.requests(start) == []


def test_an_error_body_echoing_the_authorization_header_is_printed_without_the_token(hub, ds, tmp_path):
    repo = f"{OWNER}/echo"
    hub.state.echo_headers.add(repo)
    start = len(hub.requests())
    res = run(hub, tmp_path, "publish", str(ds), "--repo", repo, "--version", "1.0.0")
    one_line_refusal(res, "reading the repo's refs failed")
    assert ("GET", f"/api/datasets/{repo}/refs", 500) in hub.requests(start)  # the server did echo the header...
    assert "Bearer ***" in res.stderr and TOKEN not in res.stdout + res.stderr  # ...and lcgen scrubbed it
    assert ("dataset", repo) not in hub.state.repos


def test_redact_removes_the_token_and_anything_that_looks_like_a_credential():
    from lcgen.publish import redact

    assert redact("failed: sekrit-value-123 echoed", "sekrit-value-123") == "failed: *** echoed"
    assert redact("authorization: Bearer abcdef123456") == "authorization: Bearer ***"
    assert redact("token hf_AbCdEf1234567890 leaked") == "token hf_*** leaked"
    assert redact("http://user:pa55word@host/x") == "http://user:***@host/x"
    assert redact("no Hugging Face token: set HF_TOKEN", "short") == "no Hugging Face token: set HF_TOKEN"


def test_missing_token_or_offline_mode_is_refused(hub, ds, tmp_path):
    start = len(hub.requests())
    res = run(hub, tmp_path, "publish", str(ds), "--repo", f"{OWNER}/no-token", "--version", "1.0.0", token=False)
    one_line_refusal(res, "no Hugging Face token")
    res = run(hub, tmp_path, "publish", str(ds), "--repo", f"{OWNER}/no-token", "--version", "1.0.0",
              HF_HUB_OFFLINE="1")
    one_line_refusal(res, "HF_HUB_OFFLINE is set")
    assert hub.requests(start) == []


def test_dry_run_prints_the_plan_and_contacts_nothing(hub, big, tmp_path):
    start = len(hub.requests())
    res = run(hub, tmp_path, "publish", str(big), "--repo", f"{OWNER}/dry", "--version", "2.0.0", "--dry-run",
              "--branch", "release", token=False)
    assert res.returncode == 0, res.stderr
    assert hub.requests(start) == [] and (("dataset", f"{OWNER}/dry") not in hub.state.repos)
    out = res.stdout
    assert f"repo    {OWNER}/dry" in out and "branch  release" in out and "tag     v2.0.0" in out
    for p in sorted(big.rglob("*")):
        rel = p.relative_to(big).as_posix()
        if p.is_file() and p.name != "README.md" and rel not in ("harness/inspect_task.py",
                                                                 "harness/lm_eval/_lcgen_needle_threads_base.yaml"):
            assert f"{p.stat().st_size:,}  {rel}\n" in out, p
    assert "(harness pointed at lcgen-test/dry@v2.0.0)" in out
    assert "  README.md  (card re-rendered for v2.0.0)" in out and "  coverage.png  (" in out


def _drop_a_parquet(folder: Path) -> None:
    (folder / "data" / "threads" / "2k-00000-of-00001.parquet").unlink()


def _edit_num_examples(folder: Path) -> None:
    card = folder / "README.md"
    text = card.read_text()
    card.write_text(text.replace("num_examples: 2", "num_examples: 3", 1))


def _add_an_undeclared_parquet(folder: Path) -> None:
    src = folder / "data" / "threads" / "2k-00000-of-00001.parquet"
    shutil.copy(src, folder / "data" / "threads" / "8k-00000-of-00001.parquet")


def _rewrite_threads(change):
    def damage(folder: Path) -> None:
        path = folder / "data" / "threads" / "2k-00000-of-00001.parquet"
        pq.write_table(change(pq.read_table(path)), path)
    return damage


def _length_as_text(table: pa.Table) -> pa.Table:
    i = table.schema.get_field_index("length")
    return table.set_column(i, pa.field("length", pa.string()), table.column(i).cast(pa.string()))


def _empty_split(folder: Path) -> None:
    _rewrite_threads(lambda t: t.slice(0, 0))(folder)
    card = folder / "README.md"
    text = card.read_text()
    at = text.index("- config_name: threads\n  features:")
    card.write_text(text[:at] + text[at:].replace("num_examples: 2", "num_examples: 0", 1))


def _card_features(folder: Path) -> None:
    card = folder / "README.md"
    text = card.read_text()
    card.write_text(text.replace("- name: length\n    dtype: int64", "- name: length\n    dtype: string", 1))


def _null_answer(table: pa.Table) -> pa.Table:
    i = table.schema.get_field_index("answer")
    return table.set_column(i, table.schema.field(i), pa.array([None] * len(table), pa.string()))


def _link_outside(folder: Path) -> None:
    (folder / "notes.txt").symlink_to(folder.parent / "secret.txt")
    (folder.parent / "secret.txt").write_text("not part of the dataset")


@pytest.mark.parametrize("damage, needle", [
    (_drop_a_parquet, "'threads' split '2k' has no files"),
    (_edit_num_examples, "says num_examples 3, the parquet files hold 2 rows"),
    (_add_an_undeclared_parquet, "belongs to no config/split"),
    (_rewrite_threads(lambda t: t.drop_columns(["answer"])), "2k-00000-of-00001.parquet: missing columns answer"),
    (_rewrite_threads(_length_as_text), "2k-00000-of-00001.parquet: column length holds string, lcgen's schema says"),
    (_rewrite_threads(_null_answer), "2k-00000-of-00001.parquet: column answer holds null values"),
    (_empty_split, "'threads' split '2k': holds no rows"),
    (_card_features, "dataset_info[0].features differ from lcgen's schema (column length: length string"),
    (_link_outside, "notes.txt: resolves outside the dataset folder"),
])
def test_a_card_that_disagrees_with_its_parquet_is_refused(ds, tmp_path, damage, needle, capsys):
    from lcgen.cli.main import main

    folder = tmp_path / "ds"
    shutil.copytree(ds, folder)
    damage(folder)
    before = _sha256s(folder)
    for dry in ([], ["--dry-run"]):
        with pytest.raises(SystemExit) as exit_info:
            main(["publish", str(folder), "--repo", REPO, "--version", "3.0.0", *dry])
        err = capsys.readouterr().err
        assert exit_info.value.code != 0
        assert len(err.strip().splitlines()) == 1 and needle in err and "Traceback" not in err, err
        assert _sha256s(folder) == before


def test_a_second_version_resolves_separately(hub, big, published, tmp_path):
    ds2 = _make(tmp_path / "ds2", "--seed", "1")
    res = run(hub, tmp_path, "publish", str(ds2), "--repo", REPO, "--version", "1.1.0")
    assert res.returncode == 0, res.stderr
    loaded, _ = load(hub, tmp_path, [(REPO, "single_needle", "2k", "v1.0.0"), (REPO, "single_needle", "2k", "v1.1.0")])
    assert loaded["single_needle/2k@v1.0.0"] == _rows(big, "single_needle", "2k")
    assert loaded["single_needle/2k@v1.1.0"] == _rows(ds2, "single_needle", "2k")
    assert loaded["single_needle/2k@v1.0.0"] != loaded["single_needle/2k@v1.1.0"]
    old, new = hub.files_at(REPO, "v1.0.0"), hub.files_at(REPO, "v1.1.0")
    assert EXTRA in old and EXTRA not in new  # the branch holds exactly the new folder; the old tag is intact
    assert b"- v1.0.0 " in old["README.md"] and b"- v1.1.0 " in new["README.md"]
    assert hub.repo(REPO).branches["main"] == hub.repo(REPO).tags["v1.1.0"][0]


def test_branch_is_created_and_private_is_honoured(hub, ds, tmp_path):
    repo = f"{OWNER}/private-needles"
    res = run(hub, tmp_path, "publish", str(ds), "--repo", repo, "--version", "0.1.0", "--branch", "release",
              "--private")
    assert res.returncode == 0, res.stderr
    state = hub.repo(repo)
    assert state.private
    assert state.tags["v0.1.0"][0] == state.branches["release"] != state.branches["main"]
    assert set(hub.files_at(repo, "main")) == {".gitattributes"}
    assert "README.md" in hub.files_at(repo, "v0.1.0")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        opener.open(f"{hub.url}/api/datasets/{repo}/revision/v0.1.0")
    assert anonymous.value.code == 401


def test_coverage_figure_is_deterministic(ds):
    from lcgen.publish import plan

    a, b = plan(ds, REPO, "1.0.0"), plan(ds, REPO, "1.0.0")
    png = a.files[1].data
    assert a.files[1].path == "coverage.png" and png == b.files[1].data
    assert b"Software" not in png and b"matplotlib" not in png.lower()
