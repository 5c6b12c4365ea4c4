"""One strict registry for families, oracles and other named components.

A duplicate name is an error at import time; an unknown name gets a did-you-mean. Built-in families register
through the same decorator third-party packages use, discovered through the ``lcgen.families`` entry-point group.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .errors import UnknownNameError
from .params import FamilyParams

T = TypeVar("T")


class Registry(Generic[T]):
    """Names to objects of one kind, e.g. ``families``.

    A name is looked up first in the built-in module of the same name (``needle-threads`` in
    ``lcgen.generators.needle_threads``), so a command that needs one family imports only that family; an unknown
    name, or a listing, imports every built-in module and entry point.
    """

    def __init__(self, kind: str, package: str = ""):
        self.kind = kind
        self.package = package  # where the built-in modules live, one per name
        self._items: dict[str, T] = {}

    def add(self, name: str, item: T) -> T:
        if name in self._items and self._items[name] is not item:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._items[name] = item
        return item

    def get(self, name: str) -> T:
        self._load(name)
        if name not in self._items:
            close = difflib.get_close_matches(name, list(self._items), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            known = ", ".join(sorted(self._items)) or "none"
            raise UnknownNameError(f"unknown {self.kind} {name!r}{hint} (known: {known})")
        return self._items[name]

    def names(self) -> list[str]:
        _load_plugins(self.package)
        return sorted(self._items)

    def __contains__(self, name: str) -> bool:
        self._load(name)
        return name in self._items

    def _load(self, name: str) -> None:
        if name in self._items:
            return
        if self.package and isinstance(name, str) and _MODULE_NAME.fullmatch(name):
            module = f"{self.package}.{name.replace('-', '_')}"
            if importlib.util.find_spec(module) is not None:
                importlib.import_module(module)
                if name in self._items:
                    return
        _load_plugins(self.package)


@dataclass(frozen=True)
class FamilySpec:
    """Everything lcgen knows about a family: its knobs, variants and how to plan a sample."""

    name: str
    params: type[FamilyParams]
    variants: dict[str, dict[str, Any]]
    plan: Callable[..., Any]
    metric: Callable[[str, str, list[str], str], dict[str, float]]  # (reply, answer, answers, variant)
    version: str
    description: str
    papers: tuple[str, ...] = ()
    template_dir: str = ""
    depth_meaning: str = ""
    depth_of: str | None = "needle"  # what a depth places ("relevant row", ...); None: the family has no depth
    answer_format: str = ""
    uses_haystack: bool = False  # takes --haystack; plan() gets a `haystack=` keyword
    content_in_tokens: bool = False  # what it writes depends on the tokenizer (a density), not only how much filler
    unbounded_split: Callable[[Any], str] | None = None  # set: --len may be omitted (context = needles alone)
    difficulty: tuple[str, ...] = ()  # meta keys `lcgen score` breaks results down by
    source: Callable[[Any], Any] | None = None  # set: the oracle gets source(SampleSpec) besides `input`
    check: Callable[[Any, str, list[int | None]], None] | None = None  # pre-flight: (params, variant, lengths)
    turns: bool = True  # a haystack family whose filler can become conversation turns (--format chat-history)
    prepare: Callable[[Any], Any] | None = None  # set: a run-wide stage in the parent before any sample (an LLM's)
    distinct_questions: bool = False  # validate refuses near-duplicate questions across the dataset
    depthless: tuple[str, ...] = ()  # variants that place nothing at a depth (one sample per length; depth [])
    lm_eval_tasks: dict[str, str] | None = None  # variant -> the task name another harness group uses for it

    def has_depth(self, variant: str) -> bool:
        """Whether a sample of ``variant`` places something at a depth."""
        return self.depth_of is not None and variant not in self.depthless

    @property
    def metric_description(self) -> str:
        """What the metric rewards, from its docstring (the card and ``lcgen list`` show it)."""
        doc = inspect.getdoc(self.metric) or ""
        return " ".join(doc.split("\n\n")[0].split())

    def variant_names(self) -> list[str]:
        return list(self.variants)

    def check_variant(self, variant: str) -> None:
        if variant not in self.variants:
            close = difflib.get_close_matches(variant, list(self.variants), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UnknownNameError(
                f"--variants: {self.name} has no variant {variant!r}{hint} (known: {', '.join(self.variants)})"
            )


families: Registry[FamilySpec] = Registry("family", "lcgen.generators")
oracles: Registry[Callable[..., Any]] = Registry("oracle", "lcgen.validators")
_MODULE_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")


def family(
    name: str,
    *,
    params: type[FamilyParams],
    variants: dict[str, dict[str, Any]],
    metric: Callable[[str, str, list[str], str], dict[str, float]],
    version: str,
    papers: tuple[str, ...] = (),
    depth_meaning: str = "",
    depth_of: str | None = "needle",
    answer_format: str = "",
    uses_haystack: bool = False,
    content_in_tokens: bool = False,
    unbounded_split: Callable[[Any], str] | None = None,
    difficulty: tuple[str, ...] = (),
    source: Callable[[Any], Any] | None = None,
    check: Callable[[Any, str, list[int | None]], None] | None = None,
    turns: bool = True,
    prepare: Callable[[Any], Any] | None = None,
    distinct_questions: bool = False,
    depthless: tuple[str, ...] = (),
    lm_eval_tasks: dict[str, str] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a planning function as family ``name``; the function itself is returned unchanged.

    ``plan(params, variant, depth, rng[, haystack=...][, length=...][, tokenizer=...])`` returns a SamplePlan;
    ``length`` (the target in tokens, None when omitted) and ``tokenizer`` are passed when the function declares
    them. ``metric(reply, answer, answers, variant)`` scores a reply; it lives in a standard-library-only module,
    shipped with every dataset of the family as ``lcgen_metrics.py``. ``uses_haystack`` adds the ``--haystack``
    option; ``unbounded_split`` lets ``--len`` be omitted, naming the split from the params; ``source`` declares
    what the oracle may regenerate for a family whose answer is by design not in ``input``. ``depth_of`` names
    what a depth places (None: the family has no depth, and ``--depths`` is not offered); ``check(params,
    variant, lengths)`` refuses an impossible combination in one line (ParamError) before the first sample;
    ``turns=False`` keeps a haystack family whose context is not filler (tsort's passage) out of ``--format
    chat-history``. ``prepare(PrepareContext) -> Prepared`` runs once in the parent before any sample is built
    (where an LLM writes questions: batched, cached, bounded), and each sample's ``plan`` gets its payload as
    ``prepared=``; such a family takes ``--llm``. ``distinct_questions`` makes ``lcgen validate`` refuse
    near-duplicate questions across the dataset (``lcgen.similarity``). ``depthless`` names variants with no
    depth (one sample per length, whatever ``--depths`` says). ``lm_eval_tasks`` maps each variant to the name an
    existing lm-eval group gives it: the dataset then ships ``lcgen_<name>`` tasks, one per variant over all its
    lengths with one metric per length (what lm-eval's ``ruler`` group reports), grouped as ``lcgen_<family>``.
    """

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        doc = (fn.__module__ and importlib.import_module(fn.__module__).__doc__) or fn.__doc__ or ""
        spec = FamilySpec(
            name=name,
            params=params,
            variants=variants,
            plan=fn,
            metric=metric,
            version=version,
            description=doc.strip().splitlines()[0] if doc.strip() else name,
            papers=papers,
            template_dir=name.replace("-", "_"),
            depth_meaning=depth_meaning,
            depth_of=depth_of,
            answer_format=answer_format,
            uses_haystack=uses_haystack,
            content_in_tokens=content_in_tokens,
            unbounded_split=unbounded_split,
            difficulty=difficulty,
            source=source,
            check=check,
            turns=turns,
            prepare=prepare,
            distinct_questions=distinct_questions,
            depthless=depthless,
            lm_eval_tasks=lm_eval_tasks,
        )
        families.add(name, spec)
        return fn

    return register


def oracle(family_name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the independent answer re-deriver for a family."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        oracles.add(family_name, fn)
        return fn

    return register


_loaded: set[str] = set()


def _load_plugins(package: str = "") -> None:
    """Import every built-in module of ``package`` (all three packages when it is empty; never ``_private``
    helpers), then any ``lcgen.families`` entry points, each once."""
    for pkg in [package] if package else ["lcgen.haystacks", "lcgen.generators", "lcgen.validators"]:
        if pkg in _loaded:
            continue
        _loaded.add(pkg)
        path = importlib.import_module(pkg).__path__
        for info in sorted(pkgutil.iter_modules(path), key=lambda m: m.name):
            if not info.name.startswith("_"):
                importlib.import_module(f"{pkg}.{info.name}")
    if "entry points" not in _loaded:
        _loaded.add("entry points")
        from importlib import metadata

        for ep in sorted(metadata.entry_points(group="lcgen.families"), key=lambda e: e.name):
            ep.load()
