"""lcgen.tests."""
