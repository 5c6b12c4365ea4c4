"""``lcgen validate``: re-solve every sample with its family's oracle and check length, depth, ids, meta and leakage.

A damaged row fails its own sample, with one problem per thing wrong; a damaged card or parquet file stops the run
in one line naming the key or the column (see lcgen.dataset). Only tokenizers the user named are loaded: a tiktoken
name recorded in the row, or the ``--tokenizer`` given to validate; a path recorded in a row is never opened.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .dataset import (FINGERPRINT_PREFIX, content_fingerprint, iter_splits, kind_of, read_card, read_rows,
                      row_digest, row_problems)
from .errors import DatasetError, LcgenError, UnknownNameError
from .oracle import OracleInput, Request
from .params import build_params
from .registry import families, oracles
from .tokenizer import TIKTOKEN_NAMES, get_tokenizer

DEPTH_EPS = 1e-4  # recorded depths are rounded to 6 decimals
MAX_DEPTH_ALLOWANCE = 10.0  # percent points a coarse unit may excuse at most (see depth_allowance)
# What an oracle may raise on an input it cannot read (a damaged or hand-edited sample): the sample fails.
ORACLE_ERRORS = (LookupError, ValueError, TypeError, AttributeError, StopIteration, ArithmeticError, RecursionError)
# What every sample's meta records (lcgen.make.build_sample), with the JSON kind validate relies on.
META_FIELDS: dict[str, type] = {"family_version": str, "params": dict, "needle_offsets": list, "context_span": list,
                                "context_tokens": int, "max_unit_tokens": int, "tokenizations": int}
JSON_OBJECT = "an object"
_JSON_KINDS = {str: "text", dict: JSON_OBJECT, list: "a list", int: "an integer"}


@dataclass
class VariantReport:
    samples: int = 0
    failed: int = 0
    exact: int = 0
    max_depth_error: float = 0.0
    failures: list[str] = field(default_factory=list)
    card_problems: list[str] = field(default_factory=list)  # the card disagrees with the rows of this config


def _anchor_error(index, got, needle_tok, first: int, last: int, target: float) -> tuple[float, float]:
    """How far the anchor needle sits from the requested depth, in percent points, and the one-unit allowance.

    Needles the family must keep between the target and the anchor (the rest of a thread that cannot fit after
    depth 100, say) do not count against it, and the deepest reachable start is before the needle itself and
    the context's closing filler unit. The allowance is one *filler* unit: a needle is placed between filler
    units, so only their size excuses an error; a large needle excuses nothing.
    """
    ctx = max(last - first, 1)
    starts = index.tokens_at(sorted(got.unit_offsets)) if got.unit_offsets else np.asarray([first])
    lengths = np.diff(np.append(starts, last))
    length_at = dict(zip(starts.tolist(), lengths.tolist()))
    needle_starts = set(needle_tok.tolist())
    filler = [n for s, n in length_at.items() if s not in needle_starts]
    measured = 100.0 * (needle_tok - first) / ctx
    a = int(np.argmin(np.abs(measured - target))) if got.anchor is None else got.anchor
    anchor = int(needle_tok[a])
    own = length_at.get(anchor, 0)
    closing = int(lengths[-1]) if int(starts[-1]) not in needle_starts else 0
    wanted = min(first + target / 100.0 * ctx, last - own - closing)
    low, high = sorted((wanted, anchor))
    between = sum(length_at.get(int(t), 0) for j, t in enumerate(needle_tok) if j != a and low <= t < high)
    error_tokens = max(abs(anchor - wanted) - between, 0.0)
    later = [int(t) for t in needle_tok if int(t) > anchor]
    if anchor < wanted and later:
        # Pushed back: what follows the anchor (a chain spread over some percent) cannot fit after the target, so
        # the family ends it at the context's close; then the last needle must sit as deep as it can.
        tail = max(later)
        deepest = last - length_at.get(tail, 0) - closing
        error_tokens = min(error_tokens, abs(deepest - tail))
    return 100.0 * error_tokens / ctx, depth_allowance(max(filler, default=0), ctx)


def depth_allowance(unit_tokens: int, ctx_tokens: int) -> float:
    """How far, in percent points, the anchor may sit from its target: one unit (needles sit between units), but
    never more than MAX_DEPTH_ALLOWANCE.

    A user reads depth off a heatmap whose rows are at least 10 points apart (0, 10, ..., 100 is the finest grid
    in common use). An error of a whole step puts the needle at a neighbouring row's depth: the sample is then
    mislabelled, not imprecise, and no unit size excuses that (the generator must refuse such a sample instead).
    Smaller errors within one unit are the granularity of a short context (a 1k needle-threads sample has units
    of 6% of its context).
    """
    return min(100.0 * unit_tokens / max(ctx_tokens, 1), MAX_DEPTH_ALLOWANCE) + DEPTH_EPS


def check_row(row: dict[str, Any], tokenizers: dict[str, Any],
              chats: dict[str, Any] | None = None) -> tuple[list[str], float]:
    """Problems found in one row (empty when it passes) and its anchor depth error in percent points.

    ``chats`` maps a chat template's sha256 to the template (from tokenizers.json): a row made with one is counted
    with special tokens and its ``messages`` must render to its ``input``.
    """
    problems = row_problems(row)
    if problems:
        return problems, 0.0
    problems = _value_problems(row)
    try:
        fam = oracles.get(row["task"])
    except UnknownNameError as exc:
        return problems + [f"task: {exc}"], 0.0
    spec = row.get("tokenizer_spec") or _row_tokenizer(row)
    if spec is None:
        return problems + [f"tokenizer {row['tokenizer']!r} is not one lcgen loads by name "
                           f"({', '.join(TIKTOKEN_NAMES)}); not opened (pass its tokenizer.json with --tokenizer)"], 0.0
    tok = tokenizers.get(spec) or tokenizers.setdefault(spec, get_tokenizer(spec))
    meta, meta_problems = _read_meta(row)
    problems.extend(meta_problems)
    chat_sha = meta.get("chat_template") if meta is not None else None
    if chat_sha is not None and not isinstance(chat_sha, str):
        problems.append(f"meta.chat_template is {kind_of(chat_sha)}, not a template's sha256")
        chat_sha = None
    chat = (chats or {}).get(chat_sha) if chat_sha is not None else None
    if chat_sha is not None and chat is None:
        problems.append(f"meta.chat_template {str(chat_sha)[:12]}... is not a template tokenizers.json records")
    if chat_sha is not None:
        tok = tok.with_special_tokens()
    index = tok.index(row["input"])  # the one tokenization of this sample, shared with the oracle
    problems.extend(_messages_problems(row, chat, chat_sha is not None))
    flat = _conversation(row, chat, meta, tok)
    reading = (flat.text, flat.to_input) if flat is not None else _user_message(row, chat)
    try:
        got = fam(_view(row, index, meta, spec, reading, tok))
    except ORACLE_ERRORS as exc:
        return problems + [f"oracle could not solve the sample ({type(exc).__name__}: {exc})"], 0.0
    if flat is not None:
        got = _in_conversation(got, flat, problems)
    elif reading is not None:
        got = _shifted(got, reading[1])
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
    if meta is not None:
        problems.extend(_replaced_keywords_left(row, meta))
    if tok.vocab_hash != row["tokenizer_hash"]:
        problems.append("tokenizer vocabulary hash differs from the one recorded")
    if index.n_tokens != row["length"]:
        problems.append(f"length {row['length']} but input has {index.n_tokens} tokens")
    if row.get("input_ids") is not None:
        ids = np.asarray(row["input_ids"], dtype=np.int64)
        if not np.array_equal(ids, tok.ids(row["input"]).astype(np.int64)):
            problems.append(f"input_ids are not the tokenizer's ids of input ({len(ids)} ids, "
                            f"{index.n_tokens} tokens)")
    target = row["target_length"]
    if target and row["length"] > target:
        problems.append(f"length {row['length']} exceeds target {target}")
    elif target and row["length"] < target:
        problems.append(f"length {row['length']} is {target - row['length']} tokens short of target {target}")
    first, last = index.token_at(got.context_span[0]), index.token_at(got.context_span[1])
    if meta is not None:
        problems.extend(_meta_against_oracle(meta, got, row["input"], last - first))
    if row["task"] in families and not families.get(row["task"]).has_depth(row["variant"]):
        if row["depth"] or row["target_depth"]:
            problems.append("the family places nothing at a depth, yet `depth` or `target_depth` is set")
        return problems, 0.0
    ctx = max(last - first, 1)
    # Depth is measured where the needle's unit starts: the oracle may find its text past the unit's leading space,
    # which a tokenizer that splits " " from the word counts as a token of its own.
    at = meta["needle_offsets"] if meta is not None and _same_places(meta["needle_offsets"], got.needle_offsets,
                                                                      row["input"]) else got.needle_offsets
    needle_tok = index.tokens_at(at)
    measured = 100.0 * (needle_tok - first) / ctx
    recorded = np.asarray(row["depth"], dtype=float)
    if measured.shape != recorded.shape or not np.allclose(measured, recorded, atol=DEPTH_EPS, rtol=0):
        problems.append("measured needle depths differ from `depth`")
    error = 0.0
    if len(measured) and target:  # without a length the context is the needles alone: depth only labels the sample
        error, allowed = _anchor_error(index, got, needle_tok, first, last, row["target_depth"])
        if error > allowed:
            problems.append(
                f"needle depth is off target {row['target_depth']:g}% by {error:.3f} points (allowed {allowed:.3f})"
            )
    return problems, error


def _messages_problems(row: dict[str, Any], chat: Any, templated: bool) -> list[str]:
    """``messages`` must be the prompt ``input`` holds: the one user message itself, or the messages the chat
    template renders to exactly ``input``."""
    from .errors import ParamError

    messages = row["messages"]
    if not templated:
        if messages != [{"role": "user", "content": row["input"]}]:
            return ["messages is not the one user message `input` holds"]
        return []
    if chat is None:
        return []
    try:
        rendered = chat.render(messages)
    except ParamError as exc:
        return [f"messages do not render with the recorded chat template ({str(exc).partition(': ')[2]})"]
    return [] if rendered == row["input"] else ["messages rendered with the recorded chat template differ from input"]


def oracle_input(row: dict[str, Any], tokenizer: str | None = None) -> OracleInput:
    """The oracle's view of a freshly built row (tests, and scripts that call an oracle directly)."""
    spec = tokenizer or row["tokenizer"]
    tok = get_tokenizer(spec)
    return _view(row, tok.index(row["input"]), json.loads(row["meta"]), spec, tok=tok)


