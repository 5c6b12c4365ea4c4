"""Make a dataset: expand the grid into sample specs, build each sample (in worker processes if asked), stream
the rows to parquet in a fixed order, and move the finished folder into place."""

from __future__ import annotations

import inspect
import json
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from ._version import __version__
from .assemble import assemble
from .dataset import DatasetWriter
from .errors import OutputError, OutputExistsError, ParamError
from .lengths import length_label
from .params import build_params
from .registry import FamilySpec, families
from .rng import derive
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

    @property
    def label(self) -> str:
        """The split this sample belongs to: its length label, or the family's name for an unbounded one."""
        if self.length is None:
            return families.get(self.family).unbounded_split(self.params)
        return length_label(self.length)

    @property
    def id(self) -> str:
        return f"{self.family}/{self.variant}/{self.label}/d{self.depth:g}/{self.index}"


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

    def spec(self) -> FamilySpec:
        return families.get(self.family)

    def variant_list(self) -> list[str]:
        spec = self.spec()
        chosen = list(self.variants) if self.variants else spec.variant_names()
        for v in chosen:
            spec.check_variant(v)
        if len(set(chosen)) != len(chosen):
            raise ParamError(f"--variants: {','.join(chosen)!r} lists a variant twice")
        return chosen

    def check(self) -> None:
        """Validate everything before any work starts, so a bad input never leaves output behind."""
        spec = self.spec()
        if not self.lengths and spec.unbounded_split is None:
            raise ParamError(f"--len: {spec.name} needs at least one length")
        if self.haystack is not None and not spec.uses_haystack:
            raise ParamError(f"--haystack: {spec.name} makes its own context and takes no haystack")
        for d in self.depths:
            if not 0.0 <= d <= 100.0:
                raise ParamError(f"--depths: {d:g} is outside 0-100")
        if len(set(self.depths)) != len(self.depths):
            raise ParamError("--depths: a depth is listed twice")
        if self.samples < 1:
            raise ParamError(f"--samples: {self.samples} must be at least 1")
        for v in self.variant_list():
            build_params(spec.params, spec.variants[v], self.overrides)
        get_tokenizer(self.tokenizer)
        if spec.uses_haystack:
            from .haystack import get_haystack

            get_haystack(self.haystack_spec())

    def haystack_spec(self) -> str | None:
        from .haystack import DEFAULT_HAYSTACK

        return (self.haystack or DEFAULT_HAYSTACK) if self.spec().uses_haystack else None

    def specs(self) -> list[SampleSpec]:
        spec = self.spec()
        out = []
        for variant in self.variant_list():
            params = build_params(spec.params, spec.variants[variant], self.overrides).to_dict()
            for length in self.lengths or [None]:
                for depth in self.depths:
                    for index in range(self.samples):
                        out.append(
                            SampleSpec(self.family, variant, length, float(depth), index, self.seed, self.tokenizer,
                                       params, self.haystack_spec())
                        )
        return out


def build_sample(spec: SampleSpec) -> dict[str, Any]:
    """Build one row. Its randomness comes only from ``derive(seed, family, variant, length, depth, index)``."""
    fam = families.get(spec.family)
    tok = get_tokenizer(spec.tokenizer)
    rng = derive(spec.seed, spec.family, spec.variant, spec.length, spec.depth, spec.index)
    params = fam.params(**spec.params)
    extra: dict[str, Any] = {}
    if fam.uses_haystack:
        from .haystack import get_haystack

        extra["haystack"] = get_haystack(spec.haystack)
    declared = inspect.signature(fam.plan).parameters
    if "length" in declared:
        extra["length"] = spec.length  # e.g. filler only when a length is asked for, or a density of it
    if "tokenizer" in declared:
        extra["tokenizer"] = tok  # e.g. to size a share of the context in its tokens
    sp = fam.plan(params, spec.variant, spec.depth, rng, **extra)
    built = assemble(tok, spec.length, sp.plan)
    meta = {
        "family_version": fam.version,
        "params": spec.params,
        **({"haystack": spec.haystack} if spec.haystack else {}),
        **sp.meta,
        "needle_offsets": built.needle_offsets,
        "context_span": list(built.context_span),
        "context_tokens": built.context_tokens,
        "max_unit_tokens": built.max_unit_tokens,
        "tokenizations": built.tokenizations,
    }
    return {
        "id": spec.id,
        "task": spec.family,
        "variant": spec.variant,
        "input": built.text,
        "question": sp.question,
        "answer": sp.answer,
        "answers": sp.answers,
        "length": built.length,
        "target_length": spec.length or 0,
        "tokenizer": tok.name,
        "tokenizer_hash": tok.vocab_hash,
        "depth": [round(d, 6) for d in built.depths],
        "target_depth": spec.depth,
        "seed": spec.seed,
        "meta": json.dumps(meta, sort_keys=True, separators=(",", ":")),
        "lcgen_version": __version__,
    }


