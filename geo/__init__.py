"""Geometry: communes → EPCI → départements → régions, coverage simplification, GeoJSON for maps."""
