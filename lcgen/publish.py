"""``lcgen publish``: check a dataset folder, re-render its card for a version, upload it to the Hub, tag it.

Nothing here touches the network until :func:`publish`: :func:`plan` validates the arguments, checks the folder
(the card's configs and splits against the parquet files present, ``num_examples`` against the parquet footers) and
builds the new card and the coverage figure in memory, so ``--dry-run`` shows exactly what would be uploaded.
The user's folder is never modified: the upload is staged in a temporary folder (hard links or copies of the data
files, plus the new ``README.md`` and ``coverage.png``) that is deleted afterwards. The token comes from
``huggingface_hub.get_token()`` (``HF_TOKEN`` or the login cache) and is only ever handed to ``HfApi``.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from ._version import __version__
from .dataset import check_parquet_schema, iter_splits, read_card
from .errors import DatasetError, LcgenError, UnknownNameError, missing_dependency
from .render import render
from .schema import SCHEMA, features_yaml

VERSION_RE = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")  # ASCII digits: \d takes "١٣"
_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?"
REPO_RE = re.compile(rf"{_NAME}/{_NAME}")
BRANCH_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,199}")
SHARD_RE = re.compile(r"(?P<split>.+)-(?P<i>[0-9]{5})-of-(?P<n>[0-9]{5})\.parquet")
COVERAGE = "coverage.png"
# replaced by the versioned loading snippet, the commands for the release and the papers section
_DROPPED_SECTIONS = ("Loading", "Run it", "Evaluating", "Source")


class PublishError(LcgenError):
    """Publishing was refused or failed; nothing (or, when the message says so, only part) was uploaded."""


@dataclass
class SplitFacts:
    """One split as found on disk: its files, row count (from parquet footers) and (length, depth) coverage."""

    config: str
    split: str
    files: list[Path]
    rows: int
    cells: Counter = field(default_factory=Counter)  # (target_length, target_depth) -> samples
    example: str = ""


@dataclass(frozen=True)
class PlannedFile:
    path: str  # in the repo
    size: int
    source: Path | None = None  # a data file of the folder, or None for generated content
    data: bytes | None = None
    note: str = ""


@dataclass
class Plan:
    """Everything ``publish`` will do; built without touching the network."""

    folder: Path
    repo_id: str
    version: str
    branch: str
    private: bool
    files: list[PlannedFile]
    splits: list[SplitFacts]
    family: str

    @property
    def tag(self) -> str:
        return f"v{self.version}"

    @property
    def samples(self) -> int:
        return sum(s.rows for s in self.splits)

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def load_snippet(self, config: str, split: str) -> str:
        return f'load_dataset("{self.repo_id}", "{config}", split="{split}", revision="{self.tag}")'


@dataclass(frozen=True)
class PublishResult:
    plan: Plan
    commit: str
    url: str
    created_repo: bool
    created_branch: bool


def check_arguments(repo_id: str, version: str, branch: str) -> None:
    """Refuse a repo id that is not ``owner/name``, a version that is not ``X.Y.Z`` or a malformed branch.

    Repo ids pass lcgen's own rule (ASCII, both parts), then huggingface_hub's validator (the one ``HfApi`` would
    raise from mid-publish), then what neither checks: an owner that is a repo type (``datasets/x``, pasted from a
    URL, names no owner).
    """
    bad = f"--repo: {repo_id!r} is not OWNER/NAME"
    if not REPO_RE.fullmatch(repo_id) or "--" in repo_id or ".." in repo_id:
        raise PublishError(f"{bad} (letters, digits, '-', '_', '.'; up to 96 each)")
    reason = _hub_repo_id_problem(repo_id)
    if reason:
        raise PublishError(f"{bad}: {reason}")
    if not VERSION_RE.fullmatch(version):
        hint = f" (write {version[1:]}; the tag gets the 'v')" if VERSION_RE.fullmatch(version[1:]) else ""
        raise PublishError(f"--version: {version!r} is not X.Y.Z{hint}")
    if not BRANCH_RE.fullmatch(branch) or ".." in branch or branch.endswith(("/", ".lock")) or branch.startswith(
            "refs/"):
        raise PublishError(f"--branch: {branch!r} is not a branch name")


def _hub_repo_id_problem(repo_id: str) -> str:
    """Why the Hub would refuse ``repo_id`` as a dataset repo, or ""."""
    try:
        from huggingface_hub.errors import HFValidationError
        from huggingface_hub.utils import validate_repo_id
    except ImportError:  # pragma: no cover - without huggingface_hub only --dry-run runs; lcgen's rules below apply
        pass
    else:
        try:
            validate_repo_id(repo_id)
        except HFValidationError as exc:
            return str(exc).split(": '")[0].rstrip(".")
    owner = repo_id.split("/")[0]
    if repo_id.endswith(".git"):
        return "the name may not end in .git"
    if owner in ("datasets", "models", "spaces"):
        return f"{owner!r} is a repo type, not an owner (the repo is always a dataset)"
    return ""


def check_folder(folder: Path) -> list[SplitFacts]:
    """The splits of ``folder``, refusing a card that disagrees with the parquet files present.

    Row counts come from the parquet footers (no data is read); every parquet file must belong to a declared split
    and have lcgen's columns and types, every split's shards must be complete and hold rows, ``num_examples`` must
    equal the rows on disk, and the features the card declares must be lcgen's (they are what ``load_dataset``
    casts to).
    """
    card = folder / "README.md"
    info_pairs = set()
    for i, info in enumerate(read_card(folder).get("dataset_info") or []):
        for s in info["splits"]:
            info_pairs.add((info["config_name"], s["name"]))
        if "features" in info and info["features"] not in (features_yaml(), features_yaml(input_ids=True)):
            raise DatasetError(f"{card}: dataset_info[{i}].features differ from lcgen's schema "
                               f"({_first_difference(info['features'])})")
    splits: list[SplitFacts] = []
    claimed: set[Path] = set()
    for config, split, files, declared in iter_splits(folder):
        where = f"{folder}: config {config!r} split {split!r}"
        names = [SHARD_RE.fullmatch(f.name) for f in files]
        if any(m is None or m["split"] != split for m in names):
            bad = next(f.name for f, m in zip(files, names) if m is None or m["split"] != split)
            raise DatasetError(f"{where}: {bad} is not named {split}-NNNNN-of-NNNNN.parquet")
        counts = {int(m["n"]) for m in names}
        if len(counts) != 1 or sorted(int(m["i"]) for m in names) != list(range(counts.pop())):
            raise DatasetError(f"{where}: shards {', '.join(f.name for f in files)} are not a complete set")
        rows = sum(_checked_rows(f) for f in files)
        if declared is None or (config, split) not in info_pairs:
            raise DatasetError(f"{where}: the card's dataset_info gives no num_examples")
        if declared != rows:
            raise DatasetError(f"{where}: the card says num_examples {declared}, the parquet files hold {rows} rows")
        if rows == 0:
            raise DatasetError(f"{where}: holds no rows; a published split needs samples")
        claimed.update(files)
        splits.append(SplitFacts(config, split, files, rows))
    declared_pairs = {(s.config, s.split) for s in splits}
    extra = sorted(info_pairs - declared_pairs, key=str)
    if extra:
        raise DatasetError(f"{folder}: dataset_info lists config {extra[0][0]!r} split {extra[0][1]!r}, configs do not")
    for f in _visible_files(folder):
        if f.suffix == ".parquet" and f not in claimed:
            raise DatasetError(f"{folder}: {f.relative_to(folder)} belongs to no config/split of the card")
    return splits


def _checked_rows(path: Path) -> int:
    """Rows of one parquet file (from its footer), refusing a file without lcgen's columns and types or with nulls
    in a column (per the footer's statistics; list columns are left to ``lcgen validate``)."""
    try:
        pf = pq.ParquetFile(path)
        check_parquet_schema(path, pf.schema_arrow)
        md = pf.metadata
        for g in range(md.num_row_groups):
            group = md.row_group(g)
            for c in range(group.num_columns):
                col = group.column(c)
                stats = col.statistics
                if col.path_in_schema in SCHEMA.names and stats is not None and stats.has_null_count and \
                        stats.null_count:
                    raise DatasetError(f"{path}: column {col.path_in_schema} holds null values; lcgen rows have none")
        return md.num_rows
    except (pa.ArrowInvalid, OSError) as exc:
        raise DatasetError(f"{path}: not a readable parquet file ({str(exc).splitlines()[0]})") from None


def _first_difference(features: object) -> str:
    """The first column where a card's features differ from lcgen's, for the message."""
    ours = features_yaml()
    theirs = features if isinstance(features, list) else []
    for i, want in enumerate(ours):
        got = theirs[i] if i < len(theirs) else None
        if got != want:
            return f"column {want['name']}: {_shown_feature(got)}, lcgen has {_shown_feature(want)}"
    return f"{len(theirs)} columns, lcgen has {len(ours)}"


def _shown_feature(feature: object) -> str:
    if not isinstance(feature, dict):
        return "nothing"
    inner = feature.get("list")
    if isinstance(inner, list):  # a list of structs: name its fields
        inner = "{" + ", ".join(str(f.get("name")) if isinstance(f, dict) else "?" for f in inner) + "}"
    kind = feature.get("dtype") or (f"list of {inner}" if "list" in feature else "?")
    return f"{feature.get('name')} {kind}"


def _visible_files(folder: Path) -> list[Path]:
    """Regular files under ``folder``, skipping hidden files and folders (``.git``, ``.cache``, ``.incomplete``);
    a link that resolves outside the folder is refused (its target would be uploaded)."""
    out = []
    root = folder.resolve()
    for base, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for name in sorted(files):
            f = Path(base) / name
            if name.startswith(".") or name.endswith(".pyc"):
                continue
            if not f.resolve().is_relative_to(root):
                raise DatasetError(f"{f}: resolves outside the dataset folder {folder}; not uploaded")
            out.append(f)
    return out


def _read_facts(splits: list[SplitFacts]) -> tuple[str, list[str]]:
    """Fill in coverage and an example question per split; return the family and the lcgen versions of the data."""
    tasks: set[str] = set()
    versions: set[str] = set()
    columns = ["task", "target_length", "target_depth", "lcgen_version"]
    for s in splits:
        try:
            table = pa.concat_tables(pq.read_table(f, columns=columns) for f in s.files)
            head = pq.ParquetFile(s.files[0])
            first = head.read_row_group(0, columns=["question"]).column(0) if head.num_row_groups else []
        except (pa.ArrowInvalid, KeyError, OSError) as exc:
            raise DatasetError(f"{s.files[0]}: not an lcgen parquet file ({str(exc).splitlines()[0]})") from None
        nulls = [c for c in columns if table.column(c).null_count]
        if nulls:  # footers without statistics pass _checked_rows
            raise DatasetError(f"config {s.config!r} split {s.split!r}: column {nulls[0]} holds null values; "
                               "lcgen rows have none")
        cols = table.to_pydict()
        s.cells = Counter(zip(cols["target_length"], cols["target_depth"]))
        question = first[0].as_py() if len(first) else ""
        line = (question.removeprefix("Question:").strip().splitlines() or [""])[0]
        s.example = line if len(line) <= 160 else line[:157] + "..."
        tasks.update(cols["task"])
        versions.update(cols["lcgen_version"])
    if len(tasks) != 1:
        raise DatasetError(f"expected one family in the folder, found {', '.join(sorted(tasks)) or 'none'}")
    return tasks.pop(), sorted(versions)


def _sections(body: str) -> tuple[str, list[tuple[str, str]]]:
    """A markdown body cut at its ``## `` headings: (text before the first, [(heading, section text)])."""
    parts = re.split(r"(?m)^(?=## )", body)
    preamble = parts[0] if not parts[0].startswith("## ") else ""
    sections = [(p.splitlines()[0][3:].strip(), p) for p in parts if p.startswith("## ")]
    return preamble, sections


def render_card(folder: Path, splits: list[SplitFacts], family: str, data_versions: list[str], repo_id: str,
                version: str) -> str:
    """The card for ``vVERSION``: the folder's YAML header and body, plus release, loading, harness commands (which
    download the release first), coverage, metric, papers, license and changelog sections (``cards/publish.md.j2``)."""
    from .harness import run_section, split_sizes
    from .registry import families

    header = read_card(folder)
    text = (folder / "README.md").read_text(encoding="utf-8")
    body = text[text.index("\n---\n", 4) + 5 :].lstrip("\n")
    preamble, sections = _sections(body)
    try:
        spec = families.get(family)
        papers, metric = list(spec.papers), spec.metric_description
    except UnknownNameError:
        papers, metric = [], ""
    depths = sorted({d for s in splits for _, d in s.cells})
    by_config: dict[str, list[SplitFacts]] = {}
    for s in splits:
        by_config.setdefault(s.config, []).append(s)
    rendered = render(
        "publish.md.j2",
        package="lcgen.cards",
        preamble=preamble.rstrip("\n"),
        kept=[t.rstrip("\n") for h, t in sections if h not in _DROPPED_SECTIONS],
        repo_id=repo_id,
        tag=f"v{version}",
        samples=sum(s.rows for s in splits),
        data_versions=", ".join(data_versions),
        lcgen_version=__version__,
        configs=[{"name": c, "splits": ", ".join(s.split for s in ss), "samples": sum(s.rows for s in ss),
                  "example": ss[0].example} for c, ss in by_config.items()],
        loads=[{"config": s.config, "split": s.split} for s in splits],
        run_section=run_section([split_sizes(folder, s.config, s.split) for s in splits], family, repo_id,
                                f"v{version}"),
        depths=[f"{d:g}" for d in depths],
        coverage=[{"config": s.config, "split": s.split, "target": sorted({n for n, _ in s.cells}),
                   "counts": [sum(v for (_, d), v in s.cells.items() if d == depth) for depth in depths],
                   "total": s.rows} for s in splits],
        figure=COVERAGE,
        metric=metric,
        papers=papers,
        license=header.get("license") or "unspecified",
    )
    return "---\n" + yaml.safe_dump(header, sort_keys=False, allow_unicode=True) + "---\n\n" + rendered


def coverage_png(splits: list[SplitFacts], family: str) -> bytes:
    """Samples per (target length, target depth), one panel per config; the same bytes for the same counts."""
    from .figures import length_depth_png
    from .score import depth_axis

    configs: dict[str, Counter] = {}
    for s in splits:
        configs.setdefault(s.config, Counter()).update(s.cells)
    return length_depth_png(
        configs,
        title=f"{family}: samples by length and depth",
        panel_title=lambda config, cells: f"{config}: {int(sum(cells.values()))} samples",
        cmap="Blues",
        vmin=0,
        vmax=max(max(c.values()) for c in configs.values()),
        colorbar="samples",
        cell_text=lambda v: f"{int(v)}",
        x_label="target length (tokens)",
        y_label=f"target {depth_axis(family)}",
        integer_colorbar=True,
    )


def plan(folder: Path, repo_id: str, version: str, *, branch: str = "main", private: bool = False) -> Plan:
    """Check everything and build the upload (new card, coverage figure, data files) without touching the network."""
    check_arguments(repo_id, version, branch)
    folder = Path(folder)
    splits = check_folder(folder)
    family, data_versions = _read_facts(splits)
    card = render_card(folder, splits, family, data_versions, repo_id, version).encode("utf-8")
    png = coverage_png(splits, family)
    files = [PlannedFile("README.md", len(card), data=card, note=f"card re-rendered for v{version}"),
             PlannedFile(COVERAGE, len(png), data=png, note="length x depth coverage figure")]
    # The shipped harness task files read the local folder; the uploaded copies read the repo at this tag.
    from .harness import relocated_files

    relocated = {rel: text.encode("utf-8") for rel, text in relocated_files(folder, repo_id, f"v{version}").items()}
    for rel, data in sorted(relocated.items()):
        files.append(PlannedFile(rel, len(data), data=data, note=f"harness pointed at {repo_id}@v{version}"))
    for f in _visible_files(folder):
        rel = f.relative_to(folder).as_posix()
        if rel not in ("README.md", COVERAGE) and rel not in relocated:
            files.append(PlannedFile(rel, f.stat().st_size, source=f))
    return Plan(folder, repo_id, version, branch, private, files, splits, family)


def _stage(p: Plan, into: Path) -> None:
    """Lay the upload out in ``into``: hard links to the data files where possible (copies otherwise)."""
    for f in p.files:
        dest = into / f.path
        dest.parent.mkdir(parents=True, exist_ok=True)
        if f.data is not None:
            dest.write_bytes(f.data)
            continue
        try:
            os.link(f.source, dest)
        except OSError:
            shutil.copy2(f.source, dest)


def _network_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [OSError]
    try:
        import httpx2

        errors.append(httpx2.HTTPError)
    except ImportError:  # pragma: no cover - older huggingface_hub releases
        pass
    return tuple(errors)


def _one_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    server = getattr(exc, "server_message", None)
    text = lines[0] if lines else type(exc).__name__
    if server and server not in text:
        text += f" ({server.strip()})"
    return text


_CREDENTIALS = (
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{6,}"), r"\1\2***"),  # an Authorization header's value
    (re.compile(r"\bhf_[A-Za-z0-9]{6,}"), "hf_***"),  # any Hugging Face token
    (re.compile(r"(://[^/\s:@]+):[^/\s@]+@"), r"\1:***@"),  # a password in a URL
)


def redact(text: str, token: str | None = None) -> str:
    """``text`` with the Hub token, and anything that looks like a credential, replaced by ``***``.

    Every message ``lcgen publish`` prints goes through here: a server or proxy may echo the request's
    ``Authorization`` header in an error body, which huggingface_hub puts into its exception's message.
    """
    for secret in {token, os.environ.get("HF_TOKEN"), _stored_token()}:
        if secret and len(secret) >= 8:  # a shorter "token" is no secret, and replacing it would garble the text
            text = text.replace(secret, "***")
    for pattern, replacement in _CREDENTIALS:
        text = pattern.sub(replacement, text)
    return text


def _stored_token() -> str | None:
    """The token huggingface_hub would use (HF_TOKEN or its login cache), if it is installed."""
    try:
        from huggingface_hub import get_token
    except ImportError:  # pragma: no cover
        return None
    return get_token()


def publish(p: Plan) -> PublishResult:
    """Create the repo (if needed) and the branch (if missing), upload the folder as one commit, tag it ``vX.Y.Z``.

    Refuses, before anything is uploaded: no token, offline mode, or a tag that already exists on the Hub.
    """
    try:
        from huggingface_hub import HfApi, constants, get_token
        from huggingface_hub.errors import RepositoryNotFoundError
    except ImportError:
        raise missing_dependency("publishing", "huggingface_hub") from None

    if constants.is_offline_mode():
        raise PublishError("HF_HUB_OFFLINE is set: publishing needs the Hub (--dry-run shows the plan offline)")
    token = get_token()
    if not token:
        raise PublishError("no Hugging Face token: set HF_TOKEN or log in with `hf auth login` (a write token)")
    api = HfApi(token=token)
    step = "reading the repo's refs"
    try:
        try:
            refs = api.list_repo_refs(p.repo_id, repo_type="dataset")
        except RepositoryNotFoundError:
            refs = None
        created_repo = refs is None
        if refs is not None and any(t.name == p.tag for t in refs.tags):
            raise PublishError(f"--version: tag {p.tag} already exists on {p.repo_id}; versions are never reused")
        step = "creating the repo"
        api.create_repo(p.repo_id, repo_type="dataset", private=p.private, exist_ok=True)
        if refs is None:
            refs = api.list_repo_refs(p.repo_id, repo_type="dataset")
        created_branch = False
        if not any(b.name == p.branch for b in refs.branches):
            step = f"creating branch {p.branch}"
            api.create_branch(p.repo_id, branch=p.branch, repo_type="dataset")
            refs = api.list_repo_refs(p.repo_id, repo_type="dataset")
            created_branch = True
        head = next(b.target_commit for b in refs.branches if b.name == p.branch)
        step = f"uploading to branch {p.branch}"
        with tempfile.TemporaryDirectory(prefix="lcgen-publish-") as tmp:
            _stage(p, Path(tmp))
            commit = api.upload_folder(
                repo_id=p.repo_id, folder_path=tmp, repo_type="dataset", revision=p.branch, parent_commit=head,
                commit_message=f"lcgen publish {p.tag}",
                commit_description=f"{p.samples} samples of {p.family}, published with lcgen {__version__}",
                delete_patterns=["*"],  # the branch then holds exactly this folder (.gitattributes is kept)
            )
        step = f"uploaded commit {commit.oid[:12]} to {p.branch} but tagging it {p.tag}"
        api.create_tag(p.repo_id, tag=p.tag, revision=commit.oid, repo_type="dataset",
                       tag_message=f"{p.tag}: {p.samples} samples, lcgen {__version__}")
    except PublishError:
        raise
    except (*_network_errors(), ValueError) as exc:  # ValueError: huggingface_hub's HFValidationError and kin
        raise PublishError(redact(f"{p.repo_id}: {step} failed: {_one_line(exc)}", token)) from None
    url = f"{api.endpoint}/datasets/{p.repo_id}/tree/{p.tag}"
    return PublishResult(p, commit.oid, url, created_repo, created_branch)


def describe_plan(p: Plan) -> list[str]:
    """The plan as lines for the terminal: repo, branch, tag, then every file with its size in bytes."""
    width = max(len(f"{f.size:,}") for f in p.files)
    lines = [
        f"repo    {p.repo_id} (dataset; created {'private' if p.private else 'public'} if missing)",
        f"branch  {p.branch} (created from main if missing; the commit leaves exactly these files on it)",
        f"tag     {p.tag} (refused if it exists)",
        f"files   {len(p.files)}, {p.total_bytes:,} bytes, {p.samples} samples of {p.family}",
    ]
    for f in p.files:
        lines.append(f"  {f.size:>{width},}  {f.path}" + (f"  ({f.note})" if f.note else ""))
    return lines


__all__ = ["Plan", "PublishError", "PublishResult", "check_folder", "coverage_png", "describe_plan", "plan",
           "publish", "redact", "render_card"]
