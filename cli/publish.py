"""``lcgen publish PATH --repo OWNER/NAME --version X.Y.Z``: upload a dataset folder to the Hub and tag it."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("publish")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--repo", "repo_id", required=True, metavar="OWNER/NAME", help="The Hub dataset repo.")
@click.option("--version", "version", required=True, metavar="X.Y.Z", help="Release version; tagged vX.Y.Z.")
@click.option("--branch", default="main", show_default=True, help="Branch to commit to; created from main if missing.")
@click.option("--private", is_flag=True, help="Create the repo private (an existing repo keeps its visibility).")
@click.option("--dry-run", is_flag=True, help="Print the files, sizes, repo, branch and tag; contact nothing.")
def publish_cmd(path: Path, repo_id: str, version: str, branch: str, private: bool, dry_run: bool) -> None:
    """Check the dataset at PATH, re-render its card for the version, upload it and tag it vX.Y.Z.

    The token comes from HF_TOKEN or the huggingface_hub login cache; it is never printed or written.
    """
    from lcgen.errors import LcgenError
    from lcgen.publish import describe_plan, plan, publish, redact

    def say(line: str) -> None:
        click.echo(redact(line))

    try:
        p = plan(path, repo_id, version, branch=branch, private=private)
        if dry_run:
            say("dry run: nothing uploaded, nothing contacted")
            for line in describe_plan(p):
                say(line)
            return
        result = publish(p)
    except LcgenError as exc:  # the one place every refusal passes: no message may carry the token
        exc.args = (redact(str(exc)), *exc.args[1:])
        raise
    say(f"published {p.repo_id} {p.tag}: {len(p.files)} files, {p.total_bytes:,} bytes, "
        f"commit {result.commit[:12]} on {p.branch}")
    say(result.url)
    first = p.splits[0]
    say(f"load: datasets.{p.load_snippet(first.config, first.split)}")
