"""Independent oracles, one per family; importing this package registers them."""

from . import ancestral_trace, holistic_queries, needle_threads, needles  # noqa: F401
