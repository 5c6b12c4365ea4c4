"""Typed family parameters.

One ``param(...)`` per knob; the CLI options, ``lcgen list`` and the card all read its metadata.
"""

from __future__ import annotations

import dataclasses
import math
import typing
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Literal, get_args, get_origin

from .errors import ParamError

_MISSING = object()


def param(
    default: Any,
    *,
    help: str,
    min: float | None = None,
    max: float | None = None,
    variants: tuple[str, ...] = (),
    forbid: str = "",
    tokens: bool = False,
) -> Any:
    """Declare a knob: its default, a one-line help, numeric bounds, the variants it applies to, forbidden chars;
    ``tokens``: an integer count of tokens, which the CLI also reads as ``8k`` or ``1M`` like ``--len``."""
    meta = {"help": help, "min": min, "max": max, "variants": variants, "forbid": forbid, "tokens": tokens}
    return field(default=default, metadata=meta)


@dataclass(frozen=True, kw_only=True)
class FamilyParams:
    """Base class of every family's knobs; ``__post_init__`` checks each field against its declared metadata."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            check_value(type(self), f.name, getattr(self, f.name))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values, in field order."""
        return dataclasses.asdict(self)


def knob_fields(cls: type[FamilyParams]) -> list[dataclasses.Field]:
    """The declared knobs of a params class, in declaration order."""
    return list(dataclasses.fields(cls))


def field_type(cls: type[FamilyParams], name: str) -> Any:
    """The resolved annotation of a field (annotations are strings under ``from __future__ import annotations``)."""
    return typing.get_type_hints(cls)[name]


def choices_of(tp: Any) -> tuple[Any, ...] | None:
    """The allowed values of a ``Literal[...]`` annotation, else None."""
    return get_args(tp) if get_origin(tp) is Literal else None


def option_name(name: str) -> str:
    """``thread_length`` -> ``--thread-length``."""
    return "--" + name.replace("_", "-")


def check_value(cls: type[FamilyParams], name: str, value: Any) -> None:
    """Raise ParamError in one line if ``value`` does not fit the field's type, bounds or choices."""
    f = {x.name: x for x in dataclasses.fields(cls)}[name]
    tp = field_type(cls, name)
    meta = f.metadata
    opt = option_name(name)
    choices = choices_of(tp)
    if choices is not None:
        if value not in choices:
            raise ParamError(f"{opt}: {value!r} is not one of {', '.join(map(str, choices))}")
        return
    if tp is bool:
        if not isinstance(value, bool):
            raise ParamError(f"{opt}: {value!r} is not true/false")
        return
    if tp in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (tp is int and not isinstance(value, int)):
            raise ParamError(f"{opt}: {value!r} is not a{'n integer' if tp is int else ' number'}")
        if isinstance(value, float) and not math.isfinite(value):  # NaN passes every range check and is not JSON
            raise ParamError(f"{opt}: {value} is not a finite number")
        if meta.get("min") is not None and value < meta["min"]:
            raise ParamError(f"{opt}: {value} is below the minimum {meta['min']}")
        if meta.get("max") is not None and value > meta["max"]:
            raise ParamError(f"{opt}: {value} is above the maximum {meta['max']}")
        return
    if tp is str:
        if not isinstance(value, str):
            raise ParamError(f"{opt}: {value!r} is not text")
        unsafe = _unsafe_char(value)
        if unsafe:
            raise ParamError(f"{opt}: {value!r} may not contain {unsafe}")
        bad = sorted({c for c in value if c in meta.get("forbid", "")})
        if bad:
            raise ParamError(f"{opt}: {value!r} may not contain {''.join(bad)!r}")


def _unsafe_char(value: str) -> str:
    """What is wrong with the first character no text knob may hold, or "": a control character breaks the JSON and
    the prompt it lands in, and a lone surrogate (undecodable bytes on the command line) cannot be written as UTF-8."""
    for c in value:
        kind = unicodedata.category(c)
        if kind == "Cc":
            return f"control character U+{ord(c):04X}"
        if kind == "Cs":
            return f"U+{ord(c):04X} (an unpaired surrogate: the argument is not valid UTF-8)"
    return ""


def build_params(cls: type[FamilyParams], preset: dict[str, Any], overrides: dict[str, Any]) -> FamilyParams:
    """Defaults, then the variant's preset, then explicit overrides (unknown names are refused, not ignored)."""
    names = {f.name for f in dataclasses.fields(cls)}
    for key in list(preset) + list(overrides):
        if key not in names:
            raise ParamError(f"unknown parameter {key!r} for {cls.__name__}; known: {', '.join(sorted(names))}")
    return cls(**{**preset, **overrides})
