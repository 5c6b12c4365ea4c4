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
    """A frame made only of text and ``{{ name }}`` placeholders renders as a join of its pieces: the same string
    Jinja2 would produce (values are ``str()``-ed, no autoescape), without a template context per call; a
    haystack of a million tokens renders tens of thousands of rows. Anything else goes through the sandbox."""
    rest = _PLACEHOLDER.sub("", frame)
    if "{{" in rest or "{%" in rest or "{#" in rest:
        return environment("lcgen.templates").from_string(frame).render
    pieces = _PLACEHOLDER.split(frame)  # text, name, text, name, ..., text
    texts, names = pieces[0::2], pieces[1::2]

    def render(**values: object) -> str:
        out = [texts[0]]
        for name, text in zip(names, texts[1:]):
            if name not in values:
                raise KeyError(f"frame {frame!r} needs {name!r}")  # StrictUndefined's behaviour
            out.append(str(values[name]))
            out.append(text)
        return "".join(out)

    return render


def render_frame(frame: str, **values: object) -> str:
    """One frame with its placeholders filled (strict: a missing value is an error)."""
    return _compiled(frame)(**values)


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
