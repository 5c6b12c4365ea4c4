"""``lcgen make FAMILY``: one subcommand per registered family, its options derived from the params dataclass."""

from __future__ import annotations

import dataclasses
import shlex
import sys
from typing import Any

import click

from lcgen.errors import ParamError
from lcgen.lengths import parse_length, parse_lengths
from lcgen.rng import MAX_SEED
from lcgen.params import choices_of, field_type, option_name
from lcgen.registry import FamilySpec, families


class LengthList(click.ParamType):
    name = "LENGTHS"

    def convert(self, value: Any, param: Any, ctx: Any) -> list[int]:
        if isinstance(value, list):
            return value
        try:
            return parse_lengths(str(value))
        except ParamError as exc:
            self.fail(str(exc).removeprefix("--len: "), param, ctx)


class TokenCount(click.ParamType):
    """A knob counted in tokens: an integer, or a length such as 8k, within the knob's bounds."""

    name = "TOKENS"

    def __init__(self, low: float | None, high: float | None):
        self.low, self.high = low, high

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        if isinstance(value, int):
            return value
        try:
            n = parse_length(str(value))
        except ParamError as exc:
            self.fail(str(exc).removeprefix("--len: "), param, ctx)
        if self.low is not None and n < self.low or self.high is not None and n > self.high:
            low, high = ("" if bound is None else f"{bound:,}" for bound in (self.low, self.high))
            self.fail(f"{n:,} tokens is outside {low}-{high}", param, ctx)
        return n


class ShardSizeType(click.ParamType):
    name = "ROWS|SIZE"

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        from lcgen.shards import ShardSize, parse_shard_size

        if isinstance(value, ShardSize):
            return value
        try:
            return parse_shard_size(str(value))
        except ParamError as exc:
            self.fail(str(exc).removeprefix("--shard-size: "), param, ctx)


class DepthList(click.ParamType):
    name = "DEPTHS"

    def convert(self, value: Any, param: Any, ctx: Any) -> list[float]:
        if isinstance(value, (list, tuple)):
            return list(value)
        out = []
        for item in str(value).split(","):
            try:
                d = float(item)
            except ValueError:
                self.fail(f"{item.strip()!r} is not a number (percent, 0-100)", param, ctx)
            if not 0.0 <= d <= 100.0 or d != d:
                self.fail(f"{item.strip()!r} is outside 0-100", param, ctx)
            out.append(d)
        if len(set(out)) != len(out):
            self.fail("a depth is listed twice", param, ctx)
        return out


def _knob_option(cls: type, f: dataclasses.Field) -> click.Option:
    tp = field_type(cls, f.name)
    meta = f.metadata
    choices = choices_of(tp)
    applies = f" [{', '.join(meta['variants'])}]" if meta.get("variants") else ""
    help_text = f"{meta['help']}{applies} (default: {f.default})"
    kwargs: dict[str, Any] = {"default": None, "help": help_text, "show_default": False}
    if choices is not None:
        kwargs["type"] = click.Choice([str(c) for c in choices])
    elif tp is int and meta.get("tokens"):
        kwargs["type"] = TokenCount(meta.get("min"), meta.get("max"))
    elif tp is int:
        kwargs["type"] = click.IntRange(meta.get("min"), meta.get("max"))
    elif tp is float:
        kwargs["type"] = click.FloatRange(meta.get("min"), meta.get("max"))
    elif tp is bool:
        return click.Option([option_name(f.name) + "/" + option_name(f.name).replace("--", "--no-")], **kwargs)
    else:
        kwargs["type"] = str
    return click.Option([option_name(f.name)], **kwargs)


UNRECORDED = {"--out": True, "--workers": True, "--overwrite": False, "--llm-cache": True,
              "--llm-concurrency": True, "--llm-timeout": True, "--llm-retries": True, "--engine": True,
              "--ray-address": True, "--resume": False}
"""Options that do not change a single row (name: takes a value); the card's command leaves them out, so the card
is the same whatever folder, worker count or engine was used, and whether the run was resumed."""


def recorded_command(family: str, args: list[str]) -> str:
    """The command line the card records: the user's own spelling, less the options in ``UNRECORDED``."""
    kept: list[str] = []
    skip_value = False
    llm_value = False
    for arg in args:
        if skip_value:
            skip_value = False
            continue
        if llm_value:
            llm_value = False
            kept.append(_without_address(arg))
            continue
        name = arg.split("=", 1)[0]
        if name == "--llm":
            llm_value = "=" not in arg
            kept.append(arg if llm_value else "--llm=" + _without_address(arg.split("=", 1)[1]))
            continue
        if name in UNRECORDED:
            skip_value = UNRECORDED[name] and "=" not in arg
            continue
        kept.append(arg)
    return " ".join(["lcgen", "make", family] + ([shlex.join(kept)] if kept else []))


