"""Harness task files shipped inside every dataset folder, so the data runs as it is under lm-evaluation-harness and
inspect_ai, scored by the folder's own copy of lcgen's metric.

Written into the folder, all from the templates in ``cards/harness/``::

    lcgen_metrics.py                                  byte-for-byte copy of lcgen/metrics.py
    harness/lm_eval/_lcgen_<family>_base.yaml         settings every task includes (data location, prompt, metrics)
    harness/lm_eval/lcgen_<family>_<config>_<split>.yaml   one task per (config, split)
    harness/lm_eval/lcgen_<family>.yaml               the group of all those tasks
    harness/lm_eval/utils.py                          process_results (and the local loader) for lm-eval
    harness/inspect_task.py                           one inspect_ai @task taking config and split

By default the files read the dataset folder they sit in, found from their own location, so they work from any
working directory and after the folder is moved, copied or downloaded. ``rewrite_dataset_path`` points them at a Hub
repo id instead (what ``lcgen publish`` sets). ``<family>`` is the family name with non-word characters as ``_``.
"""

from __future__ import annotations

import math
import re
import shutil
from collections import OrderedDict
from pathlib import Path

import pyarrow.parquet as pq

from . import metrics
from ._version import __version__
from .errors import DatasetError, ParamError
from .registry import families
from .render import render

METRICS_FILE = "lcgen_metrics.py"
HARNESS_DIR = "harness"
LM_EVAL_DIR = "harness/lm_eval"
INSPECT_FILE = "harness/inspect_task.py"
TEMPLATES = "lcgen.cards"

# Sample fields inspect keeps as sample metadata (the scorer needs task, variant and answers).
INSPECT_METADATA = ["task", "variant", "question", "answers", "length", "target_length", "depth", "target_depth",
                    "tokenizer", "seed"]
GEN_SLACK = 32  # tokens beyond the longest answer, rounded up to a multiple of this

_BLOCK = re.compile(r"^# >>> data location.*?^# <<< data location\n", re.DOTALL | re.MULTILINE)


def family_stem(family: str) -> str:
    """``needle-threads`` -> ``lcgen_needle_threads``: the prefix of every task, group and file name."""
    return "lcgen_" + re.sub(r"\W", "_", family, flags=re.ASCII)


def gen_budget(answer_bytes: int) -> int:
    """Tokens to let a model generate for an answer of ``answer_bytes`` UTF-8 bytes.

    A byte-level BPE token holds at least one byte, so the byte count bounds the answer's tokens in any such
    tokenizer; ``GEN_SLACK`` more leaves room for a short lead-in, rounded up to a multiple of ``GEN_SLACK``.
    """
    return GEN_SLACK * math.ceil((answer_bytes + GEN_SLACK) / GEN_SLACK)


def _split_answers(folder: Path, config: str, split: str) -> tuple[int, int]:
    """(rows, longest ``answer`` in UTF-8 bytes) of one split, reading only the answer column."""
    files = sorted(folder.glob(f"data/{config}/{split}-*.parquet"))
    if not files:
        raise DatasetError(f"{folder}: config {config!r} split {split!r} has no parquet files")
    rows, longest = 0, 0
    for f in files:
        for answer in pq.read_table(f, columns=["answer"]).column("answer").to_pylist():
            rows += 1
            longest = max(longest, len(answer.encode("utf-8")))
    return rows, longest


def _write(folder: Path, rel: str, text: str) -> str:
    path = folder / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")
    return rel


