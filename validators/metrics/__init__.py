"""Each family's metric, one standard-library-only module per family (named as the family's module).

A family names its metric in ``@family(..., metric=fn)``; ``lcgen score`` calls it, and the dataset folder ships it
as ``lcgen_metrics.py`` (the module with the helpers it uses from ``_replies`` inlined, nothing else), which the
lm-evaluation-harness and inspect_ai task files import. A metric is ``fn(reply, answer, answers, variant)`` and
returns ``{"strict": x, "partial": y}`` with both in [0, 1] for any text, strict never above partial.
"""
