"""``lcgen validate``: re-solve every sample with its family's oracle and check length, depth, ids and leakage."""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .dataset import iter_splits, read_rows
from .errors import DatasetError
from .registry import oracles
from .tokenizer import get_tokenizer

DEPTH_EPS = 1e-4  # recorded depths are rounded to 6 decimals


@dataclass
class VariantReport:
    samples: int = 0
    failed: int = 0
    exact: int = 0
    max_depth_error: float = 0.0
    failures: list[str] = field(default_factory=list)


def _anchor_error(index, got, needle_tok, first: int, last: int, target: float) -> tuple[float, float]:
    """How far the anchor needle sits from the requested depth, in percent points, and the one-unit allowance.

    Needles the family must keep between the target and the anchor (the rest of a thread that cannot fit after
    depth 100, say) do not count against it, and the deepest reachable start is before the needle itself and
    the context's closing unit.
    """
    ctx = max(last - first, 1)
    starts = index.tokens_at(sorted(got.unit_offsets)) if got.unit_offsets else np.asarray([first])
    lengths = np.diff(np.append(starts, last))
    length_at = dict(zip(starts.tolist(), lengths.tolist()))
    unit = int(lengths.max())
    measured = 100.0 * (needle_tok - first) / ctx
    a = int(np.argmin(np.abs(measured - target))) if got.anchor is None else got.anchor
    anchor = int(needle_tok[a])
    own = length_at.get(anchor, unit)
    wanted = min(first + target / 100.0 * ctx, last - own - int(lengths[-1]))
    low, high = sorted((wanted, anchor))
    between = sum(length_at.get(int(t), 0) for j, t in enumerate(needle_tok) if j != a and low <= t < high)
    error_tokens = max(abs(anchor - wanted) - between, 0.0)
    return 100.0 * error_tokens / ctx, 100.0 * unit / ctx + DEPTH_EPS


def check_row(row: dict[str, Any], tokenizers: dict[str, Any]) -> tuple[list[str], float]:
    """Problems found in one row (empty when it passes) and its anchor depth error in percent points."""
    problems: list[str] = []
    fam = oracles.get(row["task"])
    spec = row["tokenizer_spec"]
    tok = tokenizers.get(spec) or tokenizers.setdefault(spec, get_tokenizer(spec))
    index = tok.index(row["input"])  # the one tokenization of this sample, shared with the oracle
    # The answer must come from input and question alone; meta is handed over only so that an oracle can compare
    # what it measures (a density, a position) with what was requested.
    view = {k: row[k] for k in ("input", "question", "variant", "meta", "tokenizer_spec") if k in row}
    view["token_index"] = index
    try:
        got = fam(view)
    except (KeyError, ValueError, IndexError) as exc:
        return [f"oracle could not solve the sample ({type(exc).__name__}: {exc})"], 0.0
    problems.extend(got.problems)
    if got.answer != row["answer"]:
        problems.append("oracle answer differs from `answer`")
    if got.answers != list(row["answers"]):
        problems.append("oracle items differ from `answers`")
    if row["question"] not in row["input"]:
        problems.append("question is not part of input")
    for item in got.answers:
        # Whole tokens only: "7" inside "$57,000" is not a leak.
        if re.search(rf"(?<![\w.]){re.escape(item)}(?![\w]|\.\d)", row["question"]):
            problems.append(f"answer item {item!r} leaks into the question")
    if tok.vocab_hash != row["tokenizer_hash"]:
        problems.append("tokenizer vocabulary hash differs from the one recorded")
    if index.n_tokens != row["length"]:
        problems.append(f"length {row['length']} but input has {index.n_tokens} tokens")
    if row["target_length"] and row["length"] > row["target_length"]:
        problems.append(f"length {row['length']} exceeds target {row['target_length']}")
    first, last = index.token_at(got.context_span[0]), index.token_at(got.context_span[1])
    ctx = max(last - first, 1)
    needle_tok = index.tokens_at(got.needle_offsets)
    measured = 100.0 * (needle_tok - first) / ctx
    recorded = np.asarray(row["depth"], dtype=float)
    if measured.shape != recorded.shape or not np.allclose(measured, recorded, atol=DEPTH_EPS, rtol=0):
        problems.append("measured needle depths differ from `depth`")
    error = 0.0
    if len(measured):
        error, allowed = _anchor_error(index, got, needle_tok, first, last, row["target_depth"])
        if error > allowed:
            problems.append(
                f"needle depth is off target {row['target_depth']:g}% by {error:.3f} points (allowed {allowed:.3f})"
            )
    return problems, error


def validate(folder: Path, tokenizer: str | None = None) -> tuple[OrderedDict[str, VariantReport], int]:
    """Check every sample of a dataset folder; returns per-variant reports and the number of failed samples."""
    reports: OrderedDict[str, VariantReport] = OrderedDict()
    tokenizers: dict[str, Any] = {}
    seen_ids: set[str] = set()
    failed = 0
    for config, split, files, declared in iter_splits(folder):
        rows = read_rows(files)
        if declared is not None and declared != len(rows):
            raise DatasetError(f"{folder}: split {config}/{split} declares {declared} samples but has {len(rows)}")
        for row in rows:
            rep = reports.setdefault(row["variant"], VariantReport())
            row["tokenizer_spec"] = tokenizer or _tokenizer_spec(row, folder)
            problems, err = check_row(row, tokenizers)
            if row["id"] in seen_ids:
                problems.append("duplicate id")
            seen_ids.add(row["id"])
            if row["variant"] != config:
                problems.append(f"variant {row['variant']!r} stored under config {config!r}")
            rep.samples += 1
            rep.exact += row["length"] == row["target_length"]
            rep.max_depth_error = max(rep.max_depth_error, err)
            if problems:
                rep.failed += 1
                failed += 1
                rep.failures.append(f"{row['id']}: {'; '.join(problems)}")
    if not reports:
        raise DatasetError(f"{folder}: no samples")
    return reports, failed


def _tokenizer_spec(row: dict[str, Any], folder: Path) -> str:
    """A row's tokenizer: tiktoken names load by name; a tokenizer.json must be given with --tokenizer."""
    name = row["tokenizer"]
    if name.startswith("hf:"):
        raise DatasetError(f"{folder}: samples use {name}; pass its tokenizer.json with --tokenizer")
    return name
