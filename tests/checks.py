"""Assertions shared by the CLI tests."""

from __future__ import annotations

import subprocess


def assert_one_line(res: subprocess.CompletedProcess, *needles: str) -> str:
    """A refusal: non-zero exit, exactly one ``lcgen: error:`` line on stderr holding every needle, no traceback."""
    assert res.returncode != 0, res.stdout
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("lcgen: error: "), res.stderr
    assert "Traceback" not in res.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]
