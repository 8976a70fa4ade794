"""Shared fixtures. Real parts only: real files, real loopback HTTP servers, a real DuckDB file."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

DATA = Path(__file__).resolve().parent / "data"