def _view(row: dict[str, Any], index: Any, meta: dict[str, Any] | None, tokenizer: str,
          reading: tuple[str, Any] | None = None, tok: Any = None) -> OracleInput:
    """What the oracle may read of ``row``: the request only when ``meta`` is sound (else None); with a chat
    template, ``reading``: the text the family wrote (the user message, or a conversation's turns laid out as its
    prompt) and the map of its offsets into ``input`` (checked apart: ``messages`` must render to ``input``)."""
    request = None if meta is None else Request(meta["params"], row["target_length"], row["target_depth"])
    text = row["input"]
    if reading is not None:
        text, index = reading[0], index.through(reading[0], reading[1])
    return OracleInput(input=text, question=row["question"], variant=row["variant"], token_index=index,
                       request=request, source=None if meta is None else _source(row, meta, tokenizer),
                       tokenizer=tok)


def _user_message(row: dict[str, Any], chat: Any) -> tuple[str, Any] | None:
    """With a chat template, the one user message and the map of its offsets into ``input`` (they sit ``shift``
    characters further); None without one, or when the message is not there (the oracle then reads ``input``)."""
    from .errors import ParamError

    if chat is None or len(row["messages"]) != 1:
        return None
    content = row["messages"][0]["content"]
    try:
        shift = chat.message_shift(content)
    except ParamError:
        return None
    lead = len(content) - len(content.lstrip())
    core = content.strip()
    if row["input"][shift + lead:shift + lead + len(core)] != core:
        return None
    return content, lambda offsets: np.asarray(offsets, dtype=np.int64) + shift


