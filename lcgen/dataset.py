"""Dataset folders laid out as Hub dataset repos: ``README.md`` (card + YAML) and ``data/<config>/<split>-*.parquet``.

Parquet is written with pyarrow directly (importing ``datasets`` costs seconds), with the ``datasets`` features
embedded in the schema metadata so ``load_dataset`` sees exactly the declared types.
"""

from __future__ import annotations

import dataclasses
import math
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from ._version import __version__
from .errors import DatasetError
from .params import choices_of, field_type, option_name
from .render import render
from .schema import FIELD_NAMES, SCHEMA, features_yaml

if TYPE_CHECKING:
    from .make import MakeRequest, SampleSpec

ROWS_PER_SHARD = 200  # 1M-token samples are ~2.5 MB each: ~500 MB shards, as push_to_hub makes them
ROWS_PER_GROUP = 8


def split_path(config: str, split: str, shard: int, shards: int) -> str:
    return f"data/{config}/{split}-{shard:05d}-of-{shards:05d}.parquet"


class DatasetWriter:
    """Streams rows (arriving in spec order) into one parquet file per shard and renders the card at the end."""

    def __init__(self, folder: Path, req: MakeRequest, specs: list[SampleSpec]):
        self.folder = folder
        self.req = req
        self.expected: OrderedDict[tuple[str, str], int] = OrderedDict()
        for s in specs:
            key = (s.variant, s.label)
            self.expected[key] = self.expected.get(key, 0) + 1
        self.stats: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
        self._key: tuple[str, str] | None = None
        self._writer: pq.ParquetWriter | None = None
        self._rows: list[dict[str, Any]] = []
        self._in_shard = 0
        self._shard = 0
        folder.mkdir(parents=True, exist_ok=True)

    def add(self, row: dict[str, Any], label: str) -> None:
        key = (row["variant"], label)
        if key != self._key:
            self._close_file()
            self._key, self._shard, self._in_shard = key, 0, 0
            self.stats[key] = {"n": 0, "min": None, "max": None, "exact": 0, "bytes": 0, "target": row["target_length"]}
        if self._writer is None:
            self._open_file()
        st = self.stats[key]
        st["n"] += 1
        st["min"] = row["length"] if st["min"] is None else min(st["min"], row["length"])
        st["max"] = row["length"] if st["max"] is None else max(st["max"], row["length"])
        st["exact"] += row["length"] == row["target_length"] or row["target_length"] == 0
        self._rows.append(row)
        self._in_shard += 1
        if len(self._rows) >= ROWS_PER_GROUP:
            self._flush()
        if self._in_shard >= ROWS_PER_SHARD:
            self._close_file()
            self._shard += 1
            self._in_shard = 0

    def _open_file(self) -> None:
        config, split = self._key
        shards = math.ceil(self.expected[self._key] / ROWS_PER_SHARD)
        path = self.folder / split_path(config, split, self._shard, shards)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = pq.ParquetWriter(path, SCHEMA, compression="zstd", compression_level=3)

    def _flush(self) -> None:
        if self._rows:
            table = pa.Table.from_pylist(self._rows, schema=SCHEMA)
            self.stats[self._key]["bytes"] += table.nbytes
            self._writer.write_table(table, row_group_size=len(self._rows))
            self._rows = []

    def _close_file(self) -> None:
        if self._writer is not None:
            self._flush()
            self._writer.close()
            self._writer = None

    def close(self) -> None:
        self._close_file()
        for key, n in self.expected.items():
            if self.stats.get(key, {}).get("n") != n:
                raise RuntimeError(f"split {key} got {self.stats.get(key, {}).get('n')} rows, expected {n}")
        (self.folder / "README.md").write_text(render_card(self.req, self.stats), encoding="utf-8")
        from .harness import write_harness_files

        write_harness_files(self.folder, self.req.family, list(self.stats))


