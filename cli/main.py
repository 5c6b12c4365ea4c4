"""The ``lcgen`` command. Errors a user can cause become one line on stderr and a non-zero exit, here only."""

from __future__ import annotations

import sys

import click

from lcgen._version import __version__
from lcgen.errors import LcgenError

from .list import list_cmd
from .make import make_group
from .publish import publish_cmd
from .score import score_cmd
from .validate import validate_cmd


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, "--version", prog_name="lcgen", message="%(prog)s %(version)s")
def cli() -> None:
    """Generate exact-length synthetic long-context datasets, deterministically."""


cli.add_command(make_group)
cli.add_command(list_cmd)
cli.add_command(validate_cmd)
cli.add_command(publish_cmd)
cli.add_command(score_cmd)


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    try:
        code = cli.main(args=argv, prog_name="lcgen", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:  # pragma: no cover - click >= 8.2
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        sys.exit(0)
    except click.UsageError as exc:
        _fail(exc.format_message(), 2)
    except click.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    except LcgenError as exc:
        _fail(str(exc), exc.exit_code)
    except (KeyboardInterrupt, click.exceptions.Abort):
        _fail("interrupted; nothing was left behind", 130)
    except BrokenPipeError:  # pragma: no cover
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str, code: int) -> None:
    one_line = " ".join(str(message).split())
    click.echo(f"lcgen: error: {one_line}", err=True)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
