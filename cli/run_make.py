"""The body of ``lcgen make``: build the request, run it with a progress bar, print the folder and a summary."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

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
    out: Path | None,
    overwrite: bool,
    workers: int,
    overrides: dict[str, Any],
    command: str,
    haystack: str | None = None,
) -> None:
    req = MakeRequest(
        family=family,
        lengths=lengths or [],
        seed=seed,
        variants=[v.strip() for v in variants.split(",")] if variants else None,
        depths=depths,
        samples=samples,
        tokenizer=tokenizer,
        overrides=overrides,
        command=command,
        haystack=haystack,
    )
    req.check()
    target = out or default_out(req)
    n = len(req.specs())
    workers = workers or min(os.cpu_count() or 1, n)
    from tqdm import tqdm

    with tqdm(total=n, unit="sample", desc=family, disable=None, file=click.get_text_stream("stderr")) as bar:
        result = make(req, target, overwrite=overwrite, workers=workers, progress=lambda row: bar.update(1))
    click.echo(
        f"{result.samples} samples, {result.tokens:,} tokens in {result.seconds:.1f} s -> {result.out}", err=True
    )
    click.echo(str(result.out))
