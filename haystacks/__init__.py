"""Haystack sources (natural text, files, datasets). The needle-threads family makes its own JSON filler."""

from . import files, hf, procedural  # noqa: F401
