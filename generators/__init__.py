"""Built-in task families, one module each; ``lcgen.registry`` imports a family's module when its name is first
asked for (``needle-threads`` is ``needle_threads.py``), and every module for a listing. ``_private`` modules are
helpers, never imported as families.

Third-party families register the same way, found through the ``lcgen.families`` entry points.
"""