def iter_rows(specs: Sequence[SampleSpec], workers: int) -> Iterator[dict[str, Any]]:
    """Rows in spec order whatever the worker count (results are reordered by ``map``)."""
    if workers <= 1 or len(specs) <= 1:
        for s in specs:
            yield build_sample(s)
        return
    # spawn, not fork: the parent may hold tokenizer threads, and each sample depends only on its spec anyway.
    with ProcessPoolExecutor(max_workers=min(workers, len(specs)), mp_context=get_context("spawn")) as pool:
        yield from pool.map(build_sample, specs, chunksize=1)


def default_out(req: MakeRequest) -> Path:
    """A folder name derived from the arguments that shape the data."""
    labels = "_".join(length_label(n) for n in req.lengths) or "nolen"
    name = f"{req.family}-{labels}-seed{req.seed}"
    if req.tokenizer != DEFAULT_TOKENIZER:
        name += "-" + Path(req.tokenizer).stem.replace("_", "")
    extra = {
        "variants": list(req.variants or []),
        "depths": list(req.depths) if tuple(req.depths) != DEFAULT_DEPTHS else [],
        "samples": req.samples if req.samples != 1 else None,
        "overrides": req.overrides,
        "tokenizer": req.tokenizer if req.tokenizer != DEFAULT_TOKENIZER else None,
        "haystack": req.haystack if req.haystack not in (None, "procedural") else None,
    }
    if any(v for v in extra.values()):
        import hashlib

        name += "-" + hashlib.sha256(json.dumps(extra, sort_keys=True).encode()).hexdigest()[:8]
    return Path(name)


def prepare_out(out: Path, overwrite: bool) -> None:
    """Refuse an existing non-empty folder (unless overwriting) or an unwritable parent, before any work."""
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"--out: {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise OutputExistsError(f"--out: {out} exists and is not empty (use --overwrite to replace it)")
    parent = out.resolve().parent
    if not parent.is_dir():
        raise OutputError(f"--out: parent folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"--out: cannot write in {parent}")


@dataclass
class MakeResult:
    out: Path
    samples: int
    tokens: int
    seconds: float


def make(req: MakeRequest, out: Path, *, overwrite: bool = False, workers: int = 1, progress: Any = None) -> MakeResult:
    """Write the dataset of ``req`` to ``out``: into a hidden temporary folder first, renamed into place at the end."""
    start = time.perf_counter()
    req.check()
    prepare_out(out, overwrite)
    specs = req.specs()
    tmp = out.parent / f".{out.name}.incomplete-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    try:
        tmp.mkdir()
    except OSError as exc:
        raise OutputError(f"--out: cannot create {tmp} ({exc.strerror})") from None
    tokens = 0
    try:
        writer = DatasetWriter(tmp, req, specs)
        for spec, row in zip(specs, iter_rows(specs, workers)):
            writer.add(row, spec.label)
            tokens += row["length"]
            if progress is not None:
                progress(row)
        writer.close()
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return MakeResult(out=out, samples=len(specs), tokens=tokens, seconds=time.perf_counter() - start)
