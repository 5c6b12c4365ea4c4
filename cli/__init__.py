"""lcgen.cli."""