def _shifted(got: Any, to_input: Any) -> Any:
    """An oracle's result on the user message (or a conversation's turns), in offsets of ``input``."""
    def moved(offsets: list[int]) -> list[int]:
        return [int(o) for o in to_input(offsets)] if offsets else []

    start, end = moved(list(got.context_span))
    return dataclasses.replace(got, needle_offsets=moved(got.needle_offsets), context_span=(start, end),
                               unit_offsets=moved(got.unit_offsets))


def _in_conversation(got: Any, flat: Any, problems: list[str]) -> Any:
    """An oracle's result on a conversation's family layout, in offsets of ``input``: the context is the turn pairs
    (the family's context opening and closing stay in the first and last messages) and needles sit between pairs."""
    start, end = got.context_span
    if not (start <= flat.units[0] and flat.units[1] <= end):
        problems.append("the oracle's context does not hold every turn between the first and last messages")
    moved = _shifted(got, flat.to_input)
    return dataclasses.replace(moved, context_span=flat.units_in_input, unit_offsets=list(flat.unit_starts),
                               needle_offsets=flat.needle_starts(moved.needle_offsets))


def _conversation(row: dict[str, Any], chat: Any, meta: dict[str, Any] | None, tok: Any) -> Any:
    """A chat-history sample's turns laid out as its family's prompt (lcgen.conversation.flatten), or None for
    any other sample, or one whose messages cannot be laid out (the oracle then reads ``input`` and fails)."""
    if meta is None or meta.get("format") != "chat-history" or chat is None:
        return None
    from .conversation import conversation_joins, flatten

    messages, joiner = row["messages"], meta.get("turn_joiner")
    if not (isinstance(joiner, list) and len(joiner) == 2 and all(isinstance(j, str) and not j.strip()
                                                                   for j in joiner)) or len(messages) < 3:
        return None
    try:
        joins = conversation_joins(chat, messages[0]["content"], messages[-1]["content"], tok.special_texts())
        return flatten(messages, row["input"], (joiner[0], joiner[1]), joins)
    except (LcgenError, ValueError):
        return None


