"""``lcgen score DATASET PREDICTIONS``: strict and partial accuracy, a table, JSON and a heatmap."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("score")
@click.argument("dataset", type=click.Path(path_type=Path))
@click.argument("predictions", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None, metavar="DIR",
              help="Folder for <predictions>.scores.json and .heatmap.png (made if missing). "
                   "Default: lcgen-scores/<dataset folder name> in the working directory.")
def score_cmd(dataset: Path, predictions: Path, out: Path | None) -> None:
    """Score PREDICTIONS (JSONL of id + prediction, lm-eval sample logs, inspect logs) against DATASET."""
    from lcgen.dataset import read_card
    from lcgen.score import load_predictions, out_dir, score_dataset, write_outputs

    read_card(dataset)
    target = out_dir(dataset, out)
    report = score_dataset(dataset, load_predictions(predictions))
    click.echo(f"{'variant':<22}{'length':>8}{'depth':>7}{'n':>5}{'strict':>9}{'partial':>9}")
    for (variant, split, depth), cell in report.cells.items():
        m = cell.means()
        strict, partial = 100 * m["strict"], 100 * m["partial"]
        click.echo(f"{variant:<22}{split:>8}{depth:>7g}{cell.n:>5}{strict:>8.1f}%{partial:>8.1f}%")
    if report.by_label:
        click.echo(f"\n{'variant':<22}{'label':<24}{'value':>8}{'n':>5}{'strict':>9}")
        for (variant, key, value), cell in report.by_label.items():
            click.echo(f"{variant:<22}{key:<24}{value:>8}{cell.n:>5}{100 * cell.means()['strict']:>8.1f}%")
    m = report.overall.means()
    missing = f", {report.missing} without a prediction (scored 0)" if report.missing else ""
    click.echo(f"\noverall: strict {100 * m['strict']:.1f}%, partial {100 * m['partial']:.1f}% over "
               f"{report.overall.n} samples{missing}")
    json_path, png_path = write_outputs(report, predictions, target)
    click.echo(f"wrote {json_path} and {png_path}")
