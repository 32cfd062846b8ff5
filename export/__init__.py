"""Exports for the departmental schemas: tables (CSV, XLSX), charts and maps (PNG, SVG, PDF).

Every export carries the same header block: title, territory, filters in force, sources with their
vintage, "données simulées" when relevant, and the export date. Statistical secrecy is checked
before any table leaves the application.
"""
