"""Exact length: never above target, on target for >= 99% of samples, never more than 0.05% under."""

from __future__ import annotations

import dataclasses
import random

import pytest

from lcgen.make import SampleSpec, build_sample
from lcgen.registry import families
from lcgen.tokenizer import get_tokenizer

VARIANTS = families.get("needle-threads").variant_names()


def _specs(tokenizer: str, n: int, lo: int, hi: int, seed: int) -> list[SampleSpec]:
    rng = random.Random(seed)
    fam = families.get("needle-threads")
    out = []
    for i in range(n):
        variant = VARIANTS[i % len(VARIANTS)]
        params = dataclasses.asdict(fam.params(**fam.variants[variant]))
        params["direction"] = rng.choice(["forward", "backward", "random"])
        params["placement"] = rng.choice(["random", "clustered"])
        out.append(SampleSpec("needle-threads", variant, rng.randint(lo, hi), float(rng.randint(0, 100)), i, seed,
                              tokenizer, params))
    return out


@pytest.mark.parametrize("tokenizer, n, lo, hi", [("cl100k_base", 240, 1500, 40_000), ("o200k_base", 120, 1500, 40_000),
                                                  ("hf", 60, 3000, 30_000)])
def test_lengths_hit_target(tokenizer, n, lo, hi, tiny_hf_tokenizer):
    spec_name = tiny_hf_tokenizer if tokenizer == "hf" else tokenizer
    tok = get_tokenizer(spec_name)
    exact = 0
    for spec in _specs(spec_name, n, lo, hi, seed=n):
        row = build_sample(spec)
        fresh = tok.count(row["input"])
        assert row["length"] == fresh, spec
        assert fresh <= spec.length, spec
        assert spec.length - fresh <= spec.length * 0.0005, (spec, fresh)
        exact += fresh == spec.length
    assert exact >= 0.99 * n


def test_big_sample_is_exact_and_tokenized_at_most_twice():
    import json

    fam = families.get("needle-threads")
    params = dataclasses.asdict(fam.params())
    row = build_sample(SampleSpec("needle-threads", "threads", 300_000, 50.0, 0, 1, "cl100k_base", params))
    assert row["length"] == 300_000 == get_tokenizer().count(row["input"])
    assert json.loads(row["meta"])["tokenizations"] <= 2


def test_too_short_target_is_a_clear_error():
    from lcgen.errors import ParamError

    fam = families.get("needle-threads")
    params = dataclasses.asdict(fam.params(needles=50))
    with pytest.raises(ParamError, match="too short"):
        build_sample(SampleSpec("needle-threads", "multiple_needles", 500, 50.0, 0, 1, "cl100k_base", params))


def test_reachable_sums_match_brute_force():
    """The one table the exact fill and the close both use: totals that are sums of unit sizes."""
    import random

    from lcgen.assemble import _Reach

    rng = random.Random(0)
    for _ in range(300):
        sizes = frozenset(rng.randint(1, 60) for _ in range(rng.randint(0, 5)))
        reach = [True] + [False] * 400
        for n in range(1, 401):
            reach[n] = any(n >= s and reach[n - s] for s in sizes)
        table = _Reach(sizes)
        assert [table[n] for n in range(401)] == reach, sorted(sizes)
        assert not table[-1]
