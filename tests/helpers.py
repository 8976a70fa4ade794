"""What many tests need the same way: a config for a loopback pass, a read-only query; the free port and
real Prefect server helpers live in newsmon.prefect_server (bench/ uses them too) and are re-exported here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import yaml

from newsmon.prefect_server import free_port, wait_for
from newsmon.prefect_server import standalone_server as prefect_server

__all__ = ["LOOPBACK", "free_port", "prefect_server", "query", "wait_for", "write_config"]

LOOPBACK = {"allow_hosts": ["127.0.0.1"], "retries": 0}


def write_config(
    folder: Path, feeds: list[dict[str, str]], network: dict[str, Any] | None = None, **sections: Any
) -> Path:
    """`folder/config.yaml`: a pass over `feeds` into `folder/wh.duckdb`, loopback allowed and no retries
    (`network` adds to or overrides that), and any other top-level `sections` (alerts, pipeline, …)."""
    config = {"warehouse": str(folder / "wh.duckdb"), "network": {**LOOPBACK, **(network or {})}, "feeds": feeds}
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump({**config, **sections}, allow_unicode=True), encoding="utf-8")
    return path


def query(folder: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows of `sql` on `folder/wh.duckdb`, opened read-only and closed again (a pass may write next)."""
    con = duckdb.connect(str(folder / "wh.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()
