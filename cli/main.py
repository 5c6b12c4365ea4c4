"""The ``lcgen`` command. Errors a user can cause become one line on stderr and a non-zero exit, here only."""

from __future__ import annotations

import io
import os
import signal
import sys
from typing import Any

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


class Terminated(KeyboardInterrupt):
    """SIGTERM (``timeout``, CI, a container stop), handled like Ctrl-C: clean up, one line, exit 143."""


_terminated = []  # set by the handler: a library between it and main (Ray) may re-raise a plain KeyboardInterrupt


def _on_sigterm(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: cleanup must not be interrupted again
    _terminated.append(True)
    raise Terminated()


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    signal.signal(signal.SIGTERM, _on_sigterm)
    _watch_stdout()
    try:
        code = cli.main(args=argv, prog_name="lcgen", standalone_mode=False)
        sys.stdout.flush()
    except click.exceptions.NoArgsIsHelpError as exc:  # pragma: no cover - click >= 8.2
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        sys.exit(0)
    except click.UsageError as exc:
        _fail(exc.format_message(), 2)
    except click.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    except LcgenError as exc:
        _fail(str(exc), exc.exit_code)
    except (KeyboardInterrupt, click.exceptions.Abort) as exc:  # click turns KeyboardInterrupt into Abort
        kept = getattr(exc, "lcgen_kept", None) or getattr(exc.__cause__, "lcgen_kept", None)
        left = f"the finished shards are kept in {kept} for --resume" if kept else "nothing was left behind"
        if _terminated or isinstance(exc, Terminated) or isinstance(exc.__cause__, Terminated):
            _fail(f"terminated; {left}", 143)
        _fail(f"interrupted; {left}", 130)
    except BrokenPipeError:  # a reader such as `head` closed the pipe: not an error of ours
        _silence_stdout()
        sys.exit(1)
    except OSError as exc:
        if not _stdout_failed():
            raise
        _silence_stdout()
        _fail(f"cannot write to standard output ({exc.strerror or exc})", 1)
    sys.exit(code if isinstance(code, int) else 0)


class _WatchedStdout(io.FileIO):
    """File descriptor 1 that remembers a failed write, so an OSError can be told apart from any other."""

    failed = False

    def write(self, data: Any) -> int:
        try:
            return super().write(data)
        except OSError:
            _WatchedStdout.failed = True
            raise


def _watch_stdout() -> None:
    """Route the real standard output through :class:`_WatchedStdout` (left alone when something captures it)."""
    out = sys.stdout
    try:
        if out is not sys.__stdout__ or out.fileno() != 1:
            return
    except (AttributeError, OSError, ValueError):
        return
    raw = _WatchedStdout(1, "w", closefd=False)
    sys.stdout = io.TextIOWrapper(io.BufferedWriter(raw), encoding=out.encoding, errors=out.errors,
                                  line_buffering=out.line_buffering)


def _stdout_failed() -> bool:
    """Whether standard output refused a write (``> /dev/full``, a closed pipe)."""
    if _WatchedStdout.failed:
        return True
    try:
        sys.stdout.flush()
    except OSError:
        return True
    return False


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's exit-time flush does not print a traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def _fail(message: str, code: int) -> None:
    one_line = " ".join(_shorten(word) for word in str(message).split())
    click.echo(f"lcgen: error: {one_line}", err=True)
    sys.exit(code)


def _shorten(word: str, longest: int = 240) -> str:
    """A pasted value of thousands of characters (``--needles 999...``) is cut, so the one line stays readable."""
    return word if len(word) <= longest else f"{word[:60]}...{word[-20:]} ({len(word):,} characters)"


if __name__ == "__main__":  # pragma: no cover
    main()
