"""All prompt, verbalization and card text comes from Jinja2 templates rendered in a sandbox."""

from __future__ import annotations

import functools
from typing import Any

from jinja2 import StrictUndefined, TemplateNotFound
from jinja2.exceptions import TemplateError as _JinjaError
from jinja2.loaders import FileSystemLoader, PackageLoader
from jinja2.sandbox import SandboxedEnvironment

from .errors import TemplateError


@functools.lru_cache(maxsize=None)
def environment(package: str) -> SandboxedEnvironment:
    """A sandboxed, strict environment over the templates shipped in ``package`` (e.g. ``lcgen.templates``).

    Every folder on the package's ``__path__`` is searched, in order, so a family's templates may live beside
    lcgen's own (what docs/adding-a-family.md's worked example relies on).
    """
    import importlib

    paths = list(getattr(importlib.import_module(package), "__path__", []))
    env = SandboxedEnvironment(
        loader=FileSystemLoader(paths) if paths else PackageLoader(package, ""),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["tojson_list"] = _tojson
    return env


def _tojson(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def render(name: str, package: str = "lcgen.templates", **context: Any) -> str:
    """Render template ``name`` (a path inside ``package``) with plain-data ``context``."""
    try:
        return environment(package).get_template(name).render(**context)
    except TemplateNotFound:
        raise TemplateError(f"template {name!r} not found in {package}") from None
    except _JinjaError as exc:
        raise TemplateError(f"template {name!r}: {exc}") from None
