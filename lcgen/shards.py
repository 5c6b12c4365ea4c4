"""Shards: a split's rows cut into parquet files by row counts alone, each written to a temporary name and renamed
when complete, with a small record of what it holds so an interrupted run can resume where it stopped.

Shard boundaries depend only on the split's sample count and ``--shard-size``, and a shard's bytes only on its
rows, so the same run gives the same files whichever engine, worker count or resume wrote them.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq

from .errors import ParamError

if TYPE_CHECKING:
    from .make import SampleSpec

SHARD_TOKENS = 100_000_000  # --shard-size auto: about 400 MB of text a shard (Hub datasets aim at ~500 MB files)
UNBOUNDED_SHARD_ROWS = 200  # a split without a target length (the context is the needles alone)
GROUP_TOKENS = 4_000_000  # a row group holds about 16 MB of text, however long the samples
MIN_GROUP_ROWS, MAX_GROUP_ROWS = 8, 2048
TEXT_BYTES_PER_TOKEN = 4  # --shard-size in bytes is turned into rows with this estimate (English under BPE)
RUN_FOLDER = ".lcgen-run"  # inside the temporary folder: the manifest and each finished shard's record
PARTIAL_TAG = ".partial-"

_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B)\s*", re.IGNORECASE)
_UNITS = {"kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


@dataclass(frozen=True)
class ShardSize:
    """``--shard-size``: auto, a row count, or bytes of text turned into rows from the split's target length."""

    rows: int | None = None
    text_bytes: int | None = None

    def rows_for(self, target: int | None) -> int:
        if self.rows is not None:
            return self.rows
        if target is None:
            return UNBOUNDED_SHARD_ROWS
        if self.text_bytes is not None:
            return max(1, self.text_bytes // (TEXT_BYTES_PER_TOKEN * target))
        return max(1, SHARD_TOKENS // target)

    def __str__(self) -> str:
        return "auto" if self.rows is None and self.text_bytes is None else (
            str(self.rows) if self.rows is not None else f"{self.text_bytes} bytes")


def parse_shard_size(text: str) -> ShardSize:
    """``auto``, rows (``20000``) or bytes of text (``500MB``, ``1GiB``)."""
    value = str(text).strip()
    if value.lower() == "auto":
        return ShardSize()
    if value.isdigit():
        rows = int(value)
        if rows < 1:
            raise ParamError(f"--shard-size: {value} must be at least 1 row")
        return ShardSize(rows=rows)
    match = _SIZE.fullmatch(value)
    if not match:
        raise ParamError(f"--shard-size: {value!r} is not auto, a row count (20000) or a size (500MB, 1GiB)")
    size = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    if size < 1:
        raise ParamError(f"--shard-size: {value!r} is no bytes")
    return ShardSize(text_bytes=size)


def group_rows(target: int | None) -> int:
    """Rows per parquet row group: about GROUP_TOKENS of text, never fewer than 8 (1M-token samples) or more
    than 2048 rows."""
    if target is None:
        return MIN_GROUP_ROWS
    return max(MIN_GROUP_ROWS, min(MAX_GROUP_ROWS, GROUP_TOKENS // target))


@dataclass(frozen=True)
class SplitRecipe:
    """One split's samples without making them: the first sample's spec and what varies between them (depth, then
    index), so a split of millions of samples costs nothing until a shard asks for its slice."""

    config: str
    split: str
    first: SampleSpec
    depths: tuple[float, ...]
    samples: int
    explicit: tuple[SampleSpec, ...] | None = None  # specs carrying a run-wide stage's payloads

    @property
    def n(self) -> int:
        return len(self.explicit) if self.explicit is not None else len(self.depths) * self.samples

    @property
    def typical_target(self) -> int | None:
        """Tokens a sample has (for sizing shards and row groups)."""
        return self.first.prompt_target

    def spec_at(self, position: int) -> SampleSpec:
        if self.explicit is not None:
            return self.explicit[position]
        depth, index = divmod(position, self.samples)
        return replace(self.first, depth=self.depths[depth], index=index)

    def specs(self, start: int = 0, stop: int | None = None) -> Iterator[SampleSpec]:
        for position in range(start, self.n if stop is None else stop):
            yield self.spec_at(position)


@dataclass(frozen=True)
class Shard:
    """Rows ``start:stop`` of a split, written as ``data/<config>/<split>-<index>-of-<count>.parquet``."""

    recipe: SplitRecipe
    index: int
    count: int
    start: int
    stop: int
    group_rows: int

    @property
    def n(self) -> int:
        return self.stop - self.start

    @property
    def path(self) -> str:
        return f"data/{self.recipe.config}/{self.recipe.split}-{self.index:05d}-of-{self.count:05d}.parquet"

    @property
    def key(self) -> str:
        return f"{self.recipe.config}/{self.recipe.split}/{self.index}"

    def specs(self) -> Iterator[SampleSpec]:
        return self.recipe.specs(self.start, self.stop)


def plan_shards(recipes: Iterable[SplitRecipe], size: ShardSize) -> list[Shard]:
    """Every shard of the run, in the order the rows are laid out."""
    out = []
    for recipe in recipes:
        target = recipe.typical_target
        per = size.rows_for(target)
        count = max(1, math.ceil(recipe.n / per))
        for i in range(count):
            out.append(Shard(recipe, i, count, i * per, min(recipe.n, (i + 1) * per), group_rows(target)))
    return out


@dataclass
class ShardStats:
    """What the card needs of a shard's rows: counts, lengths, sizes, the rows' digests in order, difficulty."""

    key: str
    n: int = 0
    tokens: int = 0
    min: int | None = None
    max: int | None = None
    exact: int = 0
    bytes: int = 0
    answer_bytes: int = 0
    input_bytes: int = 0
    target: int = 0
    digests: bytes = b""
    difficulty: dict[str, dict[str, int]] = field(default_factory=dict)
    tasks: dict[str, int] = field(default_factory=dict)  # rows per family/variant (a mixture's card counts them)
    repeated_samples: int = 0
    repeated_sentences: int = 0
    sha256: str = ""  # of the parquet file

    def record(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in ("key", "n", "tokens", "min", "max", "exact", "bytes", "answer_bytes",
                                             "input_bytes", "target", "difficulty", "tasks", "repeated_samples",
                                             "repeated_sentences", "sha256")}
        return {**out, "digests": self.digests.hex()}

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> ShardStats:
        return cls(**{**data, "digests": bytes.fromhex(data["digests"])})


def write_shard(folder: Path, shard: Shard, rows: Iterable[dict[str, Any]], difficulty: tuple[str, ...],
                schema: Any) -> ShardStats:
    """Write ``rows`` (exactly ``shard.n`` of them) to the shard's file under a temporary name, then rename it."""
    from .dataset import row_digest, rows_to_table

    final = folder / shard.path
    final.parent.mkdir(parents=True, exist_ok=True)
    partial = final.with_name(f".{final.name}{PARTIAL_TAG}{os.getpid()}")
    stats = ShardStats(shard.key)
    digests: list[bytes] = []
    batch: list[dict[str, Any]] = []
    writer = pq.ParquetWriter(partial, schema, compression="zstd", compression_level=3)
    try:
        def flush() -> None:
            table = rows_to_table(batch, schema)
            stats.bytes += table.nbytes
            writer.write_table(table, row_group_size=len(batch))
            batch.clear()

        for row in rows:
            _count(stats, row, difficulty)
            digests.append(row_digest(row))
            batch.append(row)
            if len(batch) >= shard.group_rows:
                flush()
        if batch:
            flush()
        writer.close()
        if stats.n != shard.n:
            raise RuntimeError(f"shard {shard.key} got {stats.n} rows, expected {shard.n}")
        stats.digests = b"".join(digests)
        stats.sha256 = file_sha256(partial)
        os.replace(partial, final)
    except BaseException:
        writer.close()
        partial.unlink(missing_ok=True)
        raise
    return stats


def _count(st: ShardStats, row: dict[str, Any], difficulty: tuple[str, ...]) -> None:
    st.n += 1
    task = f"{row['task']}/{row['variant']}"
    st.tasks[task] = st.tasks.get(task, 0) + 1
    st.tokens += row["length"]
    st.target = row["target_length"]
    st.min = row["length"] if st.min is None else min(st.min, row["length"])
    st.max = row["length"] if st.max is None else max(st.max, row["length"])
    st.exact += row["length"] == row["target_length"] or row["target_length"] == 0
    repeats = '"haystack_repeats"' in row["meta"]  # only samples of an --allow-repeat run that needed it
    meta = json.loads(row["meta"]) if repeats or difficulty else {}
    if repeats:
        st.repeated_samples += 1
        st.repeated_sentences += meta["haystack_repeats"]
    for name in difficulty:
        counts = st.difficulty.setdefault(name, {})
        if meta.get(name) is not None:  # None: the key does not apply to this variant
            value = meta[name] if isinstance(meta[name], str) else json.dumps(meta[name], ensure_ascii=False)
            counts[value] = counts.get(value, 0) + 1
    st.answer_bytes = max(st.answer_bytes, len(row["answer"].encode("utf-8")))
    st.input_bytes = max(st.input_bytes, len(row["input"].encode("utf-8")))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class RunRecord:
    """``.lcgen-run/`` in the temporary folder: which run this is, and one record per finished shard.

    A shard counts as done only when its file has its final name and its record is written (records are written
    after the rename, each to a temporary name first), so a kill at any point leaves either a finished shard or one
    that is made again.
    """

    def __init__(self, tmp: Path):
        self.root = tmp / RUN_FOLDER

    def start(self, fingerprint: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        _write_atomic(self.root / "manifest.json", json.dumps(fingerprint, indent=2, sort_keys=True) + "\n")

    def fingerprint(self) -> dict[str, Any] | None:
        try:
            return json.loads((self.root / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def _record_path(self, shard: Shard) -> Path:
        name = hashlib.sha256(shard.key.encode()).hexdigest()[:32]  # config names may hold any character
        return self.root / f"{name}.json"

    def done(self, shard: Shard, stats: ShardStats) -> None:
        _write_atomic(self._record_path(shard), json.dumps(stats.record(), sort_keys=True))

    def finished(self, shard: Shard, folder: Path) -> ShardStats | None:
        """The shard's record if the shard is complete and unchanged on disk, else None (it is made again)."""
        try:
            data = json.loads(self._record_path(shard).read_text(encoding="utf-8"))
            stats = ShardStats.from_record(data)
        except (OSError, ValueError, TypeError, KeyError):
            return None
        path = folder / shard.path
        if stats.key != shard.key or stats.n != shard.n or not path.is_file() or file_sha256(path) != stats.sha256:
            return None
        return stats

    def remove(self) -> None:
        import shutil

        shutil.rmtree(self.root, ignore_errors=True)


def remove_partials(folder: Path) -> None:
    """Shard files a killed worker left under their temporary names."""
    data = folder / "data"
    if not data.is_dir():
        return
    for path in sorted(data.rglob(f".*{PARTIAL_TAG}*")):
        if path.is_file() and not path.is_symlink():
            path.unlink(missing_ok=True)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
