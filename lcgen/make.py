"""Make a dataset: expand the grid into sample specs, build each sample (in worker processes if asked), stream
the rows to parquet in a fixed order, and move the finished folder into place."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import itertools
import json
import os
import random
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._version import __version__
from .assemble import assemble
from .chat import Wrapped
from .errors import OutputError, ParamError
from .lengths import length_label
from .output import (
    check_replaceable,
    check_target,
    describe_os_error,
    locked,
    remove_stale_temps,
    swap_into_place,
    temp_path,
)
from .params import build_params
from .registry import FamilySpec, families
from .rng import MAX_SEED, derive
from .shards import ShardSize, SplitRecipe
from .tokenizer import DEFAULT_TOKENIZER, get_tokenizer

DEFAULT_DEPTHS = (0.0, 25.0, 50.0, 75.0, 100.0)


@dataclass(frozen=True)
class SampleSpec:
    """Everything that determines one sample; nothing else does."""

    family: str
    variant: str
    length: int | None  # None: no length target, the context is the needles alone
    depth: float
    index: int
    seed: int
    tokenizer: str
    params: dict[str, Any]
    haystack: str | None = None
    allow_repeat: bool = False  # a haystack smaller than the sample may repeat its sentences (recorded in meta)
    chat_template: str = "none"  # --chat-template: none, auto or a Jinja file
    reserve_output: int = 0  # tokens left for the reply: the prompt is sized to length - reserve_output
    config: str | None = None  # the dataset config: the variant, or variant__tokenizer with several tokenizers
    format: str = "plain"  # plain, or chat-history: the context as a conversation of many turns
    prepared: Any = field(default=None, compare=False)  # the family's run-wide stage's payload for this sample
    input_ids: bool = False  # --input-ids: the row also holds the prompt's token ids

    @property
    def label(self) -> str:
        """The split this sample belongs to: its length label, or the family's name for an unbounded one."""
        if self.length is None:
            return families.get(self.family).unbounded_split(self.params)
        return length_label(self.length)

    @property
    def id(self) -> str:
        return f"{self.family}/{self.config or self.variant}/{self.label}/d{self.depth:g}/{self.index}"

    @property
    def prompt_target(self) -> int | None:
        """Tokens the prompt must have: the length less what is reserved for the reply."""
        return None if self.length is None else self.length - self.reserve_output