def _source(row: dict[str, Any], meta: dict[str, Any], tokenizer: str) -> Any:
    """The family's declared source for this row, regenerated from the recorded request; None when the family
    declares none (its answers come from ``input`` alone)."""
    fam = families.get(row["task"]) if row["task"] in families else None
    if fam is None or fam.source is None:
        return None
    from .make import SampleSpec

    index = int(row["id"].rsplit("/", 1)[-1])
    # A family whose text a model wrote records what the model claimed (meta.claims: quotes, the chain); its source
    # gets them to check against the text, never to take an answer from.
    claims = meta.get("claims") if fam.prepare is not None else None
    spec = SampleSpec(row["task"], row["variant"], row["target_length"] or None, row["target_depth"], index,
                      row["seed"], tokenizer, meta["params"], meta.get("haystack"), prepared=claims)
    return fam.source(spec)


def _replaced_keywords_left(row: dict[str, Any], meta: dict[str, Any]) -> list[str]:
    """A family that replaced keywords (``meta.keyword_map``, original to replacement) must have left no original in
    the row: not in ``input``, the question or any answer."""
    mapping = meta.get("keyword_map")
    if mapping is None:
        return []
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and k and isinstance(v, str)
                                                for k, v in mapping.items()):
        return ["meta.keyword_map is not a map of original keywords to their replacements"]
    texts = {"input": row["input"], "question": row["question"], "answers": "\n".join([row["answer"], *row["answers"]])}
    left = [(k, where) for k in sorted(mapping) for where, text in texts.items() if k in text]
    return [f"replaced keyword {k!r} is still in {where}" for k, where in left[:5]]


