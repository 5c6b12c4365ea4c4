"""Scoring a reply: each family's own metric, found through the registry (see ``lcgen.validators.metrics``).

The same function a dataset folder ships as ``lcgen_metrics.py`` (:func:`shipped_metric_source`), so the
lm-evaluation-harness and inspect_ai task files score exactly as ``lcgen score`` does, with or without lcgen.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
from typing import Any

from .registry import families

METRICS = ("strict", "partial")  # every family's metric returns both, in [0, 1], strict never above partial


def score(task: str, variant: str, answer: str, answers: list[str], prediction: Any) -> dict[str, float]:
    """Score one prediction for a sample of family ``task``. Total: a reply that is not text scores as none."""
    reply = prediction if isinstance(prediction, str) else ""
    return families.get(task).metric(reply, answer, list(answers), variant)


def explainer(task: str) -> Any:
    """The family's ``explain(reply, answer, answers, variant) -> str`` (one line on why a reply is not strictly
    right), when its metric module defines one; else None."""
    fn = families.get(task).metric
    found = getattr(importlib.import_module(fn.__module__), "explain", None)
    return found if callable(found) else None


def shipped_metric_source(family: str) -> str:
    """``lcgen_metrics.py`` for a dataset of ``family``: the family's metric module, with what it imports from its
    sibling helper modules inlined (only the definitions it uses), and a ``score(task, ...)`` entry point.

    It depends on nothing but that module and those definitions, so it changes only when this family's metric does.
    """
    fn = families.get(family).metric
    return _compose(family, fn.__name__, fn.__module__)


@functools.lru_cache(maxsize=16)
def _compose(family: str, function: str, module_name: str) -> str:
    from .render import render

    source = inspect.getsource(importlib.import_module(module_name))
    tree = ast.parse(source)
    package = module_name.rpartition(".")[0]
    docstring = ast.get_docstring(tree) or ""
    imports: list[str] = []
    body: list[str] = []
    borrowed: dict[str, list[str]] = {}  # sibling module -> names the family module takes from it
    for node in tree.body:
        if _is_docstring(node) or _is_future(node):
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            borrowed.setdefault(node.module or "", []).extend(a.name for a in node.names)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append(_segment(source, node))
        else:
            body.append(_segment(source, node))
    helpers: list[str] = []
    for sibling, names in borrowed.items():
        more_imports, definitions = _needed(f"{package}.{sibling}", tuple(names))
        imports += more_imports
        helpers += definitions
    return render("harness/lcgen_metrics.py.j2", package="lcgen.cards", family=family, docstring=docstring,
                  imports=sorted(set(imports)), helpers=helpers, body=body, function=function)


def _needed(module_name: str, names: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The import lines and top-level definitions of ``module_name`` that ``names`` need, in source order."""
    source = inspect.getsource(importlib.import_module(module_name))
    tree = ast.parse(source)
    defined: dict[str, ast.stmt] = {}
    imported: dict[str, ast.stmt] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    defined[t.id] = node
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and not _is_future(node):
            if isinstance(node, ast.ImportFrom) and node.level:
                raise ValueError(f"{module_name}: a shipped metric helper may import only the standard library")
            for a in node.names:
                imported[(a.asname or a.name).split(".")[0]] = node
    missing = [n for n in names if n not in defined]
    if missing:
        raise ValueError(f"{module_name} defines no {', '.join(missing)}")
    wanted: set[int] = set()
    used_imports: set[int] = set()
    todo = list(names)
    while todo:
        node = defined[todo.pop()]
        if id(node) in wanted:
            continue
        wanted.add(id(node))
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name):
                if sub.id in defined and id(defined[sub.id]) not in wanted:
                    todo.append(sub.id)
                elif sub.id in imported:
                    used_imports.add(id(imported[sub.id]))
    imports = [_segment(source, n) for n in tree.body if id(n) in used_imports]
    definitions = [_segment(source, n) for n in tree.body if id(n) in wanted]
    return imports, definitions


def _segment(source: str, node: ast.stmt) -> str:
    """A statement's source with its decorators and any comment lines right above it."""
    lines = source.splitlines()
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
    while first > 0 and lines[first - 1].lstrip().startswith("#"):
        first -= 1
    return "\n".join(lines[first : node.end_lineno])


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _is_future(node: ast.stmt) -> bool:
    return isinstance(node, ast.ImportFrom) and node.module == "__future__"
