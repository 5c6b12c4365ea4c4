"""Built-in task families; importing this package registers them (third parties use the ``lcgen.families`` entry points)."""

from . import needle_threads  # noqa: F401