@dataclass
class MakeRequest:
    """A whole ``lcgen make`` run."""

    family: str
    lengths: Sequence[int]
    seed: int = 0
    variants: Sequence[str] | None = None
    depths: Sequence[float] = DEFAULT_DEPTHS
    samples: int = 1
    tokenizer: str = DEFAULT_TOKENIZER
    overrides: dict[str, Any] = field(default_factory=dict)
    command: str = ""
    haystack: str | None = None
    allow_repeat: bool = False
    chat_template: str = "none"
    reserve_output: int = 0
    format: str = "plain"
    llm: str = "none"  # --llm: none, openai:URL#MODEL or vllm:MODEL (families with a prepare stage)
    llm_options: dict[str, Any] = field(default_factory=dict)  # cache_dir, concurrency, timeout, retries
    shard_size: ShardSize = field(default_factory=ShardSize)  # --shard-size: rows per parquet file
    input_ids: bool = False  # --input-ids: an input_ids column of int32 token ids beside the text

    def spec(self) -> FamilySpec:
        return families.get(self.family)

    def variant_list(self) -> list[str]:
        spec = self.spec()
        if self.variants is not None and (not self.variants or not all(v.strip() for v in self.variants)):
            raise ParamError(f"--variants: {','.join(self.variants)!r} has an empty name; list variants as A,B")
        chosen = list(self.variants) if self.variants else spec.variant_names()
        for v in chosen:
            spec.check_variant(v)
        if len(set(chosen)) != len(chosen):
            raise ParamError(f"--variants: {','.join(chosen)!r} lists a variant twice")
        return chosen

    def depth_list(self) -> list[float]:
        """The depths to make: the default grid means nothing to a family without depth, which makes depth 0."""
        if tuple(self.depths) == tuple(DEFAULT_DEPTHS) and self.spec().depth_of is None:
            return [0.0]
        return list(self.depths)

    def check(self) -> None:
        """Validate everything before any work starts, so a bad input never leaves output behind."""
        spec = self.spec()
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed <= MAX_SEED:
            raise ParamError(f"--seed: {self.seed!r} must be an integer from 0 to {MAX_SEED} (2^63-1)")
        if not self.lengths and spec.unbounded_split is None:
            raise ParamError(f"--len: {spec.name} needs at least one length")
        if self.haystack is not None and not spec.uses_haystack:
            raise ParamError(f"--haystack: {spec.name} makes its own context and takes no haystack")
        takes_repeat = spec.turns or "allow_repeat" in inspect.signature(spec.plan).parameters
        if self.allow_repeat and not (spec.uses_haystack and takes_repeat):
            raise ParamError(f"--allow-repeat: {spec.name} makes its own context and takes no haystack")
        if spec.depth_of is None and self.depth_list() != [0.0]:
            raise ParamError(f"--depths: {spec.name} places nothing at a depth and takes no --depths")
        for d in self.depth_list():
            if not 0.0 <= d <= 100.0:
                raise ParamError(f"--depths: {d:g} is outside 0-100")
        if len(set(self.depths)) != len(self.depths):
            raise ParamError("--depths: a depth is listed twice")
        if self.samples < 1:
            raise ParamError(f"--samples: {self.samples} must be at least 1")
        if self.input_ids and self.format == "chat-history":
            raise ParamError("--input-ids: a chat-history sample is a conversation of messages; ask for ids of "
                             "plain or chat-templated prompts")
        from .conversation import FORMATS

        if self.format not in FORMATS:
            raise ParamError(f"--format: {self.format!r} is not one of {', '.join(FORMATS)}")
        if self.format == "chat-history" and not (spec.uses_haystack and spec.turns):
            raise ParamError(f"--format chat-history: {spec.name} has no haystack to make turns of (families with "
                             f"--haystack take it)")
        if self.format == "chat-history" and not self.lengths:
            raise ParamError("--format chat-history: needs --len (the turns are filler)")
        if self.reserve_output < 0:
            raise ParamError(f"--reserve-output: {self.reserve_output} must be 0 or more")
        if self.reserve_output and not self.lengths:
            raise ParamError("--reserve-output: needs --len (the prompt is sized to --len minus the reserve)")
        for n in self.lengths:
            if self.reserve_output >= n:
                raise ParamError(f"--reserve-output: {self.reserve_output:,} leaves no prompt in --len {n:,}")
        for v in self.variant_list():
            params = build_params(spec.params, spec.variants[v], self.overrides)
            if spec.check is not None:
                spec.check(params, v, list(self.lengths) or [None])
        if len(self.tokenizers()) > 1 and spec.content_in_tokens:
            raise ParamError(f"--tokenizer: {spec.name} sizes its content in tokens of the sample's tokenizer, so "
                             f"one set of samples cannot be exact for several tokenizers; make one dataset each")
        if spec.uses_haystack:
            from .haystack import get_haystack

            get_haystack(self.haystack_spec())
        if self.llm != "none" and spec.prepare is None:
            raise ParamError(f"--llm: {spec.name} writes no text with an LLM and takes no --llm")
        self.llm_client()  # a malformed --llm, or a backend that is not installed, fails here in one line

    def llm_client(self) -> Any:
        """The ``--llm`` client (None for none), made once; nothing is sent until a stage asks."""
        if getattr(self, "_llm", None) is None and self.llm != "none":
            from .llm import parse_llm

            self._llm = parse_llm(self.llm, **{"cache_dir": None, **self.llm_options})
        return getattr(self, "_llm", None)

    def llm_label(self) -> str:
        """``--llm`` without its address (a server's URL says where the model ran, not what it is)."""
        backend, _, rest = self.llm.partition(":")
        return f"{backend}:{rest.rpartition('#')[2]}" if backend == "openai" else self.llm

    def tokenizers(self) -> list[ResolvedTokenizer]:
        """Each ``--tokenizer`` resolved once (a Hub id to its commit), with its chat template and config suffix."""
        if getattr(self, "_resolved", None) is None:
            self._resolved = resolve_tokenizers(self.tokenizer, self.chat_template, self.format)
        return self._resolved

    def haystack_spec(self) -> str | None:
        from .haystack import DEFAULT_HAYSTACK

        return (self.haystack if self.haystack is not None else DEFAULT_HAYSTACK) if self.spec().uses_haystack else None

    def recipes(self) -> list[SplitRecipe]:
        """Each split of the run in layout order (config = variant, or variant__tokenizer; split = length), as a
        recipe for its samples rather than the samples: a training set of millions costs nothing up front."""
        spec = self.spec()
        toks = self.tokenizers()
        several = len(toks) > 1
        out = []
        for variant in self.variant_list():
            params = build_params(spec.params, spec.variants[variant], self.overrides).to_dict()
            for tok in toks:
                config = f"{variant}__{tok.slug}" if several else None
                for length in self.lengths or [None]:
                    depths = tuple(float(d) for d in (self.depth_list() if spec.has_depth(variant) else [0.0]))
                    first = SampleSpec(
                        self.family, variant, length, depths[0], 0, self.seed, tok.load, params,
                        self.haystack_spec(), self.allow_repeat, self.chat_template, self.reserve_output,
                        config, self.format, input_ids=self.input_ids)
                    out.append(SplitRecipe(config or variant, first.label, first, depths, self.samples))
        return out

    def specs(self) -> list[SampleSpec]:
        return [s for recipe in self.recipes() for s in recipe.specs()]

    def split_counts(self) -> OrderedDict[tuple[str, str], int]:
        return OrderedDict(((r.config, r.split), r.n) for r in self.recipes())


