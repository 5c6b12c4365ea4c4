"""One way to build a sample in generator tests: a family's variant with knobs, as ``lcgen make`` would."""

from __future__ import annotations

import dataclasses
from typing import Any

from lcgen.make import SampleSpec, build_sample
from lcgen.registry import families

TOKENIZER = "cl100k_base"


def make_row(family: str, variant: str, length: int | None, depth: float, index: int = 0, seed: int = 0,
             haystack: str | None = None, allow_repeat: bool = False, **knobs: Any) -> dict[str, Any]:
    """A row with ``tokenizer_spec`` set, the way ``lcgen validate`` hands it over."""
    fam = families.get(family)
    params = dataclasses.asdict(fam.params(**{**fam.variants[variant], **knobs}))
    spec = SampleSpec(family, variant, length, depth, index, seed, TOKENIZER, params, haystack, allow_repeat)
    row = build_sample(spec)
    row["tokenizer_spec"] = TOKENIZER
    return row