def _without_address(value: str) -> str:
    """``--llm`` as the card records it: ``openai:URL#MODEL`` with the address written as the word URL. Where a
    server ran changes no row (the cache and the rows key on the model), so the card is the same on every port."""
    backend, _, rest = value.partition(":")
    return f"openai:URL#{rest.rpartition('#')[2]}" if backend == "openai" and "#" in rest else value


def default_llm_cache() -> str:
    """``$LCGEN_CACHE_DIR/llm``, else ``$XDG_CACHE_HOME/lcgen/llm``, else ``~/.cache/lcgen/llm``."""
    import os

    if os.environ.get("LCGEN_CACHE_DIR"):
        return os.path.join(os.environ["LCGEN_CACHE_DIR"], "llm")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "lcgen", "llm")


def family_command(spec: FamilySpec) -> click.Command:
    """The click command for one family: common controls, then the family's knobs."""

    def run(**kw: Any) -> None:
        from .run_make import run_make

        overrides = {f.name: kw.pop(f.name) for f in dataclasses.fields(spec.params) if kw.get(f.name) is not None}
        for f in dataclasses.fields(spec.params):
            kw.pop(f.name, None)
        kw.setdefault("depths", [0.0])  # a family without depth: every sample at 0, recorded as such
        given = sys.argv[sys.argv.index(spec.name) + 1:] if spec.name in sys.argv else []
        run_make(spec.name, overrides=overrides, command=recorded_command(spec.name, given), **kw)

    len_help = "Target length(s) in tokens: 4096, 128k, 1M, 128Ki, or a comma list."
    if spec.unbounded_split is not None:
        len_help += " Omit it to make the context from the needles alone."
    params: list[click.Parameter] = [
        click.Option(["--len", "lengths"], type=LengthList(), required=spec.unbounded_split is None, help=len_help),
        click.Option(["--seed"], type=click.IntRange(0, MAX_SEED), default=0, show_default=True,
                     help="Seed of the whole run, 0 to 2^63-1."),
        click.Option(["--variants"], default=None, metavar="A,B",
                     help=f"Variants to make (default: all): {', '.join(spec.variant_names())}."),
        click.Option(["--samples"], type=click.IntRange(1, 1_000_000_000), default=1, show_default=True,
                     help="Samples per (variant, length, depth); a training set of millions streams to shards."),
        click.Option(["--tokenizer"], default="cl100k_base", show_default=True,
                     help="cl100k_base, o200k_base, a tokenizer.json path, a local model folder, or a Hub model id "
                          "org/name[@revision] (tokenizer files only; from the HF cache when HF_HUB_OFFLINE=1). "
                          "A comma list makes the same samples once per tokenizer, each at its exact length."),
        click.Option(["--chat-template"], default="none", show_default=True, metavar="auto|PATH|none",
                     help="Render each prompt with a chat template and count it with its special tokens: auto = "
                          "the tokenizer's own (tokenizer_config.json / chat_template.jinja), or a Jinja file."),
        click.Option(["--reserve-output"], type=click.IntRange(0, None), default=0, show_default=True,
                     help="Tokens left for the reply: prompts are sized to --len minus this."),
        click.Option(["--out"], type=str, default=None,
                     help="Output folder (default: a name derived from the arguments)."),
        click.Option(["--overwrite"], is_flag=True, help="Replace an existing non-empty --out."),
        click.Option(["--workers"], type=click.IntRange(0, 256), default=0, show_default=True,
                     help="Worker processes; 0 = one per CPU core. Output bytes do not depend on it."),
        click.Option(["--engine"], type=click.Choice(["local", "ray"]), default="local", show_default=True,
                     help="local: worker processes on this machine; ray: one Ray task per shard (pip install "
                          "'lcgen[ray]'). Same bytes either way."),
        click.Option(["--ray-address"], default=None, metavar="ADDRESS",
                     help="The Ray cluster to join (default: RAY_ADDRESS, else a local Ray for this run)."),
        click.Option(["--shard-size"], type=ShardSizeType(), default="auto", show_default=True,
                     help="Rows per parquet file (20000), or text per file (500MB, estimated from the target "
                          "length); auto = about 100M tokens a file."),
        click.Option(["--resume"], is_flag=True,
                     help="Take over the interrupted run of the same arguments into --out and make only the "
                          "shards it had not finished (same bytes as an uninterrupted run)."),
        click.Option(["--input-ids"], is_flag=True,
                     help="Also store each prompt's token ids (int32) in an input_ids column, for training."),
    ]
    if spec.depth_of is not None:
        params.insert(3, click.Option(["--depths"], type=DepthList(), default="0,25,50,75,100", show_default=True,
                                      help=f"Depths of the {spec.depth_of}: percent of the context's tokens before "
                                           "it."))
    if spec.uses_haystack:
        sources = "procedural, files:PATH, hf:REPO[:CONFIG]:COLUMN[@REV]"
        what = f"Filler text around the {spec.depth_of or 'task'}s" if spec.turns else "Text the passage comes from"
        params.append(click.Option(["--haystack"], default="procedural", show_default=True,
                                   help=f"{what}: {sources}."))
    if spec.uses_haystack and spec.turns:
        params.append(click.Option(["--format"], type=click.Choice(["plain", "chat-history"]), default="plain",
                                   show_default=True,
                                   help="chat-history: the context as a conversation of many user/assistant "
                                        "turns (needles inside turns, the question as the last user turn), "
                                        "rendered with --chat-template or a plain transcript."))
        params.append(click.Option(["--allow-repeat"], is_flag=True,
                                   help="Let a corpus smaller than a sample repeat its sentences (recorded in meta "
                                        "and the card); without it such a sample is refused."))
    if spec.prepare is not None:
        params += [
            click.Option(["--llm"], default="none", show_default=True, metavar="openai:URL#MODEL|vllm:MODEL|none",
                         help="The model that writes the text: any OpenAI-compatible server (key from "
                              "LCGEN_LLM_API_KEY or OPENAI_API_KEY, never recorded), vllm in-process (pip install "
                              "'lcgen[vllm]'), or none (lcgen's own templates)."),
            click.Option(["--llm-cache"], default=None, metavar="DIR|none",
                         help="Disk cache of replies, keyed by backend, model, prompt and sampling: a rerun is free "
                              "and byte-identical, a killed run resumes (default: ~/.cache/lcgen/llm, or "
                              "$LCGEN_CACHE_DIR/llm)."),
            click.Option(["--llm-concurrency"], type=click.IntRange(1, 256), default=8, show_default=True,
                         help="Requests in flight at once (openai)."),
            click.Option(["--llm-timeout"], type=click.FloatRange(0.1, 3600), default=120.0, show_default=True,
                         help="Seconds before a request is retried (openai)."),
            click.Option(["--llm-retries"], type=click.IntRange(0, 20), default=5, show_default=True,
                         help="Retries per request on 429, 5xx, timeouts and lost connections, with backoff."),
        ]
    params += [_knob_option(spec.params, f) for f in dataclasses.fields(spec.params)]
    return click.Command(
        spec.name,
        params=params,
        callback=run,
        help=f"{spec.description}\n\nDepth: {spec.depth_meaning}" if spec.depth_of else spec.description,
        short_help=spec.description,
    )


