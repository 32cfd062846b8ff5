"""Streamlit building blocks shared by the pages (cached reads, territory selector, maps, formats)."""