@dataclass(frozen=True)
class ResolvedTokenizer:
    """One ``--tokenizer`` entry: as given, how a worker loads it again (a Hub id pinned to its commit, a path made
    absolute), its name in config names, and its chat template."""

    given: str
    load: str
    slug: str
    identity: dict[str, Any]
    chat: Any  # lcgen.chat.ChatTemplate or None


def resolve_tokenizers(value: str, chat_option: str, fmt: str = "plain") -> list[ResolvedTokenizer]:
    from .chat import chat_template
    from .conversation import transcript_template
    from .tokenizer import split_specs

    out: list[ResolvedTokenizer] = []
    slugs: dict[str, str] = {}
    for given in split_specs(value):
        tok = get_tokenizer(given)
        ident = tok.identity
        load = {"hub": tok.name, "local": ident["path"]}.get(ident["kind"], tok.name)
        slug = tokenizer_slug(tok)
        if slug in slugs:
            raise ParamError(f"--tokenizer: {slugs[slug]} and {given} would share the config name {slug}; "
                             f"rename one folder")
        slugs[slug] = given
        chat = chat_template(chat_option, tok)
        if chat is None and fmt == "chat-history":
            chat = transcript_template()
        out.append(ResolvedTokenizer(given, load, slug, {**ident, "spec": given}, chat))
    return out


def tokenizer_slug(tok: Any) -> str:
    """A short name for config names: the tiktoken name, the Hub model's name, the tokenizer's folder."""
    import re

    ident = tok.identity
    if ident["kind"] == "hub":
        base = ident["repo"].split("/")[-1]
    elif ident["kind"] == "local":
        path = Path(ident["path"])
        base = path.parent.name if path.name == "tokenizer.json" else path.stem
    else:
        base = tok.name
    return re.sub(r"[^A-Za-z0-9_]+", "_", base).strip("_") or "tokenizer"


def sample_rng(spec: SampleSpec) -> random.Random:
    """The randomness of one sample, from its labels alone: what a family's declared source replays."""
    return derive(spec.seed, spec.family, spec.variant, spec.length, spec.depth, spec.index)


