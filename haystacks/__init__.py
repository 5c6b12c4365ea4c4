"""Haystack sources (natural text, files, datasets), one module per ``--haystack`` scheme, imported by
``lcgen.registry`` when the scheme is used. The needle-threads family makes its own JSON filler."""
