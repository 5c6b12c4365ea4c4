"""A mixture of families in one training set: ``lcgen make --mix mix.yaml``.

Sample ``i`` draws its component (by weight), variant, length and depth from ``derive(seed, "mix", i)`` alone, then
is built exactly as ``lcgen make FAMILY`` builds the sample with that variant, length, depth and index ``i``; so a
mixture is deterministic, its shards are cut by row counts like any run, and every row can be validated on its own.

The YAML::

    samples: 100000                     # --samples overrides it
    length: {log-uniform: [4k, 128k]}   # or {uniform: [4k, 32k]}, {choice: [8k, 32k]}, or one length: 32k
    components:
      - family: needles
        weight: 3
        variants: [single_retrieval, multi_retrieval]   # default: all the family's variants
        depths: [10, 50, 90]                           # default: 0, 25, 50, 75, 100 (families with depth)
        knobs: {needles: 4}                            # the family's options, by parameter name
        length: 32k                                    # a component's own length distribution
      - family: ruler
        variants: [niah_single_1, vt]
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import ParamError
from .lengths import MAX_LENGTH, parse_length
from .rng import MAX_SEED, derive

SPLIT = "train"
CONFIG = "mix"
DEFAULT_MIX_DEPTHS = (0.0, 25.0, 50.0, 75.0, 100.0)


@dataclass(frozen=True)
class LengthDraw:
    """A length distribution: ``fixed`` (one length), ``uniform`` / ``log-uniform`` over [low, high], or ``choice``."""

    kind: str
    values: tuple[int, ...]

    def draw(self, rng: Any) -> int:
        if self.kind == "fixed":
            return self.values[0]
        if self.kind == "choice":
            return self.values[rng.randrange(len(self.values))]
        low, high = self.values
        if self.kind == "uniform":
            return rng.randint(low, high)
        return min(high, max(low, round(math.exp(rng.uniform(math.log(low), math.log(high))))))

    @property
    def bounds(self) -> tuple[int, int]:
        return min(self.values), max(self.values)

    def mean(self) -> float:
        """Expected length (for sizing shards by tokens)."""
        if self.kind in ("fixed", "choice"):
            return sum(self.values) / len(self.values)
        low, high = self.values
        if self.kind == "uniform" or low == high:
            return (low + high) / 2
        return (high - low) / math.log(high / low)

    def describe(self) -> str:
        if self.kind == "fixed":
            return f"{self.values[0]:,}"
        if self.kind == "choice":
            return "one of " + ", ".join(f"{v:,}" for v in self.values)
        return f"{self.kind} {self.values[0]:,}-{self.values[1]:,}"


def parse_length_draw(value: Any, where: str) -> LengthDraw:
    def one(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, (int, str)):
            raise ParamError(f"{where}: {v!r} is not a length (4096, 8k, 1M)")
        n = v if isinstance(v, int) else parse_length(v)
        if not 1 <= n <= MAX_LENGTH:
            raise ParamError(f"{where}: {n:,} is outside 1-{MAX_LENGTH:,}")
        return n

    if isinstance(value, (int, str)) and not isinstance(value, bool):
        return LengthDraw("fixed", (one(value),))
    if isinstance(value, dict) and len(value) == 1:
        (kind, spec), = value.items()
        if kind in ("uniform", "log-uniform"):
            if not isinstance(spec, list) or len(spec) != 2:
                raise ParamError(f"{where}: {kind} takes [low, high]")
            low, high = one(spec[0]), one(spec[1])
            if low > high:
                raise ParamError(f"{where}: {kind} low {low:,} is above high {high:,}")
            return LengthDraw(kind, (low, high))
        if kind == "choice":
            if not isinstance(spec, list) or not spec:
                raise ParamError(f"{where}: choice takes a list of lengths")
            return LengthDraw("choice", tuple(one(v) for v in spec))
    raise ParamError(f"{where}: give one length (32k) or one of {{log-uniform: [4k, 128k]}}, {{uniform: [4k, 32k]}}, "
                     f"{{choice: [8k, 32k]}}")


@dataclass(frozen=True)
class Component:
    family: str
    weight: float
    variants: tuple[str, ...]
    depths: tuple[float, ...]
    knobs: dict[str, Any]
    length: LengthDraw
    templates: dict[str, Any] = field(compare=False, default_factory=dict)  # variant -> SampleSpec (no length)

    def record(self) -> dict[str, Any]:
        return {"family": self.family, "weight": self.weight, "variants": list(self.variants),
                "depths": list(self.depths), "knobs": self.knobs, "length": self.length.describe()}


def _depth_list(value: Any, where: str) -> tuple[float, ...]:
    if not isinstance(value, list) or not value:
        raise ParamError(f"{where}: give a list of depths (percent, 0-100)")
    out = []
    for d in value:
        if isinstance(d, bool) or not isinstance(d, (int, float)) or not 0 <= d <= 100:
            raise ParamError(f"{where}: {d!r} is not a depth from 0 to 100")
        out.append(float(d))
    if len(set(out)) != len(out):
        raise ParamError(f"{where}: a depth is listed twice")
    return tuple(out)


@dataclass
class MixRequest:
    """``lcgen make --mix FILE``: the same run protocol as MakeRequest (recipes, split counts, card)."""

    path: Path
    seed: int = 0
    samples: int | None = None
    tokenizer: str = "cl100k_base"
    command: str = ""
    shard_size: Any = None
    input_ids: bool = False
    family: str = CONFIG
    reserve_output: int = 0
    format: str = "plain"
    chat_template: str = "none"
    components: list[Component] = field(default_factory=list)
    source: str = ""  # the YAML as read, for the card

    def __post_init__(self) -> None:
        from .shards import ShardSize

        if self.shard_size is None:
            self.shard_size = ShardSize()

    def check(self) -> None:
        import yaml

        from .make import MakeRequest

        where = f"--mix: {self.path}"
        try:
            self.source = Path(self.path).read_text(encoding="utf-8")
            data = yaml.safe_load(self.source)
        except OSError as exc:
            raise ParamError(f"{where}: cannot read it ({exc.strerror or exc})") from None
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ParamError(f"{where}: not YAML ({str(exc).splitlines()[0]})") from None
        if not isinstance(data, dict) or not isinstance(data.get("components"), list) or not data["components"]:
            raise ParamError(f"{where}: needs a mapping with a non-empty list under components:")
        unknown = sorted(set(data) - {"samples", "length", "components"})
        if unknown:
            raise ParamError(f"{where}: unknown key {unknown[0]!r} (samples, length, components)")
        if isinstance(self.seed, bool) or not 0 <= self.seed <= MAX_SEED:
            raise ParamError(f"--seed: {self.seed!r} must be an integer from 0 to {MAX_SEED} (2^63-1)")
        if self.samples is None:
            samples = data.get("samples")
            if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
                raise ParamError(f"{where}: samples must be a positive integer (or give --samples)")
            self.samples = samples
        default_length = parse_length_draw(data["length"], f"{where}: length") if "length" in data else None
        self.components = []
        for i, raw in enumerate(data["components"]):
            self.components.append(self._component(raw, f"{where}: components[{i}]", default_length, MakeRequest))

    def _component(self, raw: Any, where: str, default_length: LengthDraw | None, make_request: type) -> Component:
        from .registry import families

        if not isinstance(raw, dict) or not isinstance(raw.get("family"), str):
            raise ParamError(f"{where}: needs family: NAME")
        unknown = sorted(set(raw) - {"family", "weight", "variants", "depths", "knobs", "length"})
        if unknown:
            raise ParamError(f"{where}: unknown key {unknown[0]!r} (family, weight, variants, depths, knobs, length)")
        spec = families.get(raw["family"])
        if spec.prepare is not None:
            raise ParamError(f"{where}: {spec.name} runs a run-wide stage (an LLM) and cannot be mixed; make it on "
                             f"its own")
        weight = raw.get("weight", 1)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0:
            raise ParamError(f"{where}: weight must be a positive number")
        variants = raw.get("variants", spec.variant_names())
        if not isinstance(variants, list) or not variants or not all(isinstance(v, str) for v in variants):
            raise ParamError(f"{where}: variants must be a list of names")
        knobs = raw.get("knobs", {})
        if not isinstance(knobs, dict):
            raise ParamError(f"{where}: knobs must be a mapping of the family's parameters")
        fields = {f.name for f in dataclasses.fields(spec.params)}
        bad = sorted(k for k in knobs if k not in fields)
        if bad:
            raise ParamError(f"{where}: {spec.name} has no knob {bad[0]!r} ({', '.join(sorted(fields))})")
        if "length" in raw:
            length = parse_length_draw(raw["length"], f"{where}: length")
        elif default_length is not None:
            length = default_length
        else:
            raise ParamError(f"{where}: no length (give length: at the top or in the component)")
        if spec.depth_of is None and "depths" in raw:
            raise ParamError(f"{where}: {spec.name} places nothing at a depth and takes no depths")
        depths = _depth_list(raw["depths"], f"{where}: depths") if "depths" in raw else DEFAULT_MIX_DEPTHS
        low, high = length.bounds
        # The family's own checks, at the distribution's bounds, through the same request a CLI run builds.
        probe = make_request(family=spec.name, lengths=sorted({low, high}), seed=self.seed, variants=list(variants),
                             depths=[0.0] if spec.depth_of is None else list(depths), tokenizer=self.tokenizer,
                             overrides=dict(knobs), input_ids=self.input_ids)
        probe.check()
        templates = {}
        for recipe in probe.recipes():
            templates.setdefault(recipe.first.variant, recipe.first)
        return Component(spec.name, float(weight), tuple(variants), depths if spec.depth_of else (0.0,),
                         dict(knobs), length, templates)

    # The run protocol (lcgen.make.make)
    def recipes(self) -> list[Any]:
        return [MixRecipe(CONFIG, SPLIT, tuple(self.components), self.seed, self.samples)]

    def split_counts(self) -> OrderedDict[tuple[str, str], int]:
        return OrderedDict([((CONFIG, SPLIT), self.samples)])

    def tokenizers(self) -> list[Any]:
        from .make import resolve_tokenizers

        if getattr(self, "_resolved", None) is None:
            self._resolved = resolve_tokenizers(self.tokenizer, "none")
            if len(self._resolved) != 1:
                raise ParamError("--tokenizer: a mixture is made for one tokenizer")
        return self._resolved

    def fingerprint(self) -> dict[str, Any]:
        from ._version import __version__

        return {"lcgen_version": __version__, "mix": [c.record() for c in self.components], "seed": self.seed,
                "samples": self.samples, "tokenizers": [t.identity for t in self.tokenizers()],
                "shard_size": str(self.shard_size), "input_ids": self.input_ids}

    def writer(self, folder: Path, card_section: str = "") -> Any:
        return MixWriter(folder, self)


@dataclass(frozen=True)
class MixRecipe:
    """The mixture's one split: sample ``position`` drawn from ``derive(seed, "mix", position)``."""

    config: str
    split: str
    components: tuple[Component, ...]
    seed: int
    samples: int
    explicit: None = None

    @property
    def n(self) -> int:
        return self.samples

    @property
    def typical_target(self) -> int:
        """Expected tokens a sample (the weighted mean of the components' lengths), for sizing shards."""
        total = sum(c.weight for c in self.components)
        return max(1, round(sum(c.weight * c.length.mean() for c in self.components) / total))

    def spec_at(self, position: int) -> Any:
        rng = derive(self.seed, "mix", position)
        ends, total = [], 0.0
        for c in self.components:
            total += c.weight
            ends.append(total)
        component = self.components[min(len(ends) - 1, bisect.bisect_right(ends, rng.random() * total))]
        variant = component.variants[rng.randrange(len(component.variants))]
        length = component.length.draw(rng)
        template = component.templates[variant]
        fam_depths = component.depths if _has_depth(component.family, variant) else (0.0,)
        depth = fam_depths[rng.randrange(len(fam_depths))]
        return replace(template, length=length, depth=depth, index=position)

    def specs(self, start: int = 0, stop: int | None = None) -> Any:
        for position in range(start, self.n if stop is None else stop):
            yield self.spec_at(position)