def build_sample(spec: SampleSpec) -> dict[str, Any]:
    """Build one row. Its randomness comes only from ``derive(seed, family, variant, length, depth, index)``."""
    fam = families.get(spec.family)
    tok = get_tokenizer(spec.tokenizer, cached_only=True)
    chat = _chat(spec.chat_template, spec.tokenizer, spec.format)
    count_tok = tok.with_special_tokens() if chat is not None else tok
    rng = sample_rng(spec)
    params = fam.params(**spec.params)
    extra: dict[str, Any] = {}
    if fam.uses_haystack:
        from .haystack import get_haystack

        extra["haystack"] = get_haystack(spec.haystack)
    declared = inspect.signature(fam.plan).parameters
    if "length" in declared:
        extra["length"] = spec.prompt_target  # e.g. filler only when a length is asked for, or a density of it
    if "allow_repeat" in declared:
        extra["allow_repeat"] = spec.allow_repeat  # a family that repeats a corpus of its own (ruler's QA pools)
    if "prepared" in declared:
        extra["prepared"] = spec.prepared
    if "tokenizer" in declared:
        # e.g. to size a share of the context in its tokens, inside the chat template's text when there is one
        extra["tokenizer"] = Wrapped(count_tok, chat) if chat is not None else tok
    sp = fam.plan(params, spec.variant, spec.depth, rng, **extra)
    if spec.format == "chat-history":
        built, messages, history, repeats = _as_conversation(sp, chat, count_tok, spec, tok)
    else:
        from .haystack import repeat_meta

        built, messages = _as_prompt(sp, chat, count_tok, spec)
        history = {}
        repeats = repeat_meta(sp.plan, built, spec.allow_repeat, spec.id, tok) if fam.uses_haystack else {}
    if chat is not None and chat.render(messages) != built.text:
        raise ParamError("--chat-template: the template changes the message text it renders (so the sized prompt "
                         "is not what the model would get); give another template or none")
    meta = {
        "family_version": fam.version,
        "params": spec.params,
        **({"haystack": spec.haystack} if spec.haystack else {}),
        **({"chat_template": chat.sha256} if chat is not None else {}),
        **({"reserve_output": spec.reserve_output} if spec.reserve_output else {}),
        **history,
        **sp.meta,
        "needle_offsets": built.needle_offsets,
        "context_span": list(built.context_span),
        "context_tokens": built.context_tokens,
        "max_unit_tokens": built.max_unit_tokens,
        "tokenizations": built.tokenizations,
        # Sentences a corpus smaller than the sample gave twice (only with --allow-repeat; absent when none).
        **repeats,
    }
    return {
        "id": spec.id,
        "task": spec.family,
        "variant": spec.variant,
        "input": built.text,
        "messages": messages,
        "question": sp.question,
        "answer": sp.answer,
        "answers": sp.answers,
        "length": built.length,
        "target_length": spec.prompt_target or 0,
        "tokenizer": tok.name,
        "tokenizer_hash": tok.vocab_hash,
        "depth": [round(d, 6) for d in built.depths] if fam.has_depth(spec.variant) else [],
        "target_depth": spec.depth,
        "seed": spec.seed,
        "meta": json.dumps(meta, sort_keys=True, separators=(",", ":")),
        "lcgen_version": __version__,
        **({"input_ids": count_tok.ids(built.text)} if spec.input_ids else {}),
    }


def _as_prompt(sp: Any, chat: Any, tok: Any, spec: SampleSpec) -> tuple[Any, list[dict[str, str]]]:
    """The family's prompt at the sample's exact length, inside the chat template's text when there is one, and as
    the one user message (the prompt the family wrote, with the outer whitespace a template may drop)."""
    plan = sp.plan
    if chat is None:
        built = assemble(tok, spec.prompt_target, plan)
        return built, [{"role": "user", "content": built.text}]
    head, tail = chat.place(plan.head, plan.tail)
    built = assemble(tok, spec.prompt_target, dataclasses.replace(plan, head=head, tail=tail))
    content = plan.head + built.text[len(head):len(built.text) - len(tail)] + plan.tail
    return built, [{"role": "user", "content": content}]


