"""Sentence frames: one Jinja2 template file lists a family's phrasings, one per line.

The generator renders a frame with values; the oracle turns the *same* lines into regular expressions (literal
text escaped, each ``{{ placeholder }}`` a named group), so what is written can always be read back.
"""

from __future__ import annotations

import functools
import re

from .render import environment

_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


@functools.lru_cache(maxsize=None)
def frame_lines(name: str, package: str = "lcgen.templates") -> tuple[str, ...]:
    """The non-empty lines of a frames template."""
    env = environment(package)
    source, _, _ = env.loader.get_source(env, name)
    return tuple(line.strip() for line in source.splitlines() if line.strip() and not line.startswith("{#"))


@functools.lru_cache(maxsize=None)
def _compiled(frame: str):
    return environment("lcgen.templates").from_string(frame)


def render_frame(frame: str, **values: str) -> str:
    """One frame with its placeholders filled (sandboxed, strict)."""
    return _compiled(frame).render(**values)


def frame_regex(frame: str, patterns: dict[str, str]) -> re.Pattern[str]:
    """A regex matching exactly the sentences ``frame`` renders; a placeholder repeated must repeat its value."""
    out, pos, seen = [], 0, set()
    for m in _PLACEHOLDER.finditer(frame):
        out.append(re.escape(frame[pos : m.start()]))
        name = m.group(1)
        out.append(f"(?P={name})" if name in seen else f"(?P<{name}>{patterns[name]})")
        seen.add(name)
        pos = m.end()
    out.append(re.escape(frame[pos:]))
    return re.compile("".join(out))
