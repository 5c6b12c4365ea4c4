"""``lcgen score``: a family's metric over a prediction file, by variant x length x depth, with heatmaps.

Predictions come as JSONL (``id`` + ``prediction``), as lm-evaluation-harness sample logs (``--log_samples``
JSONL with ``doc`` and ``filtered_resps``) or as inspect_ai logs (``.json``, or ``.eval`` read with inspect_ai).
A sample without a prediction scores 0 and is counted; a prediction for an id the dataset does not have is an
error, since it means the file belongs to another dataset.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .dataset import iter_splits, read_rows
from .errors import DatasetError, LcgenError, MissingExtraError
from .metrics import METRICS, score
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
    """id -> prediction text, from any supported format."""
    if not path.is_file():
        raise PredictionsError(f"{path}: no such predictions file")
    if path.suffix == ".eval":
        return _inspect_log(path)
    text = path.read_text(encoding="utf-8", errors="replace")
    if not text.strip():
        raise PredictionsError(f"{path}: empty predictions file")
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PredictionsError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        if isinstance(data, dict) and isinstance(data.get("samples"), list):
            return {str(s["id"]): _inspect_completion(s) for s in data["samples"]}
        raise PredictionsError(f"{path}: JSON without a samples list (expected an inspect_ai log)")
    out: dict[str, str] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise PredictionsError(f"{path}: line {lineno} is not JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise PredictionsError(f"{path}: line {lineno} is not a JSON object")
        if "doc" in record and ("filtered_resps" in record or "resps" in record):  # lm-eval sample log
            key, pred = record["doc"].get("id"), _first_text(record.get("filtered_resps") or record.get("resps"))
        else:
            key, pred = record.get("id"), record.get("prediction")
        if key is None or not isinstance(pred, str):
            raise PredictionsError(f"{path}: line {lineno} needs an 'id' and a text 'prediction'")
        if str(key) in out:
            raise PredictionsError(f"{path}: line {lineno} repeats id {key!r}")
        out[str(key)] = pred
    if not out:
        raise PredictionsError(f"{path}: no predictions")
    return out


def _first_text(value: Any) -> str | None:
    while isinstance(value, list) and value:
        value = value[0]
    return value if isinstance(value, str) else None


def _inspect_completion(sample: dict) -> str:
    output = sample.get("output") or {}
    if isinstance(output.get("completion"), str):
        return output["completion"]
    choices = output.get("choices") or []
    if choices:
        content = (choices[0].get("message") or {}).get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            return "".join(c.get("text", "") for c in content if isinstance(c, dict))
    return ""


def _inspect_log(path: Path) -> dict[str, str]:
    try:
        from inspect_ai.log import read_eval_log
    except ImportError:
        raise MissingExtraError(f"{path}: reading .eval logs needs inspect_ai (pip install inspect-ai)") from None
    log = read_eval_log(str(path))
    return {str(s.id): (s.output.completion if s.output else "") for s in (log.samples or [])}


@dataclass
class ScoreReport:
    cells: OrderedDict[tuple[str, str, float], Cell]
    by_variant: OrderedDict[str, Cell]
    by_label: OrderedDict[tuple[str, str, str], Cell]
    overall: Cell
    missing: int
    family: str


def score_dataset(folder: Path, predictions: dict[str, str]) -> ScoreReport:
    """Score every sample of ``folder``; unknown prediction ids are an error."""
    cells: OrderedDict[tuple[str, str, float], Cell] = OrderedDict()
    by_variant: OrderedDict[str, Cell] = OrderedDict()
    by_label: OrderedDict[tuple[str, str, str], Cell] = OrderedDict()
    overall = Cell()
    seen: set[str] = set()
    missing = 0
    family = ""
    columns = ["id", "task", "variant", "answer", "answers", "target_depth", "meta"]
    for _config, split, files, _ in iter_splits(folder):
        for row in read_rows(files, columns):
            family = row["task"]
            seen.add(row["id"])
            pred = predictions.get(row["id"])
            missing += pred is None
            s = score(row["task"], row["variant"], row["answer"], list(row["answers"]), pred or "")
            cells.setdefault((row["variant"], split, row["target_depth"]), Cell()).add(s)
            by_variant.setdefault(row["variant"], Cell()).add(s)
            overall.add(s)
            if family in families:
                meta = json.loads(row["meta"])
                for key in families.get(family).difficulty:
                    if key in meta:
                        by_label.setdefault((row["variant"], key, str(meta[key])), Cell()).add(s)
    unknown = sorted(set(predictions) - seen)
    if unknown:
        raise PredictionsError(
            f"{len(unknown)} prediction id(s) are not in {folder}, e.g. {unknown[0]!r}; wrong dataset?"
        )
    if missing == overall.n:
        raise PredictionsError(f"no prediction matches a sample id of {folder}")
    return ScoreReport(cells, by_variant, by_label, overall, missing, family)


def report_json(report: ScoreReport) -> dict[str, Any]:
    return {
        "family": report.family,
        "samples": report.overall.n,
        "missing_predictions": report.missing,
        "overall": report.overall.means(),
        "by_variant": {v: {"n": c.n, **c.means()} for v, c in report.by_variant.items()},
        "cells": [
            {"variant": v, "length": s, "depth": d, "n": c.n, **c.means()} for (v, s, d), c in report.cells.items()
        ],
        "by_label": [
            {"variant": v, "label": k, "value": val, "n": c.n, **c.means()}
            for (v, k, val), c in report.by_label.items()
        ],
    }


def write_outputs(report: ScoreReport, predictions_path: Path) -> tuple[Path, Path]:
    """``<stem>.scores.json`` and ``<stem>.heatmap.png`` next to the predictions, each written atomically."""
    stem = predictions_path.with_suffix("")
    json_path = stem.parent / f"{stem.name}.scores.json"
    png_path = stem.parent / f"{stem.name}.heatmap.png"
    _atomic_write(json_path, (json.dumps(report_json(report), indent=2) + "\n").encode())
    _atomic_write(png_path, heatmap_png(report))
    return json_path, png_path


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
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
        y_label="needle depth",
    )


__all__ = ["DatasetError", "PredictionsError", "load_predictions", "score_dataset", "write_outputs"]
