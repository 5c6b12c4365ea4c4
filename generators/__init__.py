"""Built-in task families; importing this package registers them.

Third-party families register the same way, found through the ``lcgen.families`` entry points.
"""

from . import ancestral_trace, holistic_queries, needle_threads, needles  # noqa: F401
