"""RULER's QA data: SQuAD v2.0 dev (qa_1) and HotpotQA dev distractor v1 (qa_2), read from the user's ``--qa-source``.

What RULER's ``scripts/data/synthetic/qa.py`` reads, rebuilt the same way:

- **SQuAD**: every question that has an answer (``is_impossible`` true or no answer text: skipped), in file order;
  its answers are all the annotators' texts (de-duplicated, first seen first), its one gold document is its
  paragraph, its article is the article's title. The pool is every unique paragraph (``context``), questions or not.
  ``by_article`` lists each title's paragraphs in file order: RULER's hard distractors (the item's own paragraph
  among them, to be left out).
- **HotpotQA**: every example, in file order; a document is ``title + "\\n" + "".join(sentences)`` (HotpotQA's
  sentences carry their own leading spaces, so RULER joins them with nothing); the gold documents are all the
  example's paragraphs (2 supporting + 8 distractors in the dev file), the supporting ones first (a title named in
  ``supporting_facts``), each group in the example's order. The pool is every paragraph of the whole file.

Both pools are sorted (by code point: no locale) and de-duplicated, as RULER does.

Sources (``--qa-source``):

- ``files:PATH``: the JSON file RULER's ``download_qa_dataset.sh`` fetches (``dev-v2.0.json``,
  ``hotpot_dev_distractor_v1.json``), or a folder holding it under that name or RULER's (``squad.json``,
  ``hotpotqa.json``), so one folder serves both tasks.
- ``hf:REPO[:CONFIG][:SPLIT][@REVISION]``: a dataset ``datasets.load_dataset`` opens (a local folder, the offline
  cache, or the Hub when online) in the layout of ``rajpurkar/squad_v2`` or ``hotpotqa/hotpot_qa`` (config
  ``distractor``: ``fullwiki``'s paragraphs are retrieved ones, not the gold ones). An empty or left-out CONFIG is
  the dataset's default, an empty or left-out SPLIT is ``validation``: ``hf:rajpurkar/squad_v2``,
  ``hf:hotpotqa/hotpot_qa:distractor``, ``hf:./my_copy::dev@v1``. A REPO holding ``:`` or ``@`` cannot be named.

Text is kept as it is, except that a document has its line ends made ``\\n``, its ends stripped and every run of
blank lines inside it collapsed to one line break (the context separates documents by a blank line, so none may
hold one); an answer has its ends stripped, and a SQuAD answer that is then no substring of its paragraph is dropped
(an item left with none is skipped); a question has its whitespace collapsed to single spaces. Loading is cached per
(source, dataset) for the process: the pool returned is shared, never mutate it.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lcgen.errors import ParamError, missing_dependency

DATASETS = ("squad", "hotpotqa")
DEFAULT_SPLIT = "validation"
HF_SYNTAX = "hf:REPO[:CONFIG][:SPLIT][@REVISION]"
_NAME = {"squad": "SQuAD v2.0 dev", "hotpotqa": "HotpotQA dev distractor v1"}
_FILE_NAMES = {"squad": ("dev-v2.0.json", "squad.json"),
               "hotpotqa": ("hotpot_dev_distractor_v1.json", "hotpotqa.json")}
_LAYOUT = {"squad": "rajpurkar/squad_v2", "hotpotqa": "hotpotqa/hotpot_qa (distractor)"}
_COLUMNS = {"squad": ("title", "context", "question", "answers"),
            "hotpotqa": ("question", "answer", "supporting_facts", "context")}
_BLANK_LINES = re.compile(r"\n\s*\n")
_Example = tuple[str, str, set[str], list[tuple[str, list[str]]]]  # question, answer, supporting titles, paragraphs


@dataclass(frozen=True)
class QaItem:
    """One answerable question and the documents it needs."""

    question: str
    answers: tuple[str, ...]
    gold: tuple[str, ...]  # documents the item needs, supporting ones first
    supporting: int  # how many of `gold` are supporting (SQuAD 1, HotpotQA usually 2)
    article: str | None  # SQuAD title; None for HotpotQA


@dataclass(frozen=True)
class QaPool:
    """A QA source read once: its items in file order and every unique document, sorted."""

    source: str  # the --qa-source value, for messages
    dataset: str  # "squad" or "hotpotqa"
    items: tuple[QaItem, ...]  # in file order (RULER takes the i-th question for sample i)
    documents: tuple[str, ...]  # every unique document, sorted
    by_article: dict[str, tuple[int, ...]]  # article title -> indexes into `documents` (SQuAD only; {} for HotpotQA)


class _Shape(Exception):
    """Where the data departs from the expected layout (becomes one ParamError line)."""


@functools.lru_cache(maxsize=8)
def load_qa_pool(source: str, dataset: str) -> QaPool:
    """Read ``dataset`` ("squad" or "hotpotqa") from ``source`` (``files:PATH`` or ``hf:...``), once per process.

    Raises:
        ParamError: in one line naming ``source``, for any source that cannot be read as that dataset.
    """
    if dataset not in DATASETS:
        raise _fail(source, f"cannot be read as {dataset!r}: the QA datasets are {', '.join(DATASETS)}")
    scheme, _, arg = source.partition(":")
    try:
        if scheme == "files":
            data, row = _read_json(source, arg, dataset), ""
        elif scheme == "hf":
            data, row = _hf_rows(source, arg, dataset), "row"
        else:
            hint = f" (for this path: files:{source})" if source and _is(Path(source), "exists") else ""
            raise _fail(source, f"is not files:PATH or {HF_SYNTAX}{hint}")
        if dataset == "squad":
            return _squad_pool(source, *(_squad_rows(data) if row else _squad_articles(data)))
        return _hotpot_pool(source, _hotpot_examples(data, "the dataset" if row else "the file", row))
    except _Shape as exc:
        what = (f"in the {_LAYOUT[dataset]} layout" if scheme == "hf"
                else f"{_NAME[dataset]} JSON ({_FILE_NAMES[dataset][0]})")
        raise _fail(source, f"is not {what}: {exc}") from None


def normalise_document(text: str) -> str:
    """``text`` with ``\\n`` line ends, its ends stripped and each run of blank lines collapsed to one ``\\n``."""
    return _BLANK_LINES.sub("\n", text.replace("\r\n", "\n").replace("\r", "\n").strip())


def _squad_pool(source: str, paragraphs: list[tuple[str, str]],
                questions: list[tuple[str, str, str, list[str]]]) -> QaPool:
    documents = tuple(sorted({d for d in (normalise_document(c) for _, c in paragraphs) if d}))
    index = {d: i for i, d in enumerate(documents)}
    articles: dict[str, dict[int, None]] = {}
    for title, context in paragraphs:
        doc = normalise_document(context)
        if doc and title.strip():
            articles.setdefault(title.strip(), {})[index[doc]] = None  # an ordered set: paragraphs in file order
    items = []
    for title, context, question, texts in questions:
        doc = normalise_document(context)
        answers = tuple(dict.fromkeys(a for a in (t.strip() for t in texts) if a and a in doc))
        query = " ".join(question.split())
        if doc and answers and query:
            items.append(QaItem(query, answers, (doc,), 1, title.strip() or None))
    by_article = {title: tuple(articles[title]) for title in sorted(articles)}
    return _checked(QaPool(source, "squad", tuple(items), documents, by_article))


def _hotpot_pool(source: str, examples: list[_Example]) -> QaPool:
    documents = tuple(sorted({_hotpot_document(t, s) for *_, context in examples for t, s in context}))
    items = []
    for question, answer, support, context in examples:
        docs = {_hotpot_document(t, s): t.strip() in support for t, s in context}  # de-duplicated, in order
        gold = tuple([d for d, sup in docs.items() if sup] + [d for d, sup in docs.items() if not sup])
        supporting = sum(docs.values())
        query = " ".join(question.split())
        if query and answer.strip() and supporting:
            items.append(QaItem(query, (answer.strip(),), gold, supporting, None))
    return _checked(QaPool(source, "hotpotqa", tuple(items), documents, {}))


def _hotpot_document(title: str, sentences: list[str]) -> str:
    return normalise_document(f"{title}\n{''.join(sentences)}")


def _checked(pool: QaPool) -> QaPool:
    what = _NAME[pool.dataset]
    if not pool.documents:
        raise _fail(pool.source, f"holds no {what} documents")
    if not pool.items:
        raise _fail(pool.source, f"holds no answerable {what} question")
    return pool


# --- files: ------------------------------------------------------------------------------------------------------


def _read_json(source: str, arg: str, dataset: str) -> Any:
    if not arg:
        raise _fail(source, f"needs a path, e.g. files:{_FILE_NAMES[dataset][0]}")
    path = Path(arg)
    try:
        path = path.expanduser()
    except RuntimeError:  # "~name" of no known user: kept as written
        pass
    if _is(path, "is_dir"):
        found = [path / name for name in _FILE_NAMES[dataset] if _is(path / name, "is_file")]
        if not found:
            raise _fail(source, f"is a folder without {' or '.join(_FILE_NAMES[dataset])} (the {_NAME[dataset]} file)")
        path = found[0]
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise _fail(source, f"does not exist (the {_NAME[dataset]} file is {_FILE_NAMES[dataset][0]}, which RULER's "
                            "download_qa_dataset.sh fetches)") from None
    except (OSError, ValueError) as exc:  # a folder's name too long, a NUL in the path, no permission
        raise _fail(source, f"cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    if raw.startswith(b"version https://git-lfs"):
        raise _fail(source, "is a Git LFS pointer, not the data (git lfs pull, or download the file again)")
    try:
        return json.loads(raw)
    except UnicodeDecodeError:
        raise _fail(source, "is not UTF-8 JSON") from None
    except (ValueError, RecursionError) as exc:
        raise _fail(source, f"is not JSON ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None


def _is(path: Path, test: str) -> bool:
    """``path.exists()``/``is_dir()``/``is_file()``, False where the path cannot even be asked about."""
    try:
        return getattr(path, test)()
    except (OSError, ValueError):
        return False


def _squad_articles(data: Any) -> tuple[list[tuple[str, str]], list[tuple[str, str, str, list[str]]]]:
    """SQuAD's nested JSON -> (title, context) per paragraph, (title, context, question, answers) per answerable."""
    paragraphs, questions = [], []
    for a, article in enumerate(_field(data, "data", list, "the file")):
        where = f"data[{a}]"
        title = _field(article, "title", str, where)
        for p, para in enumerate(_field(article, "paragraphs", list, where)):
            pw = f"{where}.paragraphs[{p}]"
            context = _field(para, "context", str, pw)
            paragraphs.append((title, context))
            for q, qa in enumerate(_field(para, "qas", list, pw)):
                qw = f"{pw}.qas[{q}]"
                question = _field(qa, "question", str, qw)
                answers = _field(qa, "answers", list, qw)
                texts = [_field(ans, "text", str, f"{qw}.answers[{i}]") for i, ans in enumerate(answers)]
                impossible = qa.get("is_impossible", False)
                if not isinstance(impossible, bool):
                    raise _Shape(f"{qw}.is_impossible is {_kind(impossible)}, not true or false")
                if not impossible:
                    questions.append((title, context, question, texts))
    return paragraphs, questions


