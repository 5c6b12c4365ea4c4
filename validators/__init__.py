"""Independent oracles, one module per family, named as the family's module; ``lcgen.registry`` imports them."""
