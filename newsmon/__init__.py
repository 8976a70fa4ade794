"""newsmon: a streaming news-monitoring pipeline (feeds -> clean text -> language -> DuckDB)."""

__version__ = "0.1.0"
