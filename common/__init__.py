"""Neutral leaves every layer may import (tests/test_layers.py): French formats, palettes, the
fiche's data model, configuration (database path, data-space store). Imports nothing of the project."""
