"""Dataset folders laid out as Hub dataset repos: ``README.md`` (card + YAML) and ``data/<config>/<split>-*.parquet``.

Parquet is written with pyarrow directly (importing ``datasets`` costs seconds), with the ``datasets`` features
embedded in the schema metadata so ``load_dataset`` sees exactly the declared types.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import OrderedDict
from pathlib import Path, PurePosixPath, PureWindowsPath
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from ._version import __version__
from .errors import DatasetError
from .params import choices_of, field_type, option_name
from .render import render
from .schema import FIELD_NAMES, FIELDS, SCHEMA, features_yaml

if TYPE_CHECKING:
    from .harness import SplitSizes
    from .make import MakeRequest
    from .shards import ShardStats

def split_path(config: str, split: str, shard: int, shards: int) -> str:
    return f"data/{config}/{split}-{shard:05d}-of-{shards:05d}.parquet"


class SplitFigures:
    """Each split's figures for the card (counts, lengths, sizes, the rows' sha256, difficulty), gathered from the
    shards' records in layout order."""

    def __init__(self, expected: OrderedDict[tuple[str, str], int]):
        self.expected = expected
        self.stats: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()

    def add_shard(self, config: str, split: str, shard: ShardStats) -> None:
        key = (config, split)
        st = self.stats.get(key)
        if st is None:
            st = self.stats[key] = {"n": 0, "min": None, "max": None, "exact": 0, "bytes": 0, "target": shard.target,
                                    "answer_bytes": 0, "input_bytes": 0, "content": hashlib.sha256()}
        st["n"] += shard.n
        st["min"] = shard.min if st["min"] is None else min(st["min"], shard.min)
        st["max"] = shard.max if st["max"] is None else max(st["max"], shard.max)
        st["exact"] += shard.exact
        st["bytes"] += shard.bytes
        st["answer_bytes"] = max(st["answer_bytes"], shard.answer_bytes)
        st["input_bytes"] = max(st["input_bytes"], shard.input_bytes)
        st["content"].update(shard.digests)
        if shard.repeated_samples:
            st["repeated_samples"] = st.get("repeated_samples", 0) + shard.repeated_samples
            st["repeated_sentences"] = st.get("repeated_sentences", 0) + shard.repeated_sentences
        for name, values in shard.difficulty.items():
            counts = st.setdefault("difficulty", {}).setdefault(name, {})
            for value, n in values.items():
                counts[value] = counts.get(value, 0) + n

    def check(self) -> None:
        for key, n in self.expected.items():
            if self.stats.get(key, {}).get("n") != n:
                raise RuntimeError(f"split {key} got {self.stats.get(key, {}).get('n')} rows, expected {n}")


class DatasetWriter:
    """Gathers each shard's record (lcgen.shards.ShardStats), in layout order, into per-split figures, and writes
    the card, the tokenizer manifest and the harness files at the end. The shards themselves are written by
    ``lcgen.shards.write_shard``, in this process or a worker's."""

    def __init__(self, folder: Path, req: MakeRequest, expected: OrderedDict[tuple[str, str], int],
                 card_section: str = ""):
        self.folder = folder
        self.req = req
        self.card_section = card_section  # the family's run-wide stage's own section (lcgen.make.Prepared.card)
        self.figures = SplitFigures(expected)
        self.stats = self.figures.stats
        folder.mkdir(parents=True, exist_ok=True)

    def add_shard(self, config: str, split: str, shard: ShardStats) -> None:
        self.figures.add_shard(config, split, shard)

    def close(self) -> None:
        self.figures.check()
        from .harness import SplitSizes, write_harness_files

        # The sizes the card's commands and the task files need, from the rows as they went by (not read back).
        sizes = [SplitSizes(config, split, st["n"], st["answer_bytes"], st["input_bytes"])
                 for (config, split), st in self.stats.items()]
        if self.req.spec().lm_eval_tasks is not None:  # tasks by length: the card names them too
            from .harness import with_length_facts

            sizes = [with_length_facts(self.folder, s) for s in sizes]
        (self.folder / TOKENIZERS_FILE).write_text(tokenizers_manifest(self.req), encoding="utf-8")
        card = render_card(self.req, self.stats, sizes, self.card_section)
        (self.folder / "README.md").write_text(card, encoding="utf-8")
        write_harness_files(self.folder, self.req.family, list(self.stats), sizes)


