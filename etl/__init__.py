"""ETL: read and validate sources, write the DuckDB database (`python -m etl build`)."""
