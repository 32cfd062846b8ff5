"""Query layer: named, parameterised, read-only reads of the built database. Pages call these."""
