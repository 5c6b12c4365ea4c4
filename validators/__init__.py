"""Independent oracles, one per family; importing this package registers them."""

from . import needle_threads, needles  # noqa: F401
