"""Orchestration and all network I/O: the Prefect flow, its tasks and the one shared HTTP client."""
