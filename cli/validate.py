"""``lcgen validate PATH``: re-solve every sample independently and print a per-variant table."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("validate")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--tokenizer", default=None,
              help="Tokenizer(s) to count with instead of those the dataset records (tokenizers.json): names, "
                   "tokenizer.json paths, model folders or Hub ids, comma-separated; matched to rows by sha256.")
@click.option("--show", default=5, show_default=True, help="Failures to print per variant.")
def validate_cmd(path: Path, tokenizer: str | None, show: int) -> None:
    """Check every sample of the dataset at PATH; exit non-zero if any fails."""
    from lcgen.validate import validate

    reports, failed = validate(path, tokenizer)
    click.echo(f"{'config':<22}{'samples':>8}{'passed':>8}{'failed':>8}{'on target':>11}{'max depth err':>15}")
    for variant, rep in reports.items():
        click.echo(
            f"{variant:<22}{rep.samples:>8}{rep.samples - rep.failed:>8}{rep.failed:>8}"
            f"{rep.exact:>6}/{rep.samples:<4}{rep.max_depth_error:>14.3f}%"
        )
    for rep in reports.values():
        for line in rep.failures[:show]:
            click.echo(f"FAIL {line}", err=True)
    card_problems = [line for rep in reports.values() for line in rep.card_problems]
    for line in card_problems:
        click.echo(f"FAIL card: {line}", err=True)
    total = sum(r.samples for r in reports.values())
    if failed:
        raise click.ClickException(f"{failed} of {total} samples failed validation")
    click.echo(f"all {total} samples passed")
    if card_problems:
        raise click.ClickException(f"the card does not match the rows of {len(card_problems)} config(s)")
