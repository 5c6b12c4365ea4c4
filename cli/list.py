"""``lcgen list``: every family with its variants and knobs, read from the registry."""

from __future__ import annotations

import dataclasses

import click

from lcgen.params import choices_of, field_type, option_name
from lcgen.registry import families


@click.command("list")
def list_cmd() -> None:
    """List task families, their variants and their knobs."""
    for name in families.names():
        spec = families.get(name)
        click.echo(f"{name} (v{spec.version}): {spec.description}")
        presets = [f"{v}" + (f" {spec.variants[v]}" if spec.variants[v] else "") for v in spec.variant_names()]
        click.echo(f"  variants: {', '.join(presets)}")
        for f in dataclasses.fields(spec.params):
            choices = choices_of(field_type(spec.params, f.name))
            allowed = f" [{'|'.join(map(str, choices))}]" if choices else ""
            applies = f" ({', '.join(f.metadata['variants'])})" if f.metadata.get("variants") else ""
            click.echo(f"  {option_name(f.name)}={f.default}{allowed}: {f.metadata['help']}{applies}")