def _squad_rows(rows: list[Any]) -> tuple[list[tuple[str, str]], list[tuple[str, str, str, list[str]]]]:
    """rajpurkar/squad_v2 rows (one per question; unanswerable = no answer text) -> as ``_squad_articles``."""
    paragraphs, questions = [], []
    for i, row in enumerate(rows):
        where = f"row {i}"
        title, context, question = (_field(row, key, str, where) for key in ("title", "context", "question"))
        texts = _strings(_field(_field(row, "answers", dict, where), "text", list, f"{where}.answers"),
                         f"{where}.answers.text")
        paragraphs.append((title, context))
        questions.append((title, context, question, texts))
    return paragraphs, questions


def _hotpot_examples(data: Any, what: str, row: str = "") -> list[_Example]:
    """HotpotQA examples, as JSON objects (pairs) or Hub rows (columns of lists) -> (question, answer,
    supporting titles, [(title, sentences)])."""
    if not isinstance(data, list):
        raise _Shape(f"{what} is {_kind(data)}, not a list of examples")
    examples = []
    for i, ex in enumerate(data):
        where = f"{row} {i}" if row else f"[{i}]"
        question, answer = _field(ex, "question", str, where), _field(ex, "answer", str, where)
        context = [(_typed(t, str, f"{where}.context[{j}] title"), _strings(s, f"{where}.context[{j}] sentences"))
                   for j, (t, s) in enumerate(_pairs(ex, "context", ("title", "sentences"), where))]
        support = {_typed(t, str, f"{where}.supporting_facts[{j}] title").strip()
                   for j, (t, _) in enumerate(_pairs(ex, "supporting_facts", ("title", "sent_id"), where))}
        examples.append((question, answer, support, context))
    return examples


