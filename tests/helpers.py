"""What many tests need the same way: a config for a loopback pass, a read-only query; the free port and
real Prefect server helpers live in newsmon.prefect_server (bench/ uses them too) and are re-exported here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import yaml

from core.settings import WarehouseSettings
from newsmon.prefect_server import free_port, wait_for
from newsmon.prefect_server import standalone_server as prefect_server
from storage.lake import attach

__all__ = ["LOOPBACK", "free_port", "prefect_server", "query", "wait_for", "write_config"]

WAREHOUSE = "wh"  # write_config's lake folder, inside the test's folder
LOOPBACK = {"allow_hosts": ["127.0.0.1"], "retries": 0}


def write_config(
    folder: Path, feeds: list[dict[str, str]], network: dict[str, Any] | None = None, **sections: Any
) -> Path:
    """`folder/config.yaml`: a pass over `feeds` into the lake `folder/wh/`, loopback allowed and no retries
    (`network` adds to or overrides that), and any other top-level `sections` (alerts, pipeline, …)."""
    config = {"warehouse": str(folder / WAREHOUSE), "network": {**LOOPBACK, **(network or {})}, "feeds": feeds}
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump({**config, **sections}, allow_unicode=True), encoding="utf-8")
    return path


def open_lake(folder: Path) -> duckdb.DuckDBPyConnection:
    """The lake `folder/wh/` attached read-only (as an analyst would; it never blocks a pass)."""
    return attach(WarehouseSettings.embedded(folder / WAREHOUSE), read_only=True)


def query(folder: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows of `sql` on the lake `folder/wh/`, attached read-only and closed again."""
    con = open_lake(folder)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()
