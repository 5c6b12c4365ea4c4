"""Errors a user can cause. The CLI turns each into one line on stderr and a non-zero exit."""

from __future__ import annotations


class LcgenError(Exception):
    """Base class: a problem with the user's input or environment, not a bug."""

    exit_code = 1


class ParamError(LcgenError, ValueError):
    """An option value is out of range or malformed."""

    exit_code = 2


class UnknownNameError(LcgenError, KeyError):
    """A family, variant, tokenizer or other registered name does not exist."""

    exit_code = 2

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class OutputError(LcgenError):
    """The output folder cannot be written."""


class OutputExistsError(OutputError):
    """The output folder exists and is not empty."""


class DatasetError(LcgenError):
    """A dataset folder is missing, incomplete or corrupt."""


class HaystackError(LcgenError):
    """A ``--haystack`` value or its text cannot be used."""

    exit_code = 2


class TemplateError(LcgenError):
    """A template is missing or fails to render."""


class MissingExtraError(LcgenError):
    """A dependency is not installed."""


def missing_dependency(what: str, package: str) -> MissingExtraError:
    """The error for a core dependency that is gone (a broken or partial install)."""
    return MissingExtraError(f"{what} needs {package}, a dependency of lcgen that is not installed: reinstall lcgen")