def _value_problems(row: dict[str, Any]) -> list[str]:
    """Values of the right type that still cannot be right: depths that are not finite percentages, negative counts."""
    problems = []
    if not (math.isfinite(row["target_depth"]) and 0.0 <= row["target_depth"] <= 100.0):
        problems.append(f"target_depth {row['target_depth']!r} is not a percentage in 0-100")
    bad = [d for d in row["depth"] if not math.isfinite(d)]
    if bad:
        problems.append(f"depth holds {bad[0]!r}, not a finite percentage")
    for name in ("length", "target_length"):
        if row[name] < 0:
            problems.append(f"{name} {row[name]} is negative")
    return problems


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _read_meta(row: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    """``meta`` parsed, if it is a JSON object holding what every sample records and what its family declares (its
    parameters, as the family would accept them, and the keys ``lcgen score`` breaks results down by)."""
    try:
        meta = json.loads(row["meta"], parse_constant=_reject_constant)
    except ValueError as exc:
        return None, [f"meta is not JSON ({str(exc).splitlines()[0]})"]
    except RecursionError:
        return None, ["meta is not JSON (nested too deeply)"]
    if not isinstance(meta, dict):
        return None, [f"meta is {kind_of(meta, JSON_OBJECT)}, not a JSON object"]
    problems = [f"meta has no {key}" for key in META_FIELDS if key not in meta]
    problems += [f"meta.{key} is {kind_of(meta[key], JSON_OBJECT)}, not {_JSON_KINDS[kind]}"
                 for key, kind in META_FIELDS.items() if key in meta and not _is_json(meta[key], kind)]
    offsets = meta.get("needle_offsets")
    if isinstance(offsets, list) and not all(_is_json(o, int) for o in offsets):
        problems.append("meta.needle_offsets holds something that is not a character offset")
    span = meta.get("context_span")
    if isinstance(span, list) and (len(span) != 2 or not all(_is_json(o, int) for o in span)):
        problems.append("meta.context_span is not two character offsets")
    if row["task"] in families:
        spec = families.get(row["task"])
        missing = [key for key in spec.difficulty if key not in meta]
        if missing:
            problems.append(f"meta has no {', '.join(missing)}")
        if isinstance(meta.get("params"), dict):
            problems += _params_problems(spec, meta["params"])
    return (None if problems else meta), problems


def _params_problems(spec: Any, params: dict[str, Any]) -> list[str]:
    """``meta.params`` as the family's parameter class would accept them, with every knob recorded."""
    absent = [f.name for f in dataclasses.fields(spec.params) if f.name not in params]
    if absent:
        return [f"meta.params has no {', '.join(absent)}"]
    try:
        build_params(spec.params, params, {})
    except (ValueError, TypeError) as exc:  # ParamError, or a family's own check tripping over a strange value
        return [f"meta.params: {exc}"]
    return []


def _meta_against_oracle(meta: dict[str, Any], got: Any, text: str, ctx_tokens: int) -> list[str]:
    """What meta records of the needles and the context, against what the oracle finds in ``input``.

    A recorded offset may differ from the oracle's only by whitespace (a unit's leading space, say).
    """
    problems = []
    if not _same_places(meta["needle_offsets"], got.needle_offsets, text):
        problems.append("meta.needle_offsets differ from where the oracle finds the needles")
    if list(meta["context_span"]) != list(got.context_span):
        problems.append("meta.context_span differs from the context the oracle reads")
    if meta["context_tokens"] != ctx_tokens:
        problems.append(f"meta.context_tokens {meta['context_tokens']} but the context has {ctx_tokens} tokens")
    for key, value in sorted(got.measured.items()):
        if key in meta and meta[key] != value:
            problems.append(f"meta.{key} is {_short(meta[key])} but the oracle measures {_short(value)}")
    return problems


def _short(value: Any, limit: int = 120) -> str:
    """A value for a one-line message: its repr, cut (a list of 200 confusing facts is not one line)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text):,} characters)"


def _same_places(recorded: list[int], found: list[int], text: str) -> bool:
    """Offsets that differ at most by whitespace between them, one for one."""
    def same(a: int, b: int) -> bool:
        lo, hi = min(a, b), max(a, b)
        return 0 <= lo and hi <= len(text) and not text[lo:hi].strip()

    return len(recorded) == len(found) and all(map(same, recorded, found))


def _is_json(value: Any, kind: type) -> bool:
    return isinstance(value, kind) and not isinstance(value, bool)


def _row_tokenizer(row: dict[str, Any]) -> str | None:
    """The row's tokenizer if it is a tiktoken name (loaded by name, never as a path), else None."""
    return row["tokenizer"] if row.get("tokenizer") in TIKTOKEN_NAMES else None


def validate(folder: Path, tokenizer: str | None = None) -> tuple[OrderedDict[str, VariantReport], int]:
    """Check every sample of a dataset folder; returns per-variant reports and the number of failed samples.

    ``tokenizer`` (names, paths or Hub ids, comma-separated) replaces the ones the dataset records; each row
    takes the one whose sha256 it recorded.
    """
    reports: OrderedDict[str, VariantReport] = OrderedDict()
    book = TokenizerBook(folder, tokenizer)
    seen_ids: set[str] = set()
    failed = 0
    split_digests: OrderedDict[str, list[tuple[str, str]]] = OrderedDict()
    questions = _QuestionBook()
    mixture = "lcgen-mix" in (read_card(folder).get("tags") or [])  # one config "mix" holds every variant
    for config, split, files, declared in iter_splits(folder):
        rows = read_rows(files)
        if declared is not None and declared != len(rows):
            raise DatasetError(f"{folder}: split {config}/{split} declares {declared} samples but has {len(rows)}")
        digest = hashlib.sha256()
        for row in rows:
            digest.update(row_digest(row))
        split_digests.setdefault(config, []).append((split, digest.hexdigest()))
        for n, row in enumerate(rows, 1):
            has_id = isinstance(row.get("id"), str) and bool(row["id"])
            label = row["id"] if has_id else f"{config}/{split} row {n}"
            rep = reports.setdefault(config, VariantReport())
            row["tokenizer_spec"] = book.spec_for(row, label)
            problems, err = check_row(row, book.loaded, book.chats)
            if has_id and row["id"] in seen_ids:
                problems.append("duplicate id")
            if has_id:
                seen_ids.add(row["id"])
            problems.extend(questions.check(row, label))
            if isinstance(row.get("variant"), str) and not mixture and config not in (row["variant"], *(
                    row["variant"] + e["config_suffix"] for e in book.entries.values()
                    if isinstance(e.get("config_suffix"), str) and e.get("name") == row.get("tokenizer"))):
                problems.append(f"variant {row['variant']!r} stored under config {config!r}")
            rep.samples += 1
            rep.exact += row.get("length") == row.get("target_length")
            rep.max_depth_error = max(rep.max_depth_error, err)
            if problems:
                rep.failed += 1
                failed += 1
                rep.failures.append(f"{label}: {'; '.join(problems)}")
    if not reports:
        raise DatasetError(f"{folder}: no samples")
    for cfg in read_card(folder)["configs"]:
        problem = _fingerprint_problem(cfg, split_digests.get(cfg["config_name"], []))
        if problem:
            reports.setdefault(cfg["config_name"], VariantReport()).card_problems.append(problem)
    return reports, failed


class _QuestionBook:
    """Near-duplicate questions across a dataset, for families that declare ``distinct_questions`` (the same sample
    made for several tokenizers is one question, not two)."""

    def __init__(self) -> None:
        from .similarity import NearDuplicates

        self.seen = NearDuplicates()
        self.samples: set[str] = set()

    def check(self, row: dict[str, Any], label: str) -> list[str]:
        task, question = row.get("task"), row.get("question")
        if not isinstance(task, str) or task not in families or not families.get(task).distinct_questions:
            return []
        if not isinstance(question, str):
            return []
        parts = label.split("/")
        sample = "/".join([parts[0], str(row.get("variant")), *parts[2:]]) if len(parts) > 2 else label
        if sample in self.samples:
            return []
        self.samples.add(sample)
        found = self.seen.find(question)
        self.seen.add(label, question)
        if found is None:
            return []
        from .similarity import THRESHOLD

        return [f"question nearly repeats {found[0]}'s (word 3-gram similarity {found[1]:.2f}, at least {THRESHOLD})"]


MAX_TOKENIZER_BYTES = 512 * 1024 * 1024  # a recorded tokenizer file larger than this is not opened


class TokenizerBook:
    """Which tokenizer (and chat template) each row was counted with, found again from tokenizers.json: a tiktoken
    name by name, a Hub model by repo and commit from the local HF cache, a local file by its recorded absolute path
    and sha256; ``--tokenizer`` replaces them, matched to rows by sha256. When one cannot be found, the run stops
    in one line saying what to pass."""

    def __init__(self, folder: Path, override: str | None):
        from .chat import ChatTemplate
        from .dataset import read_tokenizers_manifest
        from .tokenizer import split_specs

        self.folder = folder
        self.entries = {e["name"]: e for e in read_tokenizers_manifest(folder)}
        self.chats: dict[str, Any] = {}
        for e in self.entries.values():
            template = ChatTemplate.from_record(e.get("chat_template"))
            if template is not None:
                self.chats[template.sha256] = template
        self.loaded: dict[str, Any] = {}
        self.by_hash: dict[str, str] = {}
        for spec in split_specs(override) if override else []:
            tok = get_tokenizer(spec)
            self.loaded[spec] = tok
            self.by_hash.setdefault(tok.vocab_hash, spec)
        self._found: dict[tuple[str, str], str | None] = {}

    def spec_for(self, row: dict[str, Any], label: str) -> str | None:
        name, sha = row.get("tokenizer"), row.get("tokenizer_hash")
        if not isinstance(name, str) or not isinstance(sha, str):
            return None  # check_row reports the column
        if self.by_hash:
            if sha in self.by_hash:
                return self.by_hash[sha]
            if len(self.by_hash) == 1:
                return next(iter(self.by_hash.values()))  # check_row reports the differing hash
            raise DatasetError(f"{self.folder}: sample {label} was counted with {name} (sha256 {sha}); no "
                               f"--tokenizer given has that sha256")
        if (name, sha) not in self._found:
            self._found[(name, sha)] = self._find(name, sha, label)
        return self._found[(name, sha)]

    def _find(self, name: str, sha: str, label: str) -> str | None:
        if name in TIKTOKEN_NAMES:
            return name
        entry = self.entries.get(name)
        if entry is None:
            if name.startswith("hf:"):
                raise DatasetError(f"{self.folder}: sample {label} uses {name}; pass its tokenizer.json with "
                                   f"--tokenizer")
            return None  # check_row reports a name lcgen does not load
        if entry.get("kind") == "hub":
            spec = f"{entry.get('repo')}@{entry.get('revision')}"
            try:
                tok = get_tokenizer(spec, cached_only=True)
            except LcgenError:
                raise DatasetError(f"{self.folder}: sample {label} was counted with {entry.get('repo')} at commit "
                                   f"{entry.get('revision')}, which is not in the local Hugging Face cache; pass "
                                   f"--tokenizer {spec} (downloads its tokenizer files) or a tokenizer.json with "
                                   f"sha256 {sha}") from None
        else:
            path = entry.get("path")
            tok, problem = _recorded_tokenizer(path, sha)
            if problem:
                raise DatasetError(f"{self.folder}: sample {label} was counted with {name}, recorded at {path}, "
                                   f"which {problem}; pass --tokenizer PATH to a tokenizer.json (or its folder) with "
                                   f"sha256 {sha}")
            spec = str(path)
        self.loaded[spec] = tok
        return spec


def _recorded_tokenizer(path: Any, sha: str) -> tuple[Any, str]:
    """The tokenizer file a dataset records, loaded, or why it cannot be used here: it must be a regular file of
    sane size whose sha256 is the recorded one (a recorded path is data, not a command to open anything)."""
    import os
    import stat

    if not isinstance(path, str) or not os.path.isabs(path):
        return None, "is not an absolute path"
    try:
        st = os.stat(path)
    except OSError:
        return None, "does not exist here"
    if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_TOKENIZER_BYTES:
        return None, "is not a tokenizer file"
    try:
        tok = get_tokenizer(path)
    except LcgenError:  # it no longer loads: say whether its bytes changed too
        with open(path, "rb") as fh:
            changed = hashlib.sha256(fh.read()).hexdigest() != sha
        return None, "has changed (its sha256 differs)" if changed else "is not a tokenizer file"
    if tok.vocab_hash != sha:  # the sha256 of the file's bytes, read once by the load itself
        return None, "has changed (its sha256 differs)"
    return tok, ""


def _fingerprint_problem(cfg: dict[str, Any], split_digests: list[tuple[str, str]]) -> str:
    """The card's content fingerprint of a config against its rows: a mismatch means the rows changed after the
    card was written, and ``load_dataset`` could serve an older copy from its cache."""
    recorded = cfg.get("description")
    if not (isinstance(recorded, str) and recorded.startswith(FINGERPRINT_PREFIX)):
        return ""  # written before lcgen 0.3.0, or by hand
    if content_fingerprint(split_digests) == recorded:
        return ""
    return (f"config {cfg['config_name']}: the rows do not match the content sha256 in the card's YAML; they changed "
            f"after lcgen wrote them (remake the dataset)")