def _pairs(obj: Any, key: str, names: tuple[str, str], where: str) -> list[tuple[Any, Any]]:
    """``[[a, b], ...]`` (the JSON file) or ``{names[0]: [a, ...], names[1]: [b, ...]}`` (the Hub) -> [(a, b)]."""
    value = _field(obj, key, (list, dict), where)
    if isinstance(value, dict):
        first, second = (_field(value, name, list, f"{where}.{key}") for name in names)
        if len(first) != len(second):
            raise _Shape(f"{where}.{key} has {len(first)} {names[0]} but {len(second)} {names[1]}")
        return list(zip(first, second))
    bad = next((j for j, pair in enumerate(value) if not isinstance(pair, list) or len(pair) != 2), None)
    if bad is not None:
        raise _Shape(f"{where}.{key}[{bad}] is not a [{names[0]}, {names[1]}] pair")
    return [(a, b) for a, b in value]


def _field(obj: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(obj, dict):
        raise _Shape(f"{where} is {_kind(obj)}, not an object")
    if key not in obj:
        raise _Shape(f"{where} has no {key!r}")
    return _typed(obj[key], kind, f"{where}.{key}")


def _typed(value: Any, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(value, kind):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        raise _Shape(f"{where} is {_kind(value)}, not {' or '.join(_kind(k()) for k in kinds)}")
    return value


def _strings(value: Any, where: str) -> list[str]:
    bad = next((j for j, s in enumerate(_typed(value, list, where)) if not isinstance(s, str)), None)
    if bad is not None:
        raise _Shape(f"{where}[{bad}] is {_kind(value[bad])}, not text")
    return value


def _kind(value: Any) -> str:
    names = {str: "text", list: "a list", dict: "an object", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__)


# --- hf: ---------------------------------------------------------------------------------------------------------


def parse_hf_source(arg: str) -> tuple[str, str | None, str, str | None]:
    """``REPO[:CONFIG][:SPLIT][@REVISION]`` -> (repo, config or None, split, revision or None).

    Raises:
        ValueError: ``arg`` is malformed.
    """
    body, at, revision = arg.partition("@")
    parts = body.split(":")
    if not parts[0] or len(parts) > 3 or (at and not revision):
        raise ValueError(arg)
    config = parts[1] if len(parts) > 1 and parts[1] else None
    split = parts[2] if len(parts) > 2 and parts[2] else DEFAULT_SPLIT
    return parts[0], config, split, revision or None


def _hf_rows(source: str, arg: str, dataset: str) -> list[Any]:
    try:
        repo, config, split, revision = parse_hf_source(arg)
    except ValueError:
        raise _fail(source, f"is not {HF_SYNTAX}") from None
    try:
        import datasets
    except ImportError:
        raise missing_dependency("--qa-source hf:", "datasets") from None
    try:
        ds = datasets.load_dataset(repo, config, split=split, revision=revision)
    except Exception as exc:  # datasets raises many kinds; all mean "cannot open this source"
        offline = isinstance(exc, ConnectionError) and (datasets.config.HF_HUB_OFFLINE or
                                                         datasets.config.HF_DATASETS_OFFLINE)
        hint = "; it is not in the local cache and HF_HUB_OFFLINE is set" if offline else ""
        raise _fail(source, f"cannot open dataset {repo!r}: {_first_line(exc)}{hint}") from None
    missing = [c for c in _COLUMNS[dataset] if c not in ds.column_names]
    if missing:
        raise _fail(source, f"has no column {missing[0]!r} (columns: {', '.join(ds.column_names)}); expected the "
                            f"{_LAYOUT[dataset]} layout")
    try:
        return ds.select_columns(list(_COLUMNS[dataset])).to_list()
    except Exception as exc:  # a corrupt shard, an unreadable file
        raise _fail(source, f"cannot read dataset {repo!r}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    return next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)


def _fail(source: str, text: str) -> ParamError:
    """One line naming the source, with anything that looks like a credential masked."""
    from lcgen.publish import redact  # only on a refusal: it also masks the token huggingface_hub would send

    shown = repr(source) if source != source.strip() or any(c in source for c in "\r\n") else source
    return ParamError(" ".join(redact(f"--qa-source: {shown} {text}").splitlines()))
