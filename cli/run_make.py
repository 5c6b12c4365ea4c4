"""The body of ``lcgen make``: build the request, run it with a progress bar, print the folder and a summary."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from lcgen.errors import OutputError
from lcgen.make import MakeRequest, default_out, make


def run_make(
    family: str,
    *,
    lengths: list[int],
    seed: int,
    variants: str | None,
    depths: list[float],
    samples: int,
    tokenizer: str,
    out: str | None,
    overwrite: bool,
    workers: int,
    overrides: dict[str, Any],
    command: str,
    haystack: str | None = None,
    allow_repeat: bool = False,
    chat_template: str = "none",
    reserve_output: int = 0,
    format: str = "plain",
) -> None:
    req = MakeRequest(
        family=family,
        lengths=lengths or [],
        seed=seed,
        variants=[v.strip() for v in variants.split(",")] if variants is not None else None,
        depths=depths,
        samples=samples,
        tokenizer=tokenizer,
        overrides=overrides,
        command=command,
        haystack=haystack,
        allow_repeat=allow_repeat,
        chat_template=chat_template,
        reserve_output=reserve_output,
        format=format,
    )
    req.check()
    if out is not None and not out.strip():
        raise OutputError("--out: empty path; give a folder name")
    target = Path(out) if out is not None else default_out(req)
    n = len(req.specs())
    workers = workers or min(os.cpu_count() or 1, n)
    from tqdm import tqdm

    with tqdm(total=n, unit="sample", desc=family, disable=None, file=click.get_text_stream("stderr")) as bar:
        result = make(req, target, overwrite=overwrite, workers=workers, progress=lambda row: bar.update(1),
                      notify=lambda message: bar.write(f"lcgen: {message}", file=sys.stderr))
    click.echo(
        f"{result.samples} samples, {result.tokens:,} tokens in {result.seconds:.1f} s -> {result.out}", err=True
    )
    click.echo(str(result.out))
