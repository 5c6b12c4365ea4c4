"""``lcgen score DATASET PREDICTIONS...``: strict and partial accuracy, a table, JSON and a heatmap."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("score")
@click.argument("dataset", type=click.Path(path_type=Path))
@click.argument("predictions", nargs=-1, required=True)
@click.option("--out", type=click.Path(path_type=Path), default=None, metavar="DIR",
              help="Folder for the results (made if missing; never one holding harness logs being scored): "
                   "<file>.scores.json and <file>.heatmap.png for one prediction file, else scores.json and "
                   "heatmap.png. Default: lcgen-scores/<dataset folder name> in the working directory.")
@click.option("--on-conflict", type=click.Choice(["error", "last"]), default="error", show_default=True,
              help="A sample with different replies in two files: refuse, or keep the later file's (arguments in "
                   "order, a folder's or pattern's files in sorted path order).")
def score_cmd(dataset: Path, predictions: tuple[str, ...], out: Path | None, on_conflict: str) -> None:
    """Score PREDICTIONS against DATASET: a variant x length x depth table, JSON and a heatmap.

    \b
    PREDICTIONS, any number, merged by sample id:
      FILE     JSONL of id + prediction, an lm-eval samples_*.jsonl
               (--log_samples), an inspect log (.eval, .json)
      FOLDER   an lm-eval --output_path or an inspect log dir: every
               samples_*.jsonl, *.eval and <timestamp>_*.json log under it
               (results_*.json, logs.json and other files are skipped)
      PATTERN  a quoted glob, e.g. 'logs/*.eval' or 'out/**/samples_*.jsonl'

    The same reply for a sample in two files counts once; different replies
    are refused unless --on-conflict last.
    """
    from lcgen.dataset import read_card
    from lcgen.score import (
        check_out_dir,
        merge_predictions,
        out_dir,
        prediction_files,
        read_sources,
        score_dataset,
        write_outputs,
    )

    read_card(dataset)
    target = out_dir(dataset, out)
    found = prediction_files(predictions)
    sources = read_sources(found.files)
    check_out_dir(target, out is not None, found)
    report = score_dataset(dataset, merge_predictions(sources, on_conflict), sources)
    for source in report.sources:
        notes = "; ".join(f"{count} {text}" for count, text in (
            (source.same, "same as an earlier file, counted once"), (source.replaced, "replaced an earlier reply"),
            (source.unknown, f"not in {dataset}")) if count)
        click.echo(f"{_plural(len(source.predictions), 'prediction')} from {source.path}"
                   + (f" ({notes})" if notes else ""))
    scored = report.overall.n
    click.echo(f"{_plural(scored, 'sample')} in {dataset}: {scored - report.missing} with a prediction, "
               f"{report.missing} without" + (" (scored 0)" if report.missing else "") + "\n")
    click.echo(f"{'variant':<22}{'length':>8}{'depth':>7}{'n':>5}{'strict':>9}{'partial':>9}")
    for (variant, split, depth), cell in report.cells.items():
        m = cell.means()
        strict, partial = 100 * m["strict"], 100 * m["partial"]
        click.echo(f"{variant:<22}{split:>8}{depth:>7g}{cell.n:>5}{strict:>8.1f}%{partial:>8.1f}%")
    if report.by_label:
        click.echo(f"\n{'variant':<22}{'label':<24}{'value':>8}{'n':>5}{'strict':>9}")
        for (variant, key, value), cell in report.by_label.items():
            click.echo(f"{variant:<22}{key:<24}{value:>8}{cell.n:>5}{100 * cell.means()['strict']:>8.1f}%")
    if report.failures:
        click.echo("\nwhy some replies fail (scores.json lists up to 20 per variant):")
        shown: dict[str, int] = {}
        for failure in report.failures:
            if shown.setdefault(failure["variant"], 0) < 3:
                shown[failure["variant"]] += 1
                click.echo(f"  {failure['id']}: {failure['reason']}")
    m = report.overall.means()
    missing = f", {report.missing} without a prediction (scored 0)" if report.missing else ""
    click.echo(f"\noverall: strict {100 * m['strict']:.1f}%, partial {100 * m['partial']:.1f}% over "
               f"{scored} samples{missing}")
    stem = found.files[0].with_suffix("").name if found.single else ""
    json_path, png_path = write_outputs(report, target, stem)
    click.echo(f"wrote {json_path} and {png_path}")


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
