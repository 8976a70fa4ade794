"""The DuckDB warehouse: schema migrations and every read and write the pipeline does."""
