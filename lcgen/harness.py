"""Harness task files shipped inside every dataset folder, so the data runs as it is under lm-evaluation-harness and
inspect_ai, scored by the folder's own copy of lcgen's metric.

Written into the folder, all from the templates in ``cards/harness/``::

    lcgen_metrics.py                                  the family's metric (lcgen.metrics.shipped_metric_source)
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
from dataclasses import dataclass
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


def task_name(family: str, config: str, split: str) -> str:
    """The lm-eval task of one (config, split), e.g. ``lcgen_needle_threads_threads_8k``."""
    return f"{family_stem(family)}_{config}_{split}"


def gen_budget(answer_bytes: int) -> int:
    """Tokens to let a model generate for an answer of ``answer_bytes`` UTF-8 bytes.

    A byte-level BPE token holds at least one byte, so the byte count bounds the answer's tokens in any such
    tokenizer; ``GEN_SLACK`` more leaves room for a short lead-in, rounded up to a multiple of ``GEN_SLACK``.
    """
    return GEN_SLACK * math.ceil((answer_bytes + GEN_SLACK) / GEN_SLACK)


@dataclass(frozen=True)
class SplitSizes:
    """What the harness files and the card's commands need to know about one (config, split)."""

    config: str
    split: str
    rows: int
    answer_bytes: int  # the longest ``answer``, in UTF-8 bytes
    input_bytes: int | None  # the longest ``input`` (the prompt), in UTF-8 bytes; None when not read

    @property
    def max_gen_toks(self) -> int:
        return gen_budget(self.answer_bytes)


def split_sizes(folder: Path, config: str, split: str, prompts: bool = True) -> SplitSizes:
    """Rows and the longest answer (and, with ``prompts``, the longest prompt) of one split, read a few rows at a
    time from its parquet files."""
    files = sorted(Path(folder).glob(f"data/{config}/{split}-*.parquet"))
    if not files:
        raise DatasetError(f"{folder}: config {config!r} split {split!r} has no parquet files")
    rows, answer_bytes, input_bytes = 0, 0, 0
    columns = ["answer", "input"] if prompts else ["answer"]
    for f in files:
        for batch in pq.ParquetFile(f).iter_batches(batch_size=8, columns=columns):  # no pandas import
            for answer in batch.column(0).to_pylist():
                rows += 1
                answer_bytes = max(answer_bytes, len(answer.encode("utf-8")))
            if prompts:
                input_bytes = max([input_bytes, *(len(p.encode("utf-8")) for p in batch.column(1).to_pylist())])
    return SplitSizes(config, split, rows, answer_bytes, input_bytes if prompts else None)


def _write(folder: Path, rel: str, text: str) -> str:
    path = folder / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")
    return rel


def write_harness_files(folder: Path, family: str, splits: list[tuple[str, str]],
                        sizes: list[SplitSizes] | None = None) -> list[str]:
    """Write ``lcgen_metrics.py`` and the lm-eval and inspect_ai task files for ``splits`` into ``folder``.

    Args:
        folder: The dataset folder; its parquet files must already be written (answer sizes are read from them
            unless ``sizes`` gives them).
        family: The registered family name the data was made with.
        splits: The (config, split) pairs present, in card order.
        sizes: The splits' sizes, when the caller already has them (the writer that just wrote the rows).

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
    _write(folder, METRICS_FILE, metrics.shipped_metric_source(family))

    budgets: OrderedDict[str, dict[str, int]] = OrderedDict()
    tasks = []
    known = {(size.config, size.split): size for size in sizes or []}
    for config, split in splits:
        size = known.get((config, split)) or split_sizes(folder, config, split, prompts=False)
        rows, answer_bytes, budget = size.rows, size.answer_bytes, size.max_gen_toks
        budgets.setdefault(config, {})[split] = budget
        task = task_name(family, config, split)
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


def lm_eval_max_length(sizes: list[SplitSizes]) -> int:
    """``max_length`` for lm-eval's API models that leaves every prompt of ``sizes`` whole, whatever the tokenizer.

    With a tokenizer backend, lm-eval keeps only the last ``max_length - 1 - max_gen_toks`` tokens of a prompt
    (measured against a local server: one token less than that cuts the longest prompt), without a warning. A
    byte-level BPE token holds at least one byte and a SentencePiece tokenizer may add one leading token, so a
    prompt's UTF-8 bytes + 1 bound its tokens in either.
    """
    return max(s.input_bytes + 1 + s.max_gen_toks + 1 for s in sizes)


def run_section(sizes: list[SplitSizes], family: str, repo_id: str | None = None,
                revision: str | None = None) -> str:
    """The card's "Run it" section: the exact lm-eval and inspect_ai commands for this dataset against an
    OpenAI-compatible server (``cards/harness/run.md.j2``), with the numbers from its splits' sizes.

    Args:
        sizes: Every split's sizes (prompts included), in card order.
        family: The family the data was made with.
        repo_id, revision: For a published card: the commands then start by downloading that release.
    """
    if not sizes:
        raise DatasetError(f"{family}: no splits to write commands for")
    return render("harness/run.md.j2", package=TEMPLATES, group=family_stem(family),
                  tasks=[{"task": task_name(family, s.config, s.split), "max_gen_toks": s.max_gen_toks}
                         for s in sizes],
                  runs=_shell_lines([f"{s.config}/{s.split}" for s in sizes]), max_length=lm_eval_max_length(sizes),
                  repo_id=repo_id, revision=revision)


def _shell_lines(words: list[str], width: int = 96) -> str:
    """``words`` space-separated, continued with `` \\`` onto indented lines of at most ``width`` characters."""
    lines = [""]
    for word in words:
        if lines[-1] and len(lines[-1]) + 1 + len(word) > width:
            lines.append("")
        lines[-1] = f"{lines[-1]} {word}" if lines[-1] else word
    return " \\\n    ".join(lines)


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


__all__ = ["SplitSizes", "family_stem", "gen_budget", "lm_eval_max_length", "relocated_files", "rewrite_dataset_path",
           "run_section", "split_sizes", "task_name", "write_harness_files"]