def _as_conversation(sp: Any, chat: Any, tok: Any, spec: SampleSpec,
                     plain_tok: Any) -> tuple[Any, list[dict[str, str]], dict, dict]:
    """The family's prompt as a conversation of many turns (lcgen.conversation) at the sample's exact length: the
    built text, its messages, what meta records of the conversation, and the repeats of a small corpus."""
    import random

    from .conversation import flatten, messages_of, to_conversation, unit_joiner
    from .haystack import repeat_meta

    # Turn sizes: seeded (not by hash()), the same for every tokenizer of a --tokenizer list.
    turns = random.Random(f"lcgen-chat-history/{spec.seed}/{spec.family}/{spec.variant}/{spec.label}/{spec.depth:g}/"
                          f"{spec.index}")
    plan, joins, head_message, tail_message = to_conversation(sp.plan, chat, turns, tok.special_texts())
    built = assemble(tok, spec.prompt_target, plan)
    messages = messages_of(built.text, built.context_span, plan, joins, head_message, tail_message)
    joiner = unit_joiner([n.text for n in sp.plan.needles])
    history = {"format": "chat-history", "turn_joiner": list(joiner), "turns": len(messages)}
    repeats: dict[str, int] = {}
    if getattr(sp.plan.filler, "repeats_drawn", 0):  # a small corpus was cycled: count on the family's own layout
        flat = flatten(messages, built.text, joiner, joins)
        flat_of = dict(zip(flat.unit_starts, flat.unit_flat_starts))
        family = sp.plan
        span = (flat.units[0] - len(family.ctx_open), flat.units[1] + len(family.ctx_close))
        view = dataclasses.replace(built, text=flat.text, context_span=span,
                                   needle_offsets=[flat_of[o] for o in built.needle_offsets],
                                   placed=[flat_of[o] for o in built.placed])
        repeats = repeat_meta(family, view, spec.allow_repeat, spec.id, plain_tok)
    return built, messages, history, repeats


@functools.lru_cache(maxsize=16)
def _chat(option: str, tokenizer: str, fmt: str = "plain") -> Any:
    from .chat import chat_template
    from .conversation import transcript_template

    chat = chat_template(option, get_tokenizer(tokenizer, cached_only=True))
    return transcript_template() if chat is None and fmt == "chat-history" else chat


def iter_rows(specs: Sequence[SampleSpec], workers: int) -> Iterator[dict[str, Any]]:
    """Rows in spec order whatever the worker count."""
    from .engine import _rows

    return _rows(iter(specs), build_sample, workers, len(specs))


def default_out(req: MakeRequest) -> Path:
    """A folder name derived from the arguments that shape the data."""
    labels = "_".join(length_label(n) for n in req.lengths) or "nolen"
    name = f"{req.family}-{labels}-seed{req.seed}"
    if req.tokenizer != DEFAULT_TOKENIZER:
        name += "-" + "-".join(t.slug.replace("_", "") for t in req.tokenizers())
    extra = {
        "variants": list(req.variants or []),
        "depths": list(req.depths) if tuple(req.depths) != DEFAULT_DEPTHS else [],
        "samples": req.samples if req.samples != 1 else None,
        "overrides": req.overrides,
        "tokenizer": req.tokenizer if req.tokenizer != DEFAULT_TOKENIZER else None,
        "haystack": req.haystack if req.haystack not in (None, "procedural") else None,
        "allow_repeat": req.allow_repeat or None,
        "chat_template": req.chat_template if req.chat_template != "none" else None,
        "reserve_output": req.reserve_output or None,
        "llm": req.llm_label() if req.llm != "none" else None,
    }
    if any(v for v in extra.values()):
        import hashlib

        name += "-" + hashlib.sha256(json.dumps(extra, sort_keys=True).encode()).hexdigest()[:8]
    return Path(name)


def _prepare_writing() -> None:
    """Import the writing side (pyarrow's parquet writer, the card and harness templates) on a thread while the
    first sample is built: building spends most of its time in the tokenizer, which releases the GIL. The writer
    imports them again when it needs them, and reports any error itself."""

    def warm() -> None:
        try:
            from . import dataset, harness  # noqa: F401
            from .render import environment

            env = environment("lcgen.cards")
            for name in env.list_templates(extensions=["j2"]):
                env.get_template(name)
        except Exception:  # noqa: BLE001 - only a head start; the real import raises in the right place
            pass

    threading.Thread(target=warm, name="lcgen-prepare-writing", daemon=True).start()


