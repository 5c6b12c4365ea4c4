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
    engine: str = "local",
    ray_address: str | None = None,
    shard_size: Any = None,
    resume: bool = False,
    input_ids: bool = False,
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
        input_ids=input_ids,
        **({"shard_size": shard_size} if shard_size is not None else {}),
    )
    req.check()
    if out is not None and not out.strip():
        raise OutputError("--out: empty path; give a folder name")
    target = Path(out) if out is not None else default_out(req)
    counts = req.split_counts()
    n = sum(counts.values())
    workers = workers or min(os.cpu_count() or 1, n)
    target_tokens = sum(r.n * (r.first.prompt_target or 0) for r in req.recipes())
    from tqdm import tqdm

    err = click.get_text_stream("stderr")

    def stage(name: str, total: int) -> Any:
        return tqdm(total=total, unit="call", desc=f"{family}: {name}", disable=None, file=err, leave=True)

    bars: list[Any] = []  # the run's bar, opened when the first rows arrive (after any stage's bars)
    done = [0]

    def progress(rows: int, tokens: int) -> None:
        # Tokens when every sample has a target length (rate and ETA in tokens/s), else samples.
        if not bars:
            by_tokens = target_tokens > 0 and all(r.first.prompt_target for r in req.recipes())
            bars.append(tqdm(total=target_tokens if by_tokens else n, unit="tok" if by_tokens else "sample",
                             unit_scale=by_tokens, desc=family, disable=None, file=err, smoothing=0.05))
            bars.append(by_tokens)
        done[0] += rows
        bars[0].update(tokens if bars[1] else rows)
        if bars[1]:
            bars[0].set_postfix_str(f"{done[0]:,}/{n:,} samples", refresh=False)

    def notify(message: str) -> None:
        tqdm.write(f"lcgen: {message}", file=sys.stderr)

    try:
        result = make(req, target, overwrite=overwrite, workers=workers, progress=progress, notify=notify,
                      stage=stage, engine=engine, ray_address=ray_address, resume=resume)
    finally:
        if bars:
            bars[0].close()
    click.echo(
        f"{result.samples} samples, {result.tokens:,} tokens in {result.seconds:.1f} s -> {result.out}", err=True
    )
    click.echo(str(result.out))


def run_mix(mix: str, *, samples: int | None, seed: int, tokenizer: str, out: str | None, overwrite: bool,
            workers: int, engine: str, ray_address: str | None, shard_size: Any, resume: bool, input_ids: bool,
            command: str) -> None:
    from tqdm import tqdm

    from lcgen.mix import MixRequest

    req = MixRequest(Path(mix), seed=seed, samples=samples, tokenizer=tokenizer, command=command,
                     shard_size=shard_size, input_ids=input_ids)
    req.check()
    if out is not None and not out.strip():
        raise OutputError("--out: empty path; give a folder name")
    target = Path(out) if out is not None else Path(f"mix-{Path(mix).stem}-seed{seed}")
    n = req.samples
    err = click.get_text_stream("stderr")
    bar = tqdm(total=n, unit="sample", desc="mix", disable=None, file=err, smoothing=0.05)
    tokens = [0, 0.0]

    def progress(rows: int, new_tokens: int) -> None:
        import time

        tokens[0] += new_tokens
        bar.update(rows)
        elapsed = time.monotonic() - (tokens[1] or time.monotonic())
        tokens[1] = tokens[1] or time.monotonic()
        if elapsed > 0:
            bar.set_postfix_str(f"{tokens[0] / elapsed:,.0f} tok/s", refresh=False)

    def notify(message: str) -> None:
        tqdm.write(f"lcgen: {message}", file=sys.stderr)

    try:
        result = make(req, target, overwrite=overwrite, workers=workers or min(os.cpu_count() or 1, n),
                      progress=progress, notify=notify, engine=engine, ray_address=ray_address, resume=resume)
    finally:
        bar.close()
    click.echo(
        f"{result.samples} samples, {result.tokens:,} tokens in {result.seconds:.1f} s -> {result.out}", err=True
    )
    click.echo(str(result.out))
