"""``lcgen score``: a family's metric over predictions, by variant x length x depth, with heatmaps.

Predictions come as JSONL (``id`` + ``prediction``), as lm-evaluation-harness sample logs (``--log_samples``
JSONL with ``doc`` and ``filtered_resps``) or as inspect_ai logs (``.json``, or ``.eval`` read with inspect_ai),
from any number of files, glob patterns and folders (an lm-eval ``--output_path``, an inspect log dir), merged by
sample id: the harnesses write one file per task, and only the merged set gives the true overall.
A sample without a prediction scores 0 and is counted; predictions for ids the dataset does not have are counted
per file, and a file none of whose ids the dataset has is an error, since it belongs to another dataset.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import math
import os
import re
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .dataset import iter_splits, read_rows
from .errors import DatasetError, LcgenError, MissingExtraError, OutputError, ParamError
from .metrics import METRICS, explainer, score
from .registry import families


class PredictionsError(LcgenError):
    """A predictions file is missing, empty, malformed or belongs to another dataset."""


@dataclass
class Cell:
    n: int = 0
    sums: dict[str, float] = field(default_factory=lambda: dict.fromkeys(METRICS, 0.0))

    def add(self, scores: dict[str, float]) -> None:
        self.n += 1
        for k in METRICS:
            self.sums[k] += scores[k]

    def means(self) -> dict[str, float]:
        return {k: (self.sums[k] / self.n if self.n else 0.0) for k in METRICS}


def load_predictions(path: Path) -> dict[str, str]:
    """id -> prediction text, from any supported format; anything malformed is one error naming file and line."""
    return _load(path)[0]


def _load(path: Path) -> tuple[dict[str, str], str]:
    """(predictions, kind): ``lcgen`` (our JSONL), ``lm-eval`` or ``inspect``."""
    try:
        is_file = path.is_file()
    except OSError as exc:  # e.g. a name too long for the file system
        raise PredictionsError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not is_file:
        raise PredictionsError(f"{path}: no such predictions file")
    if path.suffix == ".eval":
        return _inspect_eval(path), INSPECT
    try:
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
    except OSError as exc:
        raise PredictionsError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not text.strip():
        raise PredictionsError(f"{path}: empty predictions file")
    if path.suffix == ".json":
        return _inspect_json(path, text), INSPECT
    return _jsonl(path, text)


LCGEN, LM_EVAL, INSPECT = "lcgen", "lm-eval", "inspect"


def _decode(text: str) -> Any:
    """``json.loads`` with each way it fails (syntax, nesting, Python's integer digit limit) as one ValueError."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}" if exc.lineno > 1 else f"column {exc.colno}"
        raise ValueError(f"{exc.msg}: {where}") from None
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except ValueError as exc:  # an integer longer than sys.get_int_max_str_digits()
        raise ValueError(str(exc).split(";")[0]) from None


def _jsonl(path: Path, text: str) -> tuple[dict[str, str], str]:
    out: dict[str, str] = {}
    kind = LCGEN
    for lineno, line in enumerate(text.split("\n"), 1):  # not splitlines(): U+2028 may sit inside a JSON string
        if not line.strip():
            continue
        where = f"{path}: line {lineno}"
        try:
            record = _decode(line)
        except ValueError as exc:
            raise PredictionsError(f"{where} is not JSON ({exc})") from None
        if not isinstance(record, dict):
            raise PredictionsError(f"{where} is not a JSON object")
        if "doc" in record and ("filtered_resps" in record or "resps" in record):  # lm-eval sample log
            doc = record["doc"]
            if not isinstance(doc, dict):
                raise PredictionsError(f"{where}: 'doc' is not an object (lm-eval puts the dataset row there)")
            kind = LM_EVAL
            key = _id(doc.get("id"), f"{where} needs a 'doc.id'")
            pred = _first_text(record.get("filtered_resps") or record.get("resps"))
            if pred is None:
                raise PredictionsError(f"{where}: no text reply in 'filtered_resps' or 'resps'")
        else:
            key = _id(record.get("id"), f"{where} needs an 'id' (a string)")
            pred = record.get("prediction")
            if not isinstance(pred, str):
                raise PredictionsError(f"{where} needs a text 'prediction'")
        _put(out, key, pred, where)
    if not out:
        raise PredictionsError(f"{path}: no predictions")
    return out, kind


def _id(value: Any, message: str) -> str:
    """A sample id as text: a string, or an integer (inspect allows both)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        raise PredictionsError(message)
    return str(value)


def _put(out: dict[str, str], key: str, pred: str, where: str, hint: str = "") -> None:
    if key in out:
        raise PredictionsError(f"{where} repeats id {key[:200]!r}{hint}")
    out[key] = pred


_EPOCHS = " (a log of several epochs? lcgen score takes one reply per sample)"


def _first_text(value: Any) -> str | None:
    while isinstance(value, list) and value:
        value = value[0]
    return value if isinstance(value, str) else None


def _inspect_json(path: Path, text: str) -> dict[str, str]:
    try:
        data = _decode(text)
    except ValueError as exc:
        raise PredictionsError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("samples"), list):
        raise PredictionsError(f"{path}: JSON without a samples list (expected an inspect_ai log)")
    if not data["samples"]:
        raise PredictionsError(f"{path}: no samples (did the inspect run fail?)")
    out: dict[str, str] = {}
    for i, sample in enumerate(data["samples"]):
        where = f"{path}: sample {i}"
        if not isinstance(sample, dict):
            raise PredictionsError(f"{where} is not a JSON object")
        key = _id(sample.get("id"), f"{where} has no 'id' (a string or integer)")
        _put(out, key, _inspect_completion(sample, where), where, _EPOCHS)
    return out


def _inspect_completion(sample: dict, where: str) -> str:
    """The reply as inspect's ``ModelOutput.completion`` gives it: ``completion``, else the first choice's text."""
    output = _field(sample, "output", dict, where)
    completion = _field(output, "completion", str, where, "output.")
    if completion:
        return completion
    choices = _field(output, "choices", list, where, "output.")
    if not choices:
        return ""
    first = choices[0]
    if not isinstance(first, dict):
        raise PredictionsError(f"{where}: 'output.choices[0]' is not an object")
    message = _field(first, "message", dict, where, "output.choices[0].")
    content = message.get("content")
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, list):
        raise PredictionsError(f"{where}: 'output.choices[0].message.content' is neither text nor a list")
    texts = []
    for j, part in enumerate(content):
        name = f"output.choices[0].message.content[{j}]"
        if not isinstance(part, dict):
            raise PredictionsError(f"{where}: '{name}' is not an object")
        if part.get("type", "text") == "text":
            texts.append(_field(part, "text", str, where, f"{name}."))
    return "\n".join(texts)  # inspect's ChatMessage.text joins text parts with newlines


_EMPTY: dict[type, Any] = {dict: {}, list: [], str: ""}
_KIND = {dict: "an object", list: "a list", str: "text"}


def _field(obj: dict, name: str, kind: type, where: str, prefix: str = "") -> Any:
    """``obj[name]`` if it is of ``kind``, empty if absent or null; any other value is an error naming it."""
    value = obj.get(name)
    if value is None:
        return _EMPTY[kind]
    if not isinstance(value, kind):
        raise PredictionsError(f"{where}: '{prefix}{name}' is not {_KIND[kind]}")
    return value


def _inspect_eval(path: Path) -> dict[str, str]:
    try:
        from inspect_ai.log import read_eval_log
    except ImportError:
        raise MissingExtraError(f"{path}: reading .eval logs needs inspect_ai (pip install inspect-ai)") from None
    try:
        log = read_eval_log(str(path))
    except Exception as exc:  # noqa: BLE001 - inspect's reader fails in many ways (zip, JSON, pydantic)
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise PredictionsError(f"{path}: not a readable inspect_ai log ({reason[:200]})") from None
    if not log.samples:
        raise PredictionsError(f"{path}: no samples (did the inspect run fail?)")
    out: dict[str, str] = {}
    for i, sample in enumerate(log.samples):
        where = f"{path}: sample {i}"
        key = _id(sample.id, f"{where} has no id")
        completion = sample.output.completion if sample.output else ""
        _put(out, key, completion if isinstance(completion, str) else "", where, _EPOCHS)
    return out


# --- where predictions come from: files, patterns, folders ---------------------------------------------------

MAX_ENTRIES = 10_000  # files and folders looked at under one folder or pattern
MAX_DEPTH = 8  # folder levels below it (lm-eval writes 1, inspect's shard sets 2)
LOGS = "lm-eval samples_*.jsonl or inspect logs (*.eval, <timestamp>_*.json)"
_MAGIC = re.compile(r"[*?[]")
_INSPECT_JSON = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}[:-]\d{2}[:-]\d{2}.*\.json", re.DOTALL)


def is_harness_log(name: str) -> bool:
    """Whether a folder walk takes a file: lm-eval's per-task sample log, or a file inspect itself lists as a log
    (``inspect_ai.log._file.is_log_file``) - not inspect's ``logs.json``/``eval-set.json``, lm-eval's
    ``results_*.json``, or the ``<log>.scores.json`` older lcgen versions wrote beside a log."""
    if name.endswith(".scores.json"):
        return False
    lm_eval = name.startswith("samples_") and name.endswith(".jsonl")
    return lm_eval or name.endswith(".eval") or _INSPECT_JSON.fullmatch(name) is not None


@dataclass
class Found:
    """The prediction files named by the arguments, in order, each once; the folders walked for them; and whether
    it is one file named as such (the results are then named after it)."""

    files: list[Path]
    folders: list[Path]
    single: bool


def prediction_files(args: Sequence[str]) -> Found:
    """Expand ``args``: a file is taken as given; a folder is walked for harness logs (``is_harness_log``); an
    argument with ``*?[`` that names nothing is a shell-style pattern, expanded sorted (``**`` = any folders), each
    match a file or folder as above. A file reached twice is read once."""
    files: list[Path] = []
    folders: list[Path] = []
    seen: set[Path] = set()
    for arg in args:
        path = Path(arg)
        if _exists(path):
            matches = [path]
        elif _MAGIC.search(arg):
            matches = _glob(arg)
            if not matches:
                raise PredictionsError(f"{arg}: the pattern matches nothing")
        else:
            raise PredictionsError(f"{arg}: no such predictions file or folder")
        for match in matches:
            found = [match]
            if _is_dir(match):
                folders.append(match)
                found = _harness_logs(match)
            for file in found:
                key = _resolved(file)
                if key not in seen:
                    seen.add(key)
                    files.append(file)
    single = len(args) == 1 and len(files) == 1 and not folders and files[0] == Path(args[0])
    return Found(files, folders, single)


def _exists(path: Path) -> bool:
    try:
        os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return os.path.islink(path)  # a dangling link exists; reading it says why it fails
    except OSError as exc:  # e.g. a name too long for the file system
        raise PredictionsError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return True


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop
        return path.absolute()


def _harness_logs(folder: Path) -> list[Path]:
    files = [path for _, path, is_dir in _walk(folder, lambda names: True) if not is_dir]
    logs = [path for path in files if is_harness_log(path.name)]
    if not logs:
        held = f"among its {len(files)} files" if files else "in it (it holds no files)"
        raise PredictionsError(f"{folder}: no {LOGS} {held}")
    return logs


def _walk(root: Path, descend: Callable[[tuple[str, ...]], bool]) -> list[tuple[tuple[str, ...], Path, bool]]:
    """(names below ``root``, path, is a folder) of every entry in ``root`` and in the folders ``descend(names)``
    lets the walk enter, sorted. Bounded, so a huge tree cannot hang the command: more than ``MAX_ENTRIES`` entries
    or a folder deeper than ``MAX_DEPTH`` is an error, and a link back to a folder the walk is inside is not
    entered, so a link loop ends."""
    out: list[tuple[tuple[str, ...], Path, bool]] = []
    stack: list[tuple[tuple[str, ...], Path, frozenset[tuple[int, int]]]] = [((), root, frozenset())]
    count = 0
    while stack:
        names, folder, above = stack.pop()
        try:
            info = folder.stat()
            if (info.st_dev, info.st_ino) in above:
                continue
            if len(names) > MAX_DEPTH:
                raise PredictionsError(f"{folder}: folders nested deeper than {MAX_DEPTH} levels under {root}; "
                                       "name the run's own folder or the files")
            listed = []
            with os.scandir(folder) as entries:
                for entry in entries:
                    count += 1
                    if count > MAX_ENTRIES:
                        raise PredictionsError(f"{root}: more than {MAX_ENTRIES:,} files and folders under it; "
                                               "name the run's own folder, a narrower pattern or the files")
                    listed.append(entry.name)
        except OSError as exc:
            raise PredictionsError(f"{folder}: cannot read ({exc.strerror or exc})") from None
        inside = above | {(info.st_dev, info.st_ino)}
        below = []
        for name in sorted(listed):
            path, rel = folder / name, (*names, name)
            is_dir = _is_dir(path)
            out.append((rel, path, is_dir))
            if is_dir and descend(rel):
                below.append((rel, path, inside))
        stack.extend(reversed(below))
    return sorted(out, key=lambda item: item[0])


def _glob(pattern: str) -> list[Path]:
    """Shell-style expansion of ``pattern``, sorted, through the bounded ``_walk``: ``*?[...]`` within a name,
    ``**`` for any number of folders; a name starting with '.' only where the pattern's part does too."""
    parts = Path(pattern).parts
    fixed = 0
    while fixed < len(parts) and not _MAGIC.search(parts[fixed]):
        fixed += 1
    base = Path(*parts[:fixed]) if fixed else Path(".")
    rest: list[str] = []
    for part in parts[fixed:]:
        if not (part == "**" and rest and rest[-1] == "**"):  # a run of ** is one **
            rest.append(part)
    if not _is_dir(base):
        return []
    want = tuple(rest)
    return [path for names, path, _ in _walk(base, lambda names: _matches(names, want, prefix=True))
            if _matches(names, want)]


def _matches(names: tuple[str, ...], pattern: tuple[str, ...], prefix: bool = False) -> bool:
    """Whether ``names`` match ``pattern`` part for part (with ``prefix``: whether entries below could)."""
    if not names:
        return bool(pattern) if prefix else all(part == "**" for part in pattern)
    if not pattern:
        return False
    head, name = pattern[0], names[0]
    if head == "**":
        return _matches(names, pattern[1:], prefix) or (not name.startswith(".")
                                                        and _matches(names[1:], pattern, prefix))
    visible = not name.startswith(".") or head.startswith(".")
    return visible and fnmatch.fnmatchcase(name, head) and _matches(names[1:], pattern[1:], prefix)


@dataclass
class Source:
    """One prediction file as read, and what merging and scoring made of it."""

    path: Path
    kind: str  # LCGEN, LM_EVAL or INSPECT
    predictions: dict[str, str]
    same: int = 0  # ids an earlier file gave the same reply for: counted once
    replaced: int = 0  # ids whose different earlier reply this file's replaced (on_conflict="last")
    unknown: int = 0  # ids the dataset does not have (set by score_dataset)

    def summary(self) -> dict[str, Any]:
        return {"path": self.path.as_posix(), "kind": self.kind, "predictions": len(self.predictions),
                "same_as_earlier": self.same, "replaced_earlier": self.replaced, "not_in_dataset": self.unknown}


def read_sources(files: Sequence[Path]) -> list[Source]:
    sources = []
    for path in files:
        predictions, kind = _load(path)
        sources.append(Source(path, kind, predictions))
    return sources


ON_CONFLICT = ("error", "last")


def merge_predictions(sources: Sequence[Source], on_conflict: str = "error") -> dict[str, str]:
    """One reply per sample id over ``sources`` in order. The same reply again counts once; a different one is an
    error naming both files, or with ``on_conflict="last"`` replaces the earlier one."""
    if on_conflict not in ON_CONFLICT:
        raise ParamError(f"--on-conflict {on_conflict!r}: expected one of {', '.join(ON_CONFLICT)}")
    merged: dict[str, str] = {}
    origin: dict[str, Path] = {}
    for source in sources:
        for key, prediction in source.predictions.items():
            if key in merged:
                if merged[key] == prediction:
                    source.same += 1
                    continue
                if on_conflict == "error":
                    raise PredictionsError(f"sample {key[:200]!r}: different replies in {origin[key]} and "
                                           f"{source.path}; --on-conflict last keeps the later file's")
                source.replaced += 1
            merged[key] = prediction
            origin[key] = source.path
    return merged


def check_out_dir(target: Path, explicit: bool, found: Found) -> None:
    """Refuse results inside a folder given as predictions or one holding a harness log being scored: inspect lists
    any ``<timestamp>*.json`` under its log dir as a log, and the folder is the harness's, not ours."""
    holders = [(folder, "") for folder in found.folders]
    holders += [(f.parent, f" ({f.name})") for f in found.files if is_harness_log(f.name) or f.suffix == ".json"]
    resolved = _resolved(target)
    for holder, note in holders:
        if resolved == _resolved(holder) or _resolved(holder) in resolved.parents:
            where = f"--out {target}" if explicit else f"{target} (the default --out)"
            shown = "the working folder" if _resolved(holder) == _resolved(Path.cwd()) else str(holder)
            raise OutputError(f"{where}: inside {shown}, which holds predictions being scored{note}; "
                              "write scores elsewhere")


@dataclass
class ScoreReport:
    cells: OrderedDict[tuple[str, str, float], Cell]
    by_variant: OrderedDict[str, Cell]
    by_label: OrderedDict[tuple[str, str, str], Cell]
    overall: Cell
    missing: int
    family: str
    unknown: int = 0  # predictions for ids the dataset does not have
    sources: list[Source] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)  # why (family's explain), FAILURES per variant


FAILURES = 20  # failing samples per variant whose reason is recorded, for a family whose metric explains


def score_dataset(folder: Path, predictions: dict[str, str], sources: Sequence[Source] = ()) -> ScoreReport:
    """Score every sample of ``folder`` (a damaged row is an error). Prediction ids the dataset lacks are counted,
    also per source; a source with none it has, or predictions none of which it has, are an error."""
    cells: OrderedDict[tuple[str, str, float], Cell] = OrderedDict()
    by_variant: OrderedDict[str, Cell] = OrderedDict()
    by_label: OrderedDict[tuple[str, str, str], Cell] = OrderedDict()
    overall = Cell()
    seen: set[str] = set()
    missing = 0
    family = ""
    failures: list[dict[str, Any]] = []
    explained: dict[str, int] = defaultdict(int)
    for _config, split, files, _ in iter_splits(folder):
        for file in files:
            for index, row in enumerate(read_rows([file], COLUMNS)):
                meta = _checked_meta(row, file, index)
                if row["id"] in seen:
                    raise DatasetError(f"sample {row['id']}: appears twice in {folder}")
                family = row["task"]
                seen.add(row["id"])
                pred = predictions.get(row["id"])
                missing += pred is None
                s = score(row["task"], row["variant"], row["answer"], list(row["answers"]), pred or "")
                if s["strict"] < 1.0 and pred is not None and explained[row["variant"]] < FAILURES:
                    why = explainer(row["task"]) if row["task"] in families else None
                    if why is not None:
                        explained[row["variant"]] += 1
                        failures.append({"id": row["id"], "variant": row["variant"], "strict": s["strict"],
                                         "partial": s["partial"],
                                         "reason": why(pred, row["answer"], list(row["answers"]), row["variant"])})
                cells.setdefault((row["variant"], split, row["target_depth"]), Cell()).add(s)
                by_variant.setdefault(row["variant"], Cell()).add(s)
                overall.add(s)
                if family in families:
                    for key, value in _labels(meta, families.get(family).difficulty, row["id"]):
                        by_label.setdefault((row["variant"], key, value), Cell()).add(s)
    for source in sources:
        source.unknown = sum(key not in seen for key in source.predictions)
        if source.unknown == len(source.predictions):
            raise PredictionsError(f"{source.path}: {_not_in('its', list(source.predictions), folder)}")
    unknown = sorted(set(predictions) - seen)
    if missing == overall.n:
        raise PredictionsError(_not_in("the", unknown, folder) if unknown else f"no predictions for {folder}")
    return ScoreReport(cells, by_variant, by_label, overall, missing, family, len(unknown), list(sources), failures)


def _not_in(whose: str, ids: list[str], folder: Path) -> str:
    return (f"{whose} {len(ids)} prediction id(s) are not in {folder}, e.g. {ids[0][:200]!r}; "
            "predictions for another dataset?")


COLUMNS = ["id", "task", "variant", "answer", "answers", "target_depth", "meta"]


def _checked_meta(row: dict[str, Any], file: Path, index: int) -> dict[str, Any]:
    """Check every column scoring reads and return the parsed ``meta``: a damaged row is an error naming the
    sample and the column ("sample X: answer is null"), not a crash or a silent 0."""
    sample = row["id"]
    if not isinstance(sample, str) or not sample:
        raise DatasetError(f"{file} row {index}: id is {_what(sample, 'text')}")

    def bad(column: str, value: Any, expected: str) -> DatasetError:
        return DatasetError(f"sample {sample}: {column} is {_what(value, expected)}")

    for column in ("task", "variant", "answer"):
        if not isinstance(row[column], str) or not row[column]:
            raise bad(column, row[column], "text")
    answers = row["answers"]
    if not isinstance(answers, list):
        raise bad("answers", answers, "a list of text")
    for i, item in enumerate(answers):
        if not isinstance(item, str):
            raise bad(f"answers[{i}]", item, "text")
    if not answers and row["answer"].startswith("\\boxed{"):
        raise DatasetError(f"sample {sample}: answers is empty (a \\boxed answer needs its content there)")
    depth = row["target_depth"]
    if isinstance(depth, bool) or not isinstance(depth, (int, float)) or not math.isfinite(depth):
        raise bad("target_depth", depth, "a number")
    if not isinstance(row["meta"], str):
        raise bad("meta", row["meta"], "JSON text")
    try:
        meta = _decode(row["meta"])
    except ValueError as exc:
        raise DatasetError(f"sample {sample}: meta is not JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise DatasetError(f"sample {sample}: meta is not a JSON object (a {type(meta).__name__})")
    return meta


def _what(value: Any, expected: str) -> str:
    """How a bad cell reads in an error: ``null``, ``empty``, ``nan``, or its type and start."""
    if value is None:
        return "null"
    if value == "" or value == []:
        return "empty"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{type(value).__name__} {repr(value)[:40]}, not {expected}"


def _labels(meta: dict[str, Any], keys: tuple[str, ...], sample: str) -> list[tuple[str, str]]:
    """(difficulty key, value as text) for the family's keys present in ``meta``."""
    try:
        return [(key, str(meta[key])) for key in keys if key in meta]
    except RecursionError:
        raise DatasetError(f"sample {sample}: meta is nested too deeply") from None


def report_json(report: ScoreReport) -> dict[str, Any]:
    return {
        "family": report.family,
        "samples": report.overall.n,
        "missing_predictions": report.missing,
        "predictions_not_in_dataset": report.unknown,
        "sources": [source.summary() for source in report.sources],
        "overall": report.overall.means(),
        "by_variant": {v: {"n": c.n, **c.means()} for v, c in report.by_variant.items()},
        "cells": [
            {"variant": v, "length": s, "depth": d, "n": c.n, **c.means()} for (v, s, d), c in report.cells.items()
        ],
        "by_label": [
            {"variant": v, "label": k, "value": val, "n": c.n, **c.means()}
            for (v, k, val), c in report.by_label.items()
        ],
        **({"failures": report.failures} if report.failures else {}),
    }


DEFAULT_OUT = "lcgen-scores"


def out_dir(dataset: Path, out: Path | None) -> Path:
    """Where results go: ``out``, else ``lcgen-scores/<dataset folder name>`` in the working directory.

    Never beside the predictions by default (a harness's log dir would list our JSON as a log), and never inside
    the dataset folder, whose files are the dataset.
    """
    try:
        data = dataset.resolve()
        target = out if out is not None else Path(DEFAULT_OUT) / (data.name or "dataset")
        resolved = target.resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
        raise OutputError(f"cannot write {out or DEFAULT_OUT} ({getattr(exc, 'strerror', None) or exc})") from None
    if resolved == data or data in resolved.parents:
        where = f"--out {target}" if out is not None else f"{target} (the default --out)"
        raise OutputError(f"{where}: inside the dataset folder {dataset}; write scores elsewhere")
    return target


def write_outputs(report: ScoreReport, out: Path, stem: str = "") -> tuple[Path, Path]:
    """``scores.json`` and ``heatmap.png`` in ``out`` (made if missing), ``<stem>.`` before each name if given,
    each written atomically; an unwritable target is one error naming it."""
    prefix = f"{stem}." if stem else ""
    json_path, png_path = out / f"{prefix}scores.json", out / f"{prefix}heatmap.png"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write {out} ({exc.strerror or exc})") from None
    _atomic_write(json_path, (json.dumps(report_json(report), indent=2) + "\n").encode())
    _atomic_write(png_path, heatmap_png(report))
    return json_path, png_path


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path} ({exc.strerror or exc})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def heatmap_png(report: ScoreReport, metric: str = "strict") -> bytes:
    """Accuracy over length (x) and depth (y), one panel per variant, red (0%) to green (100%)."""
    from .figures import length_depth_png
    from .lengths import parse_length

    panels: dict[str, dict[tuple[int, float], float]] = defaultdict(dict)
    for (variant, split, depth), cell in report.cells.items():
        try:
            length = parse_length(split)
        except LcgenError:  # an unbounded split such as "n64"
            length = 0
        panels[variant][(length, depth)] = 100.0 * cell.means()[metric]
    return length_depth_png(
        panels,
        title=f"{report.family}: {metric} accuracy by length and depth",
        panel_title=lambda variant, cells: f"{variant}: {sum(cells.values()) / len(cells):.0f}%",
        cmap="RdYlGn",
        vmin=0,
        vmax=100,
        colorbar=f"{metric} accuracy (%)",
        cell_text=lambda v: f"{v:.0f}",
        y_label=depth_axis(report.family),
    )


def depth_axis(family: str) -> str:
    """The heatmap's depth axis in the family's words ("relevant row depth"); plain "depth" when unknown."""
    from .registry import families

    if family not in families:
        return "depth"
    of = families.get(family).depth_of
    return f"{of} depth" if of else "depth (none: one row)"


__all__ = ["DatasetError", "PredictionsError", "Source", "check_out_dir", "load_predictions", "merge_predictions",
           "out_dir", "prediction_files", "read_sources", "score_dataset", "write_outputs"]