def _has_depth(family: str, variant: str) -> bool:
    from .registry import families

    return families.get(family).has_depth(variant)


class MixWriter:
    """The mixture's card (cards/mix_README.md.j2) and tokenizer manifest, from the shards' records."""

    def __init__(self, folder: Path, req: MixRequest):
        from .dataset import SplitFigures

        self.req = req
        self.folder = folder
        self.figures = SplitFigures(req.split_counts())
        self.tasks: dict[str, int] = {}

    def add_shard(self, config: str, split: str, shard: Any) -> None:
        self.figures.add_shard(config, split, shard)
        for key, n in shard.tasks.items():
            self.tasks[key] = self.tasks.get(key, 0) + n

    def close(self) -> None:
        import yaml

        from .dataset import TOKENIZERS_FILE, card_yaml, tokenizers_manifest
        from .render import render

        self.figures.check()
        (self.folder / TOKENIZERS_FILE).write_text(tokenizers_manifest(self.req), encoding="utf-8")
        header = card_yaml(self.figures.stats, self.req.input_ids)
        header["pretty_name"] = "lcgen mixture"
        header["tags"] = header["tags"] + ["lcgen-mix"]
        st = self.figures.stats[(CONFIG, SPLIT)]
        body = render("mix_README.md.j2", package="lcgen.cards", command=self.req.command, seed=self.req.seed,
                      samples=self.req.samples, components=[c.record() for c in self.req.components],
                      tasks=sorted(self.tasks.items()), stats=st, source=self.req.source,
                      tokenizer=self.req.tokenizers()[0].identity, input_ids=self.req.input_ids,
                      shard_size=str(self.req.shard_size), lcgen_version=_version())
        card = "---\n" + yaml.safe_dump(header, sort_keys=False, allow_unicode=True) + "---\n\n" + body
        (self.folder / "README.md").write_text(card, encoding="utf-8")


def _version() -> str:
    from ._version import __version__

    return __version__


__all__ = ["MixRequest", "parse_length_draw"]