@dataclass
class PrepareContext:
    """What a family's run-wide stage gets: every sample's spec, the ``--llm`` client (None without one), a progress
    bar per stage (``stage(name, total)`` returns an object with ``update(n)``, ``set_postfix_str(text)`` and
    ``close()``) and a one-line notice channel."""

    specs: list[SampleSpec]
    llm: Any
    stage: Callable[[str, int], Any]
    notify: Callable[[str], None]


@dataclass
class Prepared:
    """A run-wide stage's result: each sample's payload (by spec id, handed to ``plan`` as ``prepared=``) and a
    Markdown section for the card (what was asked of the model, what each check rejected)."""

    samples: dict[str, Any]
    card: str = ""


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


def run_prepare(req: MakeRequest, specs: list[SampleSpec], stage: Callable[[str, int], Any] | None = None,
                notify: Callable[[str], None] | None = None) -> tuple[list[SampleSpec], str]:
    """The family's run-wide stage, if it has one: specs carrying their payloads, and the card's section."""
    fam = req.spec()
    if fam.prepare is None:
        return specs, ""
    ctx = PrepareContext(specs, req.llm_client(), stage or (lambda name, total: _NoBar()), notify or (lambda m: None))
    done = fam.prepare(ctx)
    missing = [s.id for s in specs if s.id not in done.samples]
    if missing:
        raise RuntimeError(f"{fam.name}'s prepare stage left {len(missing)} samples without a payload ({missing[0]})")
    return [dataclasses.replace(s, prepared=done.samples[s.id]) for s in specs], done.card


@dataclass
class MakeResult:
    out: Path
    samples: int
    tokens: int
    seconds: float
    resumed_shards: int = 0  # shards an interrupted run had finished, taken over by --resume


def run_fingerprint(req: MakeRequest) -> dict[str, Any]:
    """Everything that shapes the bytes of a run: what an interrupted run must share with the one resuming it."""
    return {
        "lcgen_version": __version__,
        "family": req.family,
        "lengths": list(req.lengths),
        "seed": req.seed,
        "variants": req.variant_list(),
        "depths": req.depth_list(),
        "samples": req.samples,
        "tokenizers": [t.identity for t in req.tokenizers()],
        "chat_templates": [None if t.chat is None else t.chat.sha256 for t in req.tokenizers()],
        "overrides": {k: req.overrides[k] for k in sorted(req.overrides)},
        "haystack": req.haystack_spec(),
        "allow_repeat": req.allow_repeat,
        "reserve_output": req.reserve_output,
        "format": req.format,
        "llm": req.llm_label(),
        "shard_size": str(req.shard_size),
        "input_ids": req.input_ids,
    }