class MakeGroup(click.Group):
    """Subcommands come from the family registry, built on demand."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return families.names()

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in families:
            families.get(name)  # raises UnknownNameError with a did-you-mean
        return family_command(families.get(name))


def _mix(ctx: click.Context, mix: str | None, **kw: Any) -> None:
    """``lcgen make --mix FILE``: a training set mixing families (lcgen.mix)."""
    if ctx.invoked_subcommand is not None:
        if mix is not None:
            raise click.UsageError("--mix makes a mixture of the families its file lists; give it without a family")
        return
    if mix is None:
        raise click.UsageError("give a family (lcgen make FAMILY --len 32k) or a mixture (lcgen make --mix FILE)")
    from .run_make import run_mix

    given = sys.argv[sys.argv.index("make") + 1:] if "make" in sys.argv else []
    command = recorded_command("", given).replace("lcgen make  ", "lcgen make ", 1).rstrip()
    run_mix(mix, command=command, **kw)


MIX_OPTIONS = [
    click.Option(["--mix"], default=None, metavar="FILE",
                 help="A mixture: a YAML file of families, variants, length distributions and weights "
                      "(docs/training.md); one training set with a task column."),
    click.Option(["--samples"], type=click.IntRange(1, 1_000_000_000), default=None,
                 help="With --mix: samples in all (default: the file's samples:)."),
    click.Option(["--seed"], type=click.IntRange(0, MAX_SEED), default=0, show_default=True, help="With --mix."),
    click.Option(["--tokenizer"], default="cl100k_base", show_default=True, help="With --mix: one tokenizer."),
    click.Option(["--out"], type=str, default=None, help="With --mix: the output folder."),
    click.Option(["--overwrite"], is_flag=True, help="With --mix."),
    click.Option(["--workers"], type=click.IntRange(0, 256), default=0, show_default=True, help="With --mix."),
    click.Option(["--engine"], type=click.Choice(["local", "ray"]), default="local", show_default=True,
                 help="With --mix."),
    click.Option(["--ray-address"], default=None, metavar="ADDRESS", help="With --mix."),
    click.Option(["--shard-size"], type=ShardSizeType(), default="auto", show_default=True, help="With --mix."),
    click.Option(["--resume"], is_flag=True, help="With --mix."),
    click.Option(["--input-ids"], is_flag=True, help="With --mix."),
]


make_group = MakeGroup("make", params=MIX_OPTIONS, callback=click.pass_context(_mix), invoke_without_command=True,
                       help="Make a dataset of one family: lcgen make FAMILY --len 128k --seed 7; or a training "
                            "set mixing families: lcgen make --mix mix.yaml --samples 100000 --seed 7")
