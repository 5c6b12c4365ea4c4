"""lcgen: deterministic, exact-length synthetic long-context datasets.

The sub-packages ``lcgen.generators``, ``lcgen.templates``, ``lcgen.validators``, ``lcgen.cards``, ``lcgen.cli``
and friends live in top-level folders of the source tree and are mapped into the package by pyproject.toml.
"""

from __future__ import annotations

from pathlib import Path as _Path

from ._version import __version__

# Running from a source checkout (``python -m pytest`` in the repository) puts the checkout's ``lcgen/`` first on
# sys.path, which hides the installed package's mapped sub-packages. Adding the repository root to ``__path__``
# makes ``lcgen.generators`` resolve to ``<repo>/generators`` there, exactly as pyproject maps it when installed.
_root = _Path(__file__).resolve().parent.parent
if (_root / "pyproject.toml").is_file() and (_root / "generators").is_dir():
    __path__.append(str(_root))  # noqa: F821  (package __path__)

from .errors import LcgenError, ParamError, UnknownNameError  # noqa: E402

# The public API, imported on first use so that ``import lcgen`` (and ``lcgen --help``) stays cheap. Names that
# are also module names (make, assemble, validate, oracle) are reached as ``lcgen.make.make`` and so on.
_LAZY = {
    "family": "registry", "families": "registry",
    "FamilyParams": "params", "param": "params",
    "Needle": "assemble", "Plan": "assemble", "SamplePlan": "assemble",
    "MakeRequest": "make", "build_sample": "make", "SampleSpec": "make",
    "OracleResult": "oracle", "get_tokenizer": "tokenizer", "derive": "rng",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, name)
    raise AttributeError(f"module 'lcgen' has no attribute {name!r}")


__all__ = ["LcgenError", "ParamError", "UnknownNameError", "__version__", *_LAZY]
