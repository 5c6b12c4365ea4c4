"""Harness task files shipped inside every dataset folder, so the data runs as it is under lm-evaluation-harness and
inspect_ai, scored by the folder's own copy of lcgen's metric.

Written into the folder, all from the templates in ``cards/harness/``::

    lcgen_metrics.py                                  the family's metric (lcgen.metrics.shipped_metric_source)
    harness/lm_eval/_lcgen_<family>_base.yaml         settings every task includes (data location, prompt, metrics)
    harness/lm_eval/lcgen_<family>_<config>_<split>.yaml   one task per (config, split)
    harness/lm_eval/lcgen_<family>.yaml               the group of all those tasks
    harness/lm_eval/utils.py                          process_results (and the local loader) for lm-eval
    harness/inspect_task.py                           one inspect_ai @task taking config and split

A family that declares ``lm_eval_tasks`` (variant -> the task name an lm-eval group of its own uses, e.g. RULER's
``ruler`` group) gets lm-eval files laid out as that group is instead, each task named ``lcgen_<that name>``::

    harness/lm_eval/_lcgen_<family>_base.yaml         settings every task includes (data location, prompt, prefix)
    harness/lm_eval/lcgen_<task>.yaml                 one task per config: every split (length) as one test set,
                                                      one metric per length, named by its tokens ("4000")
    harness/lm_eval/lcgen_<family>.yaml               the group, each length averaged over the tasks
    harness/lm_eval/utils.py                          the loader (local or Hub), process_results, aggregate_metrics

By default the files read the dataset folder they sit in, found from their own location, so they work from any
working directory and after the folder is moved, copied or downloaded. ``rewrite_dataset_path`` points them at a Hub
repo id instead (what ``lcgen publish`` sets). ``<family>`` is the family name with non-word characters as ``_``.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import re
import shutil
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from . import metrics
from ._version import __version__
from .errors import DatasetError, ParamError, UnknownNameError
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
_LENGTH_BLOCK = "# >>> data location, every length as one test split"  # how that layout's block starts
_LOCATION_TEMPLATES = {False: "harness/lm_eval_location.yaml.j2", True: "harness/lm_eval_length_location.yaml.j2"}


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
    # What the by-length layout (a family with ``lm_eval_tasks``) needs; ``variant`` None: not read.
    variant: str | None = None  # the rows' variant ("": not one for all rows)
    # the length asked for, in tokens: ``target_length`` + ``meta.reserve_output`` (None: not one for all rows)
    length: int | None = None
    gen_toks: int | None = None  # the largest ``meta.tokens_to_generate`` (None: no row has one)
    prefix_bytes: int = 0  # the longest ``meta.answer_prefix`` (what the reply starts with), in UTF-8 bytes

    @property
    def max_gen_toks(self) -> int:
        return gen_budget(self.answer_bytes)


def split_sizes(folder: Path, config: str, split: str, prompts: bool = True) -> SplitSizes:
    """Rows, the longest answer (and, with ``prompts``, the longest prompt) and the by-length facts of one split,
    read a few rows at a time from its parquet files."""
    files = sorted(Path(folder).glob(f"data/{config}/{split}-*.parquet"))
    if not files:
        raise DatasetError(f"{folder}: config {config!r} split {split!r} has no parquet files")
    rows, answer_bytes, input_bytes, prefix_bytes = 0, 0, 0, 0
    variants: set[str] = set()
    lengths: set[int] = set()
    gen_toks: int | None = None
    columns = ["answer", "input", "variant", "target_length", "meta"] if prompts else [
        "answer", "variant", "target_length", "meta"]
    for f in files:
        for batch in pq.ParquetFile(f).iter_batches(batch_size=8, columns=columns):  # no pandas import
            for answer in batch.column("answer").to_pylist():
                rows += 1
                answer_bytes = max(answer_bytes, len(answer.encode("utf-8")))
            if prompts:
                input_bytes = max([input_bytes, *(len(p.encode("utf-8")) for p in batch.column("input").to_pylist())])
            variants.update(batch.column("variant").to_pylist())
            for target, text in zip(batch.column("target_length").to_pylist(), batch.column("meta").to_pylist()):
                if not any(f'"{key}"' in text for key in ("answer_prefix", "tokens_to_generate", "reserve_output")):
                    lengths.add(target)
                    continue
                meta = json.loads(text)
                lengths.add(target + (meta.get("reserve_output") or 0))
                prefix = meta.get("answer_prefix")
                if isinstance(prefix, str):
                    prefix_bytes = max(prefix_bytes, len(prefix.encode("utf-8")))
                budget = meta.get("tokens_to_generate")
                if isinstance(budget, int) and not isinstance(budget, bool) and budget > 0:
                    gen_toks = max(gen_toks or 0, budget)
    return SplitSizes(config, split, rows, answer_bytes, input_bytes if prompts else None,
                      variants.pop() if len(variants) == 1 else "", lengths.pop() if len(lengths) == 1 else None,
                      gen_toks, prefix_bytes)


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

    known = {(size.config, size.split): size for size in sizes or []}
    all_sizes = [known.get((config, split)) or split_sizes(folder, config, split, prompts=False)
                 for config, split in splits]
    budgets: OrderedDict[str, dict[str, int]] = OrderedDict()
    for size in all_sizes:
        budgets.setdefault(size.config, {})[size.split] = size.max_gen_toks
    if spec.lm_eval_tasks is None:
        written += _write_split_tasks(folder, family, all_sizes, common, location, base)
    else:
        facts = [with_length_facts(folder, size) for size in all_sizes]
        written += _write_length_tasks(folder, family, facts, common, location, base)
    first_config, first_split = splits[0]
    written.append(_write(folder, INSPECT_FILE,
                          render("harness/inspect_task.py.j2", package=TEMPLATES, **common, **location,
                                 task_name=stem, splits=budgets, metadata=INSPECT_METADATA,
                                 first_config=first_config, first_split=first_split)))
    return written


def _write_split_tasks(folder: Path, family: str, sizes: list[SplitSizes], common: dict, location: dict,
                       base: str) -> list[str]:
    """The lm-eval files of the default layout: one task per (config, split), a base, a group and utils.py."""
    stem = family_stem(family)
    written, tasks = [], []
    for size in sizes:
        task = task_name(family, size.config, size.split)
        tasks.append(task)
        text = render("harness/lm_eval_task.yaml.j2", package=TEMPLATES, **common, base=base, task=task,
                      config=size.config, split=size.split, rows=size.rows, max_gen_toks=size.max_gen_toks,
                      answer_bytes=size.answer_bytes)
        written.append(_write(folder, f"{LM_EVAL_DIR}/{task}.yaml", text))
    written.append(_write(folder, f"{LM_EVAL_DIR}/{base}",
                          render("harness/lm_eval_base.yaml.j2", package=TEMPLATES, **common, **location)))
    written.append(_write(folder, f"{LM_EVAL_DIR}/{stem}.yaml",
                          render("harness/lm_eval_group.yaml.j2", package=TEMPLATES, **common, group=stem,
                                 tasks=tasks)))
    written.append(_write(folder, f"{LM_EVAL_DIR}/utils.py",
                          render("harness/lm_eval_utils.py.j2", package=TEMPLATES, **common)))
    return written


@dataclass(frozen=True)
class LengthTask:
    """One lm-eval task of the by-length layout: one config, every split (length) of it as one test set."""

    config: str
    variant: str
    task: str  # lcgen_<lm_eval_name>
    lm_eval_name: str  # the name the other group gives it (family's lm_eval_tasks), or the config's own
    sizes: tuple[SplitSizes, ...]  # its splits, in card order
    max_gen_toks: int  # the largest meta.tokens_to_generate, else gen_budget of its longest answer
    gen_toks_from_meta: bool

    @property
    def lengths(self) -> dict[str, int]:
        """split -> the length asked for, in tokens (the name of that split's metric)."""
        return {s.split: _length(s) for s in self.sizes}


def _length(size: SplitSizes) -> int:
    """The length a split was asked for (``--len``; with ``--reserve-output`` the prompt is that much shorter), as
    lm-eval's own length metrics count the sequence."""
    if size.length is not None:
        return size.length
    if size.variant is not None:  # read, and not one length for every row
        raise DatasetError(f"split {size.config}/{size.split}: its rows were asked for different lengths; one "
                           "lm-eval metric per length needs one length per split")
    from .lengths import parse_length  # not read (the card before the rows' facts): the split's name says it

    try:
        return parse_length(size.split)
    except ParamError:
        return 0  # no --len: what target_length says then


@functools.lru_cache(maxsize=1)
def _lm_eval_order() -> dict[str, int]:
    """Task name -> its position in lm-eval's own group (``cards/harness/lm_eval_group_order.yaml.j2``)."""
    import yaml

    groups = yaml.safe_load(render("harness/lm_eval_group_order.yaml.j2", package=TEMPLATES)) or {}
    order: dict[str, int] = {}
    for names in groups.values():
        for name in names:
            order.setdefault(name, len(order))
    return order


def length_tasks(family: str, sizes: list[SplitSizes]) -> list[LengthTask]:
    """The by-length tasks of a family with ``lm_eval_tasks`` over ``sizes`` (card order), in its group's order:
    as lm-eval's own group lists them, then any other in card order."""
    spec = families.get(family)
    mapping = spec.lm_eval_tasks or {}
    by_config: OrderedDict[str, list[SplitSizes]] = OrderedDict()
    for size in sizes:
        by_config.setdefault(size.config, []).append(size)
    tasks = []
    for config, group in by_config.items():
        variant = group[0].variant if group[0].variant is not None else config.partition("__")[0]
        if not variant or any(s.variant is not None and s.variant != variant for s in group):
            raise DatasetError(f"config {config!r}: its rows are not all of one variant")
        name = mapping.get(variant)
        suffix = config[len(variant):] if config.startswith(variant) else ""
        task = f"lcgen_{name}{suffix}" if name else f"{family_stem(family)}_{config}"
        known = [s.gen_toks for s in group if s.gen_toks is not None]
        budget = max(known) if known else gen_budget(max(s.answer_bytes for s in group))
        tasks.append(LengthTask(config, variant, task, name or config, tuple(group), budget, bool(known)))
    seen: dict[str, str] = {}
    for t in tasks:
        if t.task in seen:
            raise DatasetError(f"configs {seen[t.task]!r} and {t.config!r} would both be lm-eval task {t.task!r}")
        seen[t.task] = t.config
        if len(set(t.lengths.values())) != len(t.sizes):
            raise DatasetError(f"config {t.config!r}: two splits were asked for the same length")
    order = _lm_eval_order()
    rank = {t.config: i for i, t in enumerate(tasks)}
    return sorted(tasks, key=lambda t: (order.get(t.lm_eval_name, len(order)), rank[t.config]))


def with_length_facts(folder: Path, size: SplitSizes) -> SplitSizes:
    """``size`` with the by-length facts (read from its parquet files when it lacks them)."""
    if size.variant is not None:
        return size
    read = split_sizes(folder, size.config, size.split, prompts=False)
    return dataclasses.replace(size, variant=read.variant, length=read.length, gen_toks=read.gen_toks,
                               prefix_bytes=read.prefix_bytes)


def _write_length_tasks(folder: Path, family: str, sizes: list[SplitSizes], common: dict, location: dict,
                        base: str) -> list[str]:
    """The lm-eval files of the by-length layout: one task per config over all its lengths, a base, a group and
    utils.py (the loader that concatenates the splits, process_results and the per-length aggregation)."""
    stem = family_stem(family)
    tasks = length_tasks(family, sizes)
    written = []
    for t in tasks:
        text = render("harness/lm_eval_length_task.yaml.j2", package=TEMPLATES, **common, base=base, task=t.task,
                      config=t.config, lm_eval_task=t.lm_eval_name, splits=[s.split for s in t.sizes],
                      rows=sum(s.rows for s in t.sizes), lengths=list(t.lengths.values()),
                      max_gen_toks=t.max_gen_toks, gen_toks_from_meta=t.gen_toks_from_meta,
                      answer_bytes=max(s.answer_bytes for s in t.sizes))
        written.append(_write(folder, f"{LM_EVAL_DIR}/{t.task}.yaml", text))
    written.append(_write(folder, f"{LM_EVAL_DIR}/{base}",
                          render("harness/lm_eval_length_base.yaml.j2", package=TEMPLATES, **common, **location)))
    lengths = sorted({n for t in tasks for n in t.lengths.values()})
    written.append(_write(folder, f"{LM_EVAL_DIR}/{stem}.yaml",
                          render("harness/lm_eval_length_group.yaml.j2", package=TEMPLATES, **common, group=stem,
                                 tasks=[t.task for t in tasks], lengths=lengths)))
    by_config = {t.config: t.lengths for t in tasks}
    splits = {config: by_config[config] for config in dict.fromkeys(s.config for s in sizes)}  # card order
    written.append(_write(folder, f"{LM_EVAL_DIR}/utils.py",
                          render("harness/lm_eval_length_utils.py.j2", package=TEMPLATES, **common, splits=splits)))
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
    try:
        by_length = families.get(family).lm_eval_tasks is not None
    except UnknownNameError:  # a folder of a family not installed here: the default layout's commands
        by_length = False
    if by_length:
        tasks = length_tasks(family, sizes)
        listed = [{"task": t.task, "max_gen_toks": t.max_gen_toks} for t in tasks]
        max_length = max(_prompt_bytes(s) + 1 + t.max_gen_toks + 1 for t in tasks for s in t.sizes)
        lengths = sorted({n for t in tasks for n in t.lengths.values()})
    else:
        listed = [{"task": task_name(family, s.config, s.split), "max_gen_toks": s.max_gen_toks} for s in sizes]
        max_length, lengths = lm_eval_max_length(sizes), []
    return render("harness/run.md.j2", package=TEMPLATES, group=family_stem(family), tasks=listed,
                  runs=_shell_lines([f"{s.config}/{s.split}" for s in sizes]), max_length=max_length,
                  repo_id=repo_id, revision=revision, by_length=by_length, lengths=lengths,
                  prefixed=by_length and any(s.prefix_bytes for s in sizes))


def _prompt_bytes(size: SplitSizes) -> int:
    """The longest prompt lm-eval sends for a split in the by-length layout, in UTF-8 bytes, at most: ``input``,
    then (with an answer prefix) a space and the prefix."""
    return size.input_bytes + (size.prefix_bytes + 1 if size.prefix_bytes else 0)


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
    out: dict[str, str] = {}
    for path in [*bases, folder / INSPECT_FILE]:
        text = path.read_text(encoding="utf-8")
        found = _BLOCK.findall(text)
        if len(found) != 1:
            raise DatasetError(f"{path}: no single '# >>> data location' block to rewrite")
        if path.suffix == ".py":
            template = "harness/inspect_location.py.j2"
        else:  # the block says which layout the base is of
            template = _LOCATION_TEMPLATES[found[0].startswith(_LENGTH_BLOCK)]
        block = render(template, package=TEMPLATES, **location)
        out[path.relative_to(folder).as_posix()] = _BLOCK.sub(lambda _, block=block: block, text)
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


__all__ = ["LengthTask", "SplitSizes", "family_stem", "gen_budget", "length_tasks", "lm_eval_max_length",
           "relocated_files", "rewrite_dataset_path", "run_section", "split_sizes", "task_name", "with_length_facts",
           "write_harness_files"]
