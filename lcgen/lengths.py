"""Token-length arguments: ``4096``, ``128k`` (x1,000), ``1M`` (x1,000,000), ``128Ki`` (x1,024), ``1Mi``, lists."""

from __future__ import annotations

import re

from .errors import ParamError

MAX_LENGTH = 16_000_000
"""Largest target length accepted, in tokens (a sample is held in memory while it is assembled)."""

_UNITS = {"": 1, "k": 1_000, "K": 1_000, "M": 1_000_000, "Ki": 1_024, "Mi": 1_048_576}
_LENGTH = re.compile(r"([0-9]+)(k|K|M|Ki|Mi)?")  # ASCII digits only: int() would also read "١٢٨" as 128
_MAX_DIGITS = len(str(MAX_LENGTH))  # more significant digits than this is above the maximum whatever the unit
_SHOWN = 40  # longest value echoed in full in a message


def _shown(text: str) -> str:
    """The value as quoted in a message: in full when short, else its start and its size (one short line)."""
    if len(text) <= _SHOWN:
        return repr(text)
    return f"{text[:_SHOWN // 2]!r}... ({len(text):,} characters)"


def parse_length(text: str) -> int:
    """Parse one length such as ``128k`` into tokens; raise ParamError naming the value otherwise."""
    raw = text.strip()
    match = _LENGTH.fullmatch(raw)
    if not match:
        raise ParamError(
            f"--len: {_shown(text)} is not a length; use an integer or a suffix k, M (x1000) or Ki, Mi (x1024), "
            "e.g. 128k"
        )
    digits = match.group(1).lstrip("0")
    if len(digits) > _MAX_DIGITS:  # refused before int(): a long digit string is slow and may exceed its limit
        raise ParamError(f"--len: {_shown(text)} is above the maximum of {MAX_LENGTH:,} tokens")
    value = int(digits or "0") * _UNITS[match.group(2) or ""]
    if value <= 0:
        raise ParamError(f"--len: {_shown(text)} must be at least 1 token")
    if value > MAX_LENGTH:
        raise ParamError(f"--len: {_shown(text)} is {value:,} tokens, above the maximum of {MAX_LENGTH:,}")
    return value


def parse_lengths(text: str) -> list[int]:
    """Parse a comma list of lengths, refusing empty items and duplicates."""
    items = text.split(",")
    lengths = [parse_length(item) for item in items]
    seen: set[int] = set()
    for item, value in zip(items, lengths):
        if value in seen:
            raise ParamError(f"--len: {_shown(item.strip())} repeats a length already listed ({value:,} tokens)")
        seen.add(value)
    return lengths


def length_label(tokens: int) -> str:
    """The canonical split name of a length: the largest unit that divides it exactly (1M, 128Ki, 8k, 1500)."""
    for suffix, unit in (("M", 1_000_000), ("Mi", 1_048_576), ("k", 1_000), ("Ki", 1_024)):
        if tokens % unit == 0:
            return f"{tokens // unit}{suffix}"
    return str(tokens)