def make(
    req: MakeRequest | Any,
    out: Path,
    *,
    overwrite: bool = False,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
    notify: Callable[[str], None] | None = None,
    stage: Callable[[str, int], Any] | None = None,
    engine: str = "local",
    ray_address: str | None = None,
    resume: bool = False,
) -> MakeResult:
    """Write the dataset of ``req`` to ``out``: into a hidden temporary folder first, renamed into place at the end.

    The target is locked for the whole run, and a folder it replaces must be an lcgen dataset (see lcgen.output).
    ``progress(rows, tokens)`` is told as rows are written. With ``resume``, the temporary folder of an interrupted
    run of the same arguments is taken over and only its unfinished shards are made.
    """
    from .engine import ENGINES, run_local, run_ray
    from .output import interrupted_runs
    from .schema import schema
    from .shards import RunRecord, plan_shards, remove_partials

    start = time.perf_counter()
    if engine not in ENGINES:
        raise ParamError(f"--engine: {engine!r} is not one of {', '.join(ENGINES)}")
    if engine == "ray":
        from .engine import _ray

        _ray()  # not installed: one line before any work
    req.check()
    target = check_target(out)
    family = req.spec() if isinstance(req, MakeRequest) else None  # None: a mixture (lcgen.mix.MixRequest)
    fingerprint = run_fingerprint(req) if family is not None else req.fingerprint()
    with locked(target):
        check_replaceable(target, overwrite)
        tmp = temp_path(target)
        adopted = None
        if resume:
            for folder in interrupted_runs(target):
                if RunRecord(folder).fingerprint() == fingerprint:
                    adopted = folder
                    break
            if adopted is None:
                raise OutputError(f"--resume: no interrupted run of these arguments into {out} to resume; run "
                                  f"without --resume to start afresh")
            os.replace(adopted, tmp)
        remove_stale_temps(target, notify)
        recipes = req.recipes()
        card_section = ""
        if family is not None and family.prepare is not None:  # a run-wide stage: its payloads ride on explicit specs
            specs, card_section = run_prepare(req, [s for r in recipes for s in r.specs()], stage, notify)
            by_split = OrderedDict((id(r), []) for r in recipes)
            it = iter(specs)
            for r in recipes:
                by_split[id(r)] = tuple(itertools.islice(it, r.n))
            recipes = [dataclasses.replace(r, explicit=by_split[id(r)]) for r in recipes]
        shards = plan_shards(recipes, req.shard_size)
        record = RunRecord(tmp)
        if adopted is None:
            try:
                tmp.mkdir()
            except OSError as exc:
                raise OutputError(f"--out: cannot create {tmp} ({exc.strerror})") from None
        tokens = 0
        finished: set[str] = set()
        written = [0]
        try:
            if adopted is not None:
                remove_partials(tmp)
                for shard in shards:
                    stats = record.finished(shard, tmp)
                    if stats is not None:
                        finished.add(shard.key)
                        tokens += stats.tokens
                        if progress is not None:
                            progress(stats.n, stats.tokens)
                if notify is not None:
                    notify(f"resuming: {len(finished)} of {len(shards)} shards were finished")
            record.start(fingerprint)
            _prepare_writing()
            from .dataset import DatasetWriter

            if family is not None:
                writer = DatasetWriter(tmp, req, req.split_counts(), card_section)
            else:
                writer = req.writer(tmp)
            pending = [s for s in shards if s.key not in finished]
            difficulty = tuple(family.difficulty) if family is not None else ()
            table_schema = schema(req.input_ids)
            if engine == "ray":
                results = run_ray(tmp, pending, ray_address, difficulty, table_schema, progress)
            else:
                results = run_local(tmp, pending, workers, difficulty, table_schema, progress)
            ready: dict[str, Any] = {}
            merged = 0
            try:
                for shard, stats in results:
                    record.done(shard, stats)
                    written[0] += 1
                    tokens += stats.tokens
                    ready[shard.key] = stats
                    while merged < len(shards) and (shards[merged].key in ready or shards[merged].key in finished):
                        now = shards[merged]
                        got = ready.pop(now.key, None) or record.finished(now, tmp)
                        if got is None:
                            raise RuntimeError(f"shard {now.key} changed on disk while the run went on")
                        writer.add_shard(now.recipe.config, now.recipe.split, got)
                        merged += 1
                while merged < len(shards):  # a run with every shard finished before it (or the last ones)
                    now = shards[merged]
                    got = ready.pop(now.key, None) or record.finished(now, tmp)
                    if got is None:
                        raise RuntimeError(f"shard {now.key} is missing")
                    writer.add_shard(now.recipe.config, now.recipe.split, got)
                    merged += 1
            finally:
                results.close()
            writer.close()
            record.remove()
            remove_partials(tmp)
            swap_into_place(tmp, target, overwrite)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            message = describe_os_error(exc, str(out))
            if message is None:
                raise
            raise OutputError(message) from None
        except (KeyboardInterrupt, SystemExit) as exc:
            # Ctrl-C or SIGTERM: finished shards stay for --resume (in the hidden folder, never under the target)
            if len(finished) + written[0]:
                exc.lcgen_kept = f"{tmp.name} ({len(finished) + written[0]} of {len(shards)} shards)"
            else:
                shutil.rmtree(tmp, ignore_errors=True)
            raise
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    n = sum(r.n for r in recipes)
    return MakeResult(out=out, samples=n, tokens=tokens, seconds=time.perf_counter() - start,
                      resumed_shards=len(finished))