TOKENIZERS_FILE = "tokenizers.json"


def tokenizers_manifest(req: MakeRequest) -> str:
    """tokenizers.json: each tokenizer the rows were counted with, as ``lcgen validate`` finds it again (a Hub
    model by repo and commit, a local file by its absolute path, either checked by sha256), and the chat template
    rendered around its prompts (text and special tokens, so validate can render the messages again)."""
    entries = []
    for t in req.tokenizers():
        entries.append({
            **{k: t.identity[k] for k in ("name", "spec", "kind", "repo", "revision", "path", "sha256")},
            "config_suffix": f"__{t.slug}" if len(req.tokenizers()) > 1 else "",
            "chat_template": None if t.chat is None else t.chat.record(),
        })
    return json.dumps({"tokenizers": entries, "reserve_output": req.reserve_output, "format": req.format}, indent=2,
                      ensure_ascii=False, sort_keys=True) + "\n"


def read_tokenizers_manifest(folder: Path) -> list[dict[str, Any]]:
    """tokenizers.json's entries, or [] for a dataset made before lcgen 0.5.0 (or without it)."""
    path = folder / TOKENIZERS_FILE
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = data["tokenizers"]
        if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("name"), str)
                                                    and isinstance(e.get("sha256"), str) for e in entries):
            raise ValueError("entries are not objects with name and sha256")
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise DatasetError(f"{path}: not lcgen's tokenizer manifest ({str(exc).splitlines()[0]})") from None
    return entries


def rows_to_table(rows: list[dict[str, Any]], schema: pa.Schema = SCHEMA) -> pa.Table:
    """The rows as an Arrow table of ``schema`` (lcgen's, with ``input_ids`` when asked), built from raw buffers.

    Same table as ``pa.Table.from_pylist``, which imports pandas (a sixth of a second) the first time it runs.
    """
    return pa.Table.from_arrays([_column([r[f.name] for r in rows], f.type) for f in schema], schema=schema)


def _column(values: list[Any], dtype: pa.DataType) -> pa.Array:
    valid = np.fromiter((v is not None for v in values), dtype=bool, count=len(values))
    nulls = len(values) - int(valid.sum())
    validity = pa.py_buffer(np.packbits(valid, bitorder="little")) if nulls else None
    if pa.types.is_string(dtype):
        data = [b"" if v is None else v.encode("utf-8") for v in values]
        offsets = _offsets(map(len, data), len(data))
        return pa.Array.from_buffers(dtype, len(values), [validity, offsets, pa.py_buffer(b"".join(data))], nulls)
    if pa.types.is_struct(dtype):
        children = [_column([None if v is None else v[f.name] for v in values], f.type) for f in dtype]
        return pa.StructArray.from_arrays(children, fields=list(dtype),
                                          mask=pa.array(~valid) if nulls else None)
    if pa.types.is_list(dtype) and pa.types.is_integer(dtype.value_type):  # token ids: numpy arrays, not lists
        items = [np.asarray([] if v is None else v, dtype=_NUMPY_TYPES[dtype.value_type]) for v in values]
        child = pa.array(np.concatenate(items) if items else np.zeros(0, _NUMPY_TYPES[dtype.value_type]))
        offsets = _offsets(map(len, items), len(items))
        return pa.Array.from_buffers(dtype, len(values), [validity, offsets], nulls, children=[child])
    if pa.types.is_list(dtype):
        items = [[] if v is None else v for v in values]
        child = _column([x for item in items for x in item], dtype.value_type)
        offsets = _offsets(map(len, items), len(items))
        return pa.Array.from_buffers(dtype, len(values), [validity, offsets], nulls, children=[child])
    numbers = np.asarray([0 if v is None else v for v in values], dtype=_NUMPY_TYPES[dtype])
    return pa.Array.from_buffers(dtype, len(values), [validity, pa.py_buffer(numbers)], nulls)


