"""Independent oracles, one per family; importing this package registers them."""

from . import ancestral_trace, needle_threads, needles  # noqa: F401