def write_harness_files(folder: Path, family: str, splits: list[tuple[str, str]]) -> list[str]:
    """Write ``lcgen_metrics.py`` and the lm-eval and inspect_ai task files for ``splits`` into ``folder``.

    Args:
        folder: The dataset folder; its parquet files must already be written (answer sizes are read from them).
        family: The registered family name the data was made with.
        splits: The (config, split) pairs present, in card order.

    Returns:
        The paths written, relative to ``folder``. A ``harness/`` folder already there is replaced whole.
    """
    spec = families.get(family)
    folder = Path(folder)
    if not splits:
        raise DatasetError(f"{folder}: no splits to write harness files for")
    if (folder / HARNESS_DIR).exists():
        shutil.rmtree(folder / HARNESS_DIR)
    stem = family_stem(family)
    base = f"_{stem}_base.yaml"
    common = {"family": family, "family_version": spec.version, "lcgen_version": __version__,
              "metrics": list(metrics.METRICS)}
    location = {"dataset_path": None, "revision": None}

    written = [METRICS_FILE]
    (folder / METRICS_FILE).write_bytes(Path(metrics.__file__).read_bytes())

    budgets: OrderedDict[str, dict[str, int]] = OrderedDict()
    tasks = []
    for config, split in splits:
        rows, answer_bytes = _split_answers(folder, config, split)
        budget = gen_budget(answer_bytes)
        budgets.setdefault(config, {})[split] = budget
        task = f"{stem}_{config}_{split}"
        tasks.append(task)
        text = render("harness/lm_eval_task.yaml.j2", package=TEMPLATES, **common, base=base, task=task,
                      config=config, split=split, rows=rows, max_gen_toks=budget, answer_bytes=answer_bytes)
        written.append(_write(folder, f"{LM_EVAL_DIR}/{task}.yaml", text))
    written.append(_write(folder, f"{LM_EVAL_DIR}/{base}",
                          render("harness/lm_eval_base.yaml.j2", package=TEMPLATES, **common, **location)))
    written.append(_write(folder, f"{LM_EVAL_DIR}/{stem}.yaml",
                          render("harness/lm_eval_group.yaml.j2", package=TEMPLATES, **common, group=stem,
                                 tasks=tasks)))
    written.append(_write(folder, f"{LM_EVAL_DIR}/utils.py",
                          render("harness/lm_eval_utils.py.j2", package=TEMPLATES, **common)))
    first_config, first_split = splits[0]
    written.append(_write(folder, INSPECT_FILE,
                          render("harness/inspect_task.py.j2", package=TEMPLATES, **common, **location,
                                 task_name=stem, splits=budgets, metadata=INSPECT_METADATA,
                                 first_config=first_config, first_split=first_split)))
    return written


def relocated_files(folder: Path, new_path: str | Path | None, revision: str | None = None) -> dict[str, str]:
    """The harness files of ``folder`` that name where the data is, as they read pointed at ``new_path``.

    Nothing is written: ``lcgen publish`` can upload these texts in place of the folder's files (its staged copies
    may be hard links to the originals). Arguments as for ``rewrite_dataset_path``.

    Returns:
        Path relative to ``folder`` -> new file text.
    """
    folder = Path(folder)
    if new_path is None and revision is not None:
        raise ParamError("revision: only a Hub repo or another path can be pinned to a revision")
    if isinstance(new_path, Path):
        new_path = str(new_path.resolve())
    location = {"dataset_path": new_path, "revision": revision}
    bases = sorted((folder / LM_EVAL_DIR).glob("_*_base.yaml"))
    if not bases or not (folder / INSPECT_FILE).is_file():
        raise DatasetError(f"{folder}: no harness files to rewrite (made before lcgen wrote them?)")
    blocks = {"harness/lm_eval_location.yaml.j2": bases, "harness/inspect_location.py.j2": [folder / INSPECT_FILE]}
    out: dict[str, str] = {}
    for template, paths in blocks.items():
        block = render(template, package=TEMPLATES, **location)
        for path in paths:
            text, count = _BLOCK.subn(lambda _, block=block: block, path.read_text(encoding="utf-8"))
            if count != 1:
                raise DatasetError(f"{path}: no single '# >>> data location' block to rewrite")
            out[path.relative_to(folder).as_posix()] = text
    return out


def rewrite_dataset_path(folder: Path, new_path: str | Path | None, revision: str | None = None) -> list[str]:
    """Point a dataset folder's harness files at another copy of its data, in place.

    Args:
        folder: A dataset folder written by lcgen, with its ``harness/`` files.
        new_path: A Hub repo id (``org/name``, what ``lcgen publish`` sets), a local path (a ``Path`` is made
            absolute; a ``str`` is kept as given, so a relative one is relative to the harness's working directory),
            or ``None`` to read the folder holding the files again (the default when written).
        revision: A Hub tag, branch or commit to read; only with ``new_path``.

    Returns:
        The paths rewritten, relative to ``folder``.
    """
    texts = relocated_files(folder, new_path, revision)
    for rel, text in texts.items():
        (Path(folder) / rel).write_text(text, encoding="utf-8", newline="\n")
    return list(texts)


__all__ = ["family_stem", "gen_budget", "relocated_files", "rewrite_dataset_path", "write_harness_files"]