_NUMPY_TYPES = {pa.int64(): np.int64, pa.int32(): np.int32, pa.float64(): np.float64}


def _offsets(sizes: Any, n: int) -> pa.Buffer:
    ends = np.fromiter(sizes, dtype=np.int64, count=n).cumsum()
    if n and ends[-1] >= 2**31:
        raise DatasetError("a row group holds more than 2 GiB of text; give a smaller --shard-size")
    return pa.py_buffer(np.concatenate([[0], ends]).astype(np.int32))


def card_yaml(stats: OrderedDict[tuple[str, str], dict[str, Any]], input_ids: bool = False) -> dict[str, Any]:
    """The card's YAML header: one config per variant, one split per length label."""
    configs: OrderedDict[str, list[tuple[str, dict[str, Any]]]] = OrderedDict()
    for (config, split), st in stats.items():
        configs.setdefault(config, []).append((split, st))
    return {
        "configs": [
            {
                "config_name": config,
                "description": content_fingerprint([(split, st["content"].hexdigest()) for split, st in splits]),
                "data_files": [{"split": split, "path": f"data/{config}/{split}-*.parquet"} for split, _ in splits],
                **({"default": True} if i == 0 else {}),
            }
            for i, (config, splits) in enumerate(configs.items())
        ],
        "dataset_info": [
            {
                "config_name": config,
                "features": features_yaml(input_ids),
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


def row_digest(row: dict[str, Any]) -> bytes:
    """sha256 of one row's values as stored (an int depth as the float it becomes), in schema order.

    Not of parquet bytes: those also name the pyarrow version that wrote them.
    """
    values = [_as_stored(row[f.name], f.type) for f in SCHEMA]
    return hashlib.sha256(json.dumps(values, ensure_ascii=False).encode()).digest()


def _as_stored(value: Any, dtype: pa.DataType) -> Any:
    if value is None:
        return None
    if pa.types.is_list(dtype):
        return [_as_stored(v, dtype.value_type) for v in value]
    if pa.types.is_struct(dtype):
        return [_as_stored(value.get(f.name), f.type) for f in dtype]
    return float(value) if pa.types.is_floating(dtype) else value


def content_fingerprint(split_digests: list[tuple[str, str]]) -> str:
    """A config's ``description``: the sha256 of its rows, split by split.

    ``datasets`` keys its cache of a local folder on the card's YAML (builder configs and split sizes), which a
    remake of equal shape leaves unchanged; a builder config's ``description`` is part of that key, so naming the
    content there makes every remake load fresh.
    """
    digest = hashlib.sha256()
    for split, split_digest in split_digests:
        digest.update(f"{split} {split_digest}\n".encode())
    return f"{FINGERPRINT_PREFIX}{digest.hexdigest()}"


FINGERPRINT_PREFIX = "lcgen content sha256:"


def _distribution(counts: dict[str, dict[str, int]]) -> dict[str, str]:
    """Each difficulty key's values with their sample counts, numbers in numeric order: "1: 12 · 2: 9"."""
    def order(value: str) -> tuple[int, float, str]:
        try:
            return (0, float(value), value)
        except ValueError:
            return (1, 0.0, value)

    return {name: " · ".join(f"{v}: {n}" for v, n in sorted(values.items(), key=lambda kv: order(kv[0])))
            for name, values in counts.items()}


def _first_line(fn: Any) -> str:
    """A declared source's description: its docstring's first line, without the closing full stop."""
    import inspect

    return (inspect.getdoc(fn) or fn.__name__).splitlines()[0].rstrip(".")


def render_card(req: MakeRequest, stats: OrderedDict[tuple[str, str], dict[str, Any]],
                sizes: list[SplitSizes] | None = None, family_section: str = "") -> str:
    """README.md: YAML header and a body that says how the data was made (cards/README.md.j2).

    With the splits' ``sizes``, the body also gets the harness commands sized to its prompts.
    """
    from .harness import run_section

    spec = req.spec()
    toks = req.tokenizers()
    header = card_yaml(stats, req.input_ids)
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
        {"config": c, "split": s, **st, "difficulty": _distribution(st.get("difficulty", {}))}
        for (c, s), st in stats.items()
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
        tokenizers=[{**t.identity, "slug": t.slug, "chat": None if t.chat is None else
                     {"source": t.chat.source, "sha256": t.chat.sha256}} for t in toks],
        several_tokenizers=len(toks) > 1,
        chat_template=req.chat_template,
        reserve_output=req.reserve_output,
        chat_history=req.format == "chat-history",
        depths=[f"{d:g}" for d in req.depth_list()],
        samples=req.samples,
        variants={v: spec.variants[v] for v in req.variant_list()},
        knobs=knobs,
        splits=splits,
        papers=list(spec.papers),
        depth_meaning=spec.depth_meaning,
        depth_of=spec.depth_of,
        difficulty=list(spec.difficulty),
        source=_first_line(spec.source) if spec.source else "",
        answer_format=spec.answer_format,
        haystack=_haystack_facts(req),
        repeats={k: sum(st.get(k, 0) for st in stats.values()) for k in ("repeated_samples", "repeated_sentences")},
        first_config=splits[0]["config"],
        first_split=splits[0]["split"],
        run_section=run_section(sizes, spec.name) if sizes else "",
        family_section=family_section,
        llm_family=spec.prepare is not None,
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
    """The YAML header of a dataset folder's README.md, checked against the shape lcgen's commands read."""
    card = folder / "README.md"
    if not folder.is_dir():
        raise DatasetError(f"{folder}: no such dataset folder")
    if not card.is_file():
        raise DatasetError(f"{folder}: no README.md card; not an lcgen dataset folder")
    if not card.resolve().is_relative_to(folder.resolve()):
        raise DatasetError(f"{card}: resolves outside the dataset folder; not read")
    try:
        text = card.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{card}: not UTF-8 text (byte {exc.start} is {exc.object[exc.start]:#04x})") from None
    except OSError as exc:
        raise DatasetError(f"{card}: cannot be read ({exc.strerror})") from None
    if not text.startswith("---\n") or "\n---\n" not in text[4:]:
        raise DatasetError(f"{card}: no YAML header")
    try:
        header = yaml.safe_load(text[4 : text.index("\n---\n", 4)])
    except yaml.YAMLError as exc:
        raise DatasetError(f"{card}: YAML header does not parse ({str(exc).splitlines()[0]})") from None
    except RecursionError:
        raise DatasetError(f"{card}: YAML header nests too deeply to parse") from None
    check_card(header, card)
    return header


_KINDS = {str: "text", list: "a list", dict: "a mapping", int: "a whole number >= 0"}


def check_card(header: Any, card: Path) -> None:
    """Refuse, in one line naming the key, a header that is not what ``iter_splits``, score and publish read:
    ``configs`` (each with ``config_name`` and ``data_files`` of ``{split, path}``) and, if present,
    ``dataset_info`` (each with ``config_name`` and ``splits`` of ``{name, num_examples}``)."""

    def fail(key: str, what: str) -> NoReturn:
        raise DatasetError(f"{card}: {key} {what}")

    def get(obj: dict, key: str, where: str, kind: type, *, required: bool = True) -> Any:
        name = f"{where}.{key}" if where else key
        if obj.get(key) is None:
            if required:
                fail(name, "is missing")
            return None
        value = obj[key]
        if not isinstance(value, kind) or (kind is int and (isinstance(value, bool) or value < 0)):
            fail(name, f"must be {_KINDS[kind]}, not {kind_of(value)}")
        if kind in (str, list) and not value:
            fail(name, "is empty")
        return value

    def mappings(items: list, base: str, holds: str) -> Iterator[tuple[str, dict]]:
        """Each entry of a card list with its key path, refusing one that is not a mapping."""
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                fail(f"{base}[{i}]", f"must be a mapping with {holds}, not {kind_of(item)}")
            yield f"{base}[{i}]", item

    if not isinstance(header, dict):
        raise DatasetError(f"{card}: the YAML header must be a mapping, not {kind_of(header)}")
    names: dict[str, str] = {}
    for where, cfg in mappings(get(header, "configs", "", list), "configs", "config_name and data_files"):
        name = get(cfg, "config_name", where, str)
        if name in names:
            fail(f"{where}.config_name", f"{name!r} repeats {names[name]}")
        names[name] = where
        splits: dict[str, str] = {}
        for entry, df in mappings(get(cfg, "data_files", where, list), f"{where}.data_files", "split and path"):
            split = get(df, "split", entry, str)
            if split in splits:
                fail(f"{entry}.split", f"{split!r} repeats {splits[split].rpartition('.')[2]}")
            splits[split] = entry
            problem = _pattern_problem(get(df, "path", entry, str))
            if problem:
                fail(f"{entry}.path", problem)
    info = header.get("dataset_info")
    if info is None:
        return
    if not isinstance(info, list):
        fail("dataset_info", f"must be a list, not {kind_of(info)}")
    seen: dict[tuple[str, str], str] = {}
    for where, entry in mappings(info, "dataset_info", "config_name and splits"):
        config = get(entry, "config_name", where, str)
        for split_key, s in mappings(get(entry, "splits", where, list), f"{where}.splits", "name and num_examples"):
            pair = (config, get(s, "name", split_key, str))
            if pair in seen:
                fail(f"{split_key}.name", f"{pair[1]!r} of config {config!r} repeats {seen[pair]}")
            seen[pair] = split_key
            get(s, "num_examples", split_key, int, required=False)
            get(s, "num_bytes", split_key, int, required=False)


def kind_of(value: Any, mapping: str = "a mapping") -> str:
    """A parsed YAML or JSON value's kind for a message (its text could be long or hostile)."""
    kinds = {str: "text", list: "a list", dict: mapping, bool: "true/false", int: "a number", float: "a number",
             type(None): "null"}
    return kinds.get(type(value), type(value).__name__)


def _pattern_problem(path: str) -> str:
    """Why a card's ``data_files`` path may not be globbed inside the folder, or ""."""
    if "://" in path:
        return f"{path!r} must be a path inside the dataset folder, not a URL"
    if any(ord(c) < 32 or ord(c) == 127 for c in path):
        return "holds a control character"
    pure = PurePosixPath(path)
    if pure.is_absolute() or PureWindowsPath(path).drive or path.startswith("~"):
        return f"{path!r} must be relative to the dataset folder"
    if ".." in pure.parts or ".." in PureWindowsPath(path).parts:
        return f"{path!r} may not leave the dataset folder ('..')"
    return ""


def iter_splits(folder: Path) -> list[tuple[str, str, list[Path], int | None]]:
    """(config, split, parquet files, declared example count) for every split the card declares.

    Every file a pattern matches must lie inside the folder once symlinks are resolved: a card cannot make lcgen
    read elsewhere.
    """
    header = read_card(folder)
    declared: dict[tuple[str, str], int | None] = {}
    for info in header.get("dataset_info") or []:
        for s in info["splits"]:
            declared[(info["config_name"], s["name"])] = s.get("num_examples")
    root = folder.resolve()
    out = []
    for i, cfg in enumerate(header["configs"]):
        for j, df in enumerate(cfg["data_files"]):
            try:
                files = sorted(p for p in folder.glob(df["path"]) if p.is_file())
            except (ValueError, NotImplementedError) as exc:
                raise DatasetError(f"{folder / 'README.md'}: configs[{i}].data_files[{j}].path "
                                   f"{df['path']!r} is not a usable pattern ({exc})") from None
            for f in files:
                if not f.resolve().is_relative_to(root):
                    raise DatasetError(f"{f}: resolves outside the dataset folder {folder}; not read")
            if not files:
                raise DatasetError(f"{folder}: config {cfg['config_name']!r} split {df['split']!r} has no files")
            out.append((cfg["config_name"], df["split"], files, declared.get((cfg["config_name"], df["split"]))))
    return out


def _kind(dtype: pa.DataType) -> str:
    """An Arrow type as the kind a reader gets (large and small variants alike)."""
    if pa.types.is_list(dtype) or pa.types.is_large_list(dtype) or pa.types.is_fixed_size_list(dtype):
        return f"list of {_kind(dtype.value_type)}"
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return "string"
    if pa.types.is_struct(dtype):
        return "message"  # lcgen's only struct: {role, content}
    if pa.types.is_integer(dtype):
        return "integer"
    if pa.types.is_floating(dtype):
        return "float"
    return str(dtype)


def check_parquet_schema(path: Path, schema: pa.Schema, columns: list[str] | None = None) -> None:
    """Refuse a parquet file whose columns are missing or not of lcgen's schema (``lcgen.schema.SCHEMA``)."""
    wanted = columns or FIELD_NAMES
    missing = [c for c in wanted if c not in schema.names]
    if missing:
        raise DatasetError(f"{path}: missing columns {', '.join(missing)}")
    for name in wanted:
        got, expected = _kind(schema.field(name).type), _kind(SCHEMA.field(name).type)
        if got != expected:
            raise DatasetError(f"{path}: column {name} holds {got}, lcgen's schema says {expected}")


def read_rows(files: list[Path], columns: list[str] | None = None) -> list[dict[str, Any]]:
    """Rows of parquet files, refusing files that are not lcgen-shaped (missing or wrongly typed columns)."""
    rows: list[dict[str, Any]] = []
    for f in files:
        try:
            check_parquet_schema(f, pq.read_schema(f), columns)
            table = pq.read_table(f, columns=columns)
        except (pa.ArrowInvalid, OSError) as exc:
            raise DatasetError(f"{f}: not a readable parquet file ({str(exc).splitlines()[0]})") from None
        rows.extend(table.to_pylist())
    return rows


_PYTHON_TYPES = {"string": (str,), "integer": (int,), "float": (float, int), "message": (dict,)}


def _is_kind(value: Any, kind: str) -> bool:
    if kind == "message":
        return isinstance(value, dict) and all(isinstance(value.get(k), str) for k in ("role", "content"))
    return not isinstance(value, bool) and isinstance(value, _PYTHON_TYPES[kind])


def row_problems(row: dict[str, Any]) -> list[str]:
    """Columns of one row that are missing, null or not of lcgen's schema type (rows from parquet: only nulls)."""
    problems = []
    for name, dtype, _ in FIELDS:
        value = row.get(name)
        if value is None:
            problems.append(f"{name} is {'null' if name in row else 'missing'}")
            continue
        kind = _kind(dtype)
        if kind.startswith("list of "):
            kind = kind.removeprefix("list of ")
            if not isinstance(value, (list, tuple)):
                problems.append(f"{name} is {type(value).__name__}, not a list of {kind}")
            elif any(v is None for v in value):
                problems.append(f"{name} holds a null item")
            elif any(not _is_kind(v, kind) for v in value):
                problems.append(f"{name} holds an item that is not {kind}")
        elif not _is_kind(value, kind):
            problems.append(f"{name} is {type(value).__name__}, not {kind}")
    return problems


__all__ = ["DatasetWriter", "check_card", "kind_of", "check_parquet_schema", "iter_splits", "read_card", "read_rows",
           "render_card", "row_problems", "__version__"]
