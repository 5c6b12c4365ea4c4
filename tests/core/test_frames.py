"""Frames: the fast renderer writes exactly what Jinja2 writes, and every frame reads back what it wrote."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from lcgen.frames import _PLACEHOLDER, frame_lines, frame_regex, render_frame
from lcgen.render import environment

FRAME_FILES = sorted(
    str(p.relative_to(resources.files("lcgen.templates")))
    for p in resources.files("lcgen.templates").rglob("*.j2")  # type: ignore[attr-defined]
    if p.name in ("facts.j2", "comparisons.j2", "frames.j2") or p.parent.name in ("rows", "conditions")
)


@pytest.mark.parametrize("name", FRAME_FILES)
def test_fast_rendering_matches_jinja(name):
    values = {"a": "Ann Lee", "b": 7, "value": 3.25, "name": "O'Brien & Co", "more": "<b>", "less": "{x}"}
    for frame in frame_lines(name):
        needed = {m.group(1): values.get(m.group(1), f"v{i}") for i, m in enumerate(_PLACEHOLDER.finditer(frame))}
        jinja = environment("lcgen.templates").from_string(frame).render(**needed)
        assert render_frame(frame, **needed) == jinja, frame


def test_missing_value_is_an_error():
    with pytest.raises(KeyError):
        render_frame("{{ a }} is {{ more }} than {{ b }}.", a="x", b="y")


def test_frames_read_back_what_they_write():
    for frame in frame_lines("needles/en/comparisons.j2"):
        text = render_frame(frame, a="Ann Lee", b="Bo Park", more="taller", less="shorter")
        m = frame_regex(frame, {"a": r"[A-Z]\w+ [A-Z]\w+", "b": r"[A-Z]\w+ [A-Z]\w+", "more": "taller",
                                "less": "shorter"}).fullmatch(text)
        assert m and m.group("a") == "Ann Lee" and m.group("b") == "Bo Park"
    assert FRAME_FILES and all(re.search(r"\.j2$", f) for f in FRAME_FILES)
