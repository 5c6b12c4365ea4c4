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
    llm: str = "none",
    llm_cache: str | None = None,
    llm_concurrency: int = 8,
    llm_timeout: float = 120.0,
    llm_retries: int = 5,
) -> None:
    from .make import default_llm_cache

    cache = llm_cache if llm_cache is not None else default_llm_cache()
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
        llm=llm,
        llm_options={"cache_dir": None if cache == "none" else Path(cache), "concurrency": llm_concurrency,
                     "timeout": llm_timeout, "retries": llm_retries},
    )
    req.check()
    if out is not None and not out.strip():
        raise OutputError("--out: empty path; give a folder name")
    target = Path(out) if out is not None else default_out(req)
    n = len(req.specs())
    workers = workers or min(os.cpu_count() or 1, n)
    from tqdm import tqdm

    err = click.get_text_stream("stderr")

    def stage(name: str, total: int) -> Any:
        return tqdm(total=total, unit="call", desc=f"{family}: {name}", disable=None, file=err, leave=True)

    bars: list[Any] = []  # the samples' bar, opened when the first sample arrives (after any stage's bars)

    def progress(row: Any) -> None:
        if not bars:
            bars.append(tqdm(total=n, unit="sample", desc=family, disable=None, file=err))
        bars[0].update(1)

    def notify(message: str) -> None:
        tqdm.write(f"lcgen: {message}", file=sys.stderr)

    try:
        result = make(req, target, overwrite=overwrite, workers=workers, progress=progress, notify=notify,
                      stage=stage)
    finally:
        for bar in bars:
            bar.close()
    click.echo(
        f"{result.samples} samples, {result.tokens:,} tokens in {result.seconds:.1f} s -> {result.out}", err=True
    )
    click.echo(str(result.out))