def card_yaml(stats: OrderedDict[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
    """The card's YAML header: one config per variant, one split per length label."""
    configs: OrderedDict[str, list[tuple[str, dict[str, Any]]]] = OrderedDict()
    for (config, split), st in stats.items():
        configs.setdefault(config, []).append((split, st))
    return {
        "configs": [
            {
                "config_name": config,
                "data_files": [{"split": split, "path": f"data/{config}/{split}-*.parquet"} for split, _ in splits],
                **({"default": True} if i == 0 else {}),
            }
            for i, (config, splits) in enumerate(configs.items())
        ],
        "dataset_info": [
            {
                "config_name": config,
                "features": features_yaml(),
                "splits": [{"name": split, "num_bytes": st["bytes"], "num_examples": st["n"]} for split, st in splits],
            }
            for config, splits in configs.items()
        ],
        "tags": ["long-context", "synthetic", "lcgen"],
        "task_categories": ["question-answering"],
        "language": ["en"],
        "license": "cc-by-4.0",
        "pretty_name": None,
    }


def render_card(req: MakeRequest, stats: OrderedDict[tuple[str, str], dict[str, Any]]) -> str:
    """README.md: YAML header and a body that says how the data was made (cards/README.md.j2)."""
    from .tokenizer import get_tokenizer

    spec = req.spec()
    tok = get_tokenizer(req.tokenizer)
    header = card_yaml(stats)
    header["pretty_name"] = f"lcgen {spec.name}"
    knobs = []
    for f in dataclasses.fields(spec.params):
        tp = field_type(spec.params, f.name)
        choices = choices_of(tp)
        knobs.append({
            "option": option_name(f.name),
            "value": req.overrides.get(f.name, f.default),
            "overridden": f.name in req.overrides,
            "help": f.metadata["help"],
            "applies": ", ".join(f.metadata["variants"]) or "all",
            "choices": ", ".join(map(str, choices)) if choices else "",
        })
    splits = [
        {"config": c, "split": s, **st} for (c, s), st in stats.items()
    ]
    body = render(
        "README.md.j2",
        package="lcgen.cards",
        family=spec.name,
        description=spec.description,
        family_version=spec.version,
        lcgen_version=__version__,
        command=req.command,
        seed=req.seed,
        tokenizer=tok.name,
        tokenizer_hash=tok.vocab_hash,
        depths=[f"{d:g}" for d in req.depths],
        samples=req.samples,
        variants={v: spec.variants[v] for v in req.variant_list()},
        knobs=knobs,
        splits=splits,
        papers=list(spec.papers),
        depth_meaning=spec.depth_meaning,
        answer_format=spec.answer_format,
        haystack=_haystack_facts(req),
        first_config=splits[0]["config"],
        first_split=splits[0]["split"],
    )
    return "---\n" + yaml.safe_dump(header, sort_keys=False, allow_unicode=True) + "---\n\n" + body


def _haystack_facts(req: MakeRequest) -> dict[str, str] | None:
    spec = req.haystack_spec()
    if spec is None:
        return None
    from .haystack import get_haystack

    source = get_haystack(spec)
    return {"spec": spec, "description": source.description, "license": source.license}


def read_card(folder: Path) -> dict[str, Any]:
    """The YAML header of a dataset folder's README.md."""
    card = folder / "README.md"
    if not folder.is_dir():
        raise DatasetError(f"{folder}: no such dataset folder")
    if not card.is_file():
        raise DatasetError(f"{folder}: no README.md card; not an lcgen dataset folder")
    text = card.read_text(encoding="utf-8")
    if not text.startswith("---\n") or "\n---\n" not in text[4:]:
        raise DatasetError(f"{card}: no YAML header")
    try:
        header = yaml.safe_load(text[4 : text.index("\n---\n", 4)])
    except yaml.YAMLError as exc:
        raise DatasetError(f"{card}: YAML header does not parse ({str(exc).splitlines()[0]})") from None
    if not isinstance(header, dict) or not isinstance(header.get("configs"), list):
        raise DatasetError(f"{card}: YAML header has no configs")
    return header


def iter_splits(folder: Path) -> list[tuple[str, str, list[Path], int | None]]:
    """(config, split, parquet files, declared example count) for every split the card declares."""
    header = read_card(folder)
    declared: dict[tuple[str, str], int] = {}
    for info in header.get("dataset_info") or []:
        for s in info.get("splits", []):
            declared[(info["config_name"], s["name"])] = s.get("num_examples")
    out = []
    for cfg in header["configs"]:
        for df in cfg.get("data_files", []):
            files = sorted(folder.glob(df["path"]))
            if not files:
                raise DatasetError(f"{folder}: config {cfg['config_name']!r} split {df['split']!r} has no files")
            out.append((cfg["config_name"], df["split"], files, declared.get((cfg["config_name"], df["split"]))))
    return out


def read_rows(files: list[Path], columns: list[str] | None = None) -> list[dict[str, Any]]:
    """Rows of parquet files, refusing files that are not lcgen-shaped."""
    rows: list[dict[str, Any]] = []
    for f in files:
        try:
            table = pq.read_table(f, columns=columns)
        except (pa.ArrowInvalid, OSError) as exc:
            raise DatasetError(f"{f}: not a readable parquet file ({str(exc).splitlines()[0]})") from None
        missing = [c for c in (columns or FIELD_NAMES) if c not in table.column_names]
        if missing:
            raise DatasetError(f"{f}: missing columns {', '.join(missing)}")
        rows.extend(table.to_pylist())
    return rows


__all__ = ["DatasetWriter", "iter_splits", "read_card", "read_rows", "render_card", "__version__"]
