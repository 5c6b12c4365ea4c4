"""Per-sample randomness derived from stable labels, never from ``hash()``, the clock or call order."""

from __future__ import annotations

import hashlib
import json
import random

MAX_SEED = 2**63 - 1
"""Largest seed of a run: it is stored in an int64 column."""


def derive_seed(*labels: object) -> int:
    """A 128-bit seed from the sha256 of the JSON encoding of ``labels`` (stable across processes and machines)."""
    blob = json.dumps(labels, separators=(",", ":"), ensure_ascii=True, sort_keys=True).encode()
    return int.from_bytes(hashlib.sha256(blob).digest()[:16], "big")


def derive(*labels: object) -> random.Random:
    """A fresh ``random.Random`` for the given labels, e.g. ``derive(seed, family, variant, length, depth, index)``."""
    return random.Random(derive_seed(*labels))
