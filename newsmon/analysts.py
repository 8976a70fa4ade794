"""Analysts' entry points: `newsmon sql`, and a read-only connection for notebooks.

    from newsmon.analysts import connect
    con = connect("newsmon.yaml")                 # the lake attached read-only as `lake`, in use
    con.sql("SELECT * FROM articles_unique LIMIT 5").show()
    then = connect("newsmon.yaml", run="3f2a9c1b0d4e")   # the lake as that pass left it

The connection holds no lock: keep it open as long as you like, passes keep writing, and each query sees
the latest commit (or, with `snapshot`/`run`, always the same one).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn, TextIO

from core.errors import PermanentError
from core.settings import Config
from newsmon.config import load_config
from storage.analysts import OutputFormat, attach_statements, read_only_connection, run_query, shell_command
from storage.connection import Connection


class UnknownRun(PermanentError):
    """No pass with that run_id has recorded a snapshot."""


def connect(config: str | Path | Config, snapshot: int | None = None, run: str | None = None) -> Connection:
    """A read-only DuckDB connection with the warehouse attached as `lake` (the default database), as of
    the latest commit, a DuckLake `snapshot`, or the snapshot a pass (`run`, a runs.run_id) produced."""
    loaded = config if isinstance(config, Config) else load_config(Path(config))
    if run is not None:
        snapshot = run_snapshot(loaded, run)
    return read_only_connection(loaded.warehouse, snapshot)


def run_snapshot(config: Config, run_id: str) -> int:
    con = read_only_connection(config.warehouse)
    try:
        row = con.execute("SELECT snapshot_id FROM runs WHERE run_id = ?", [run_id]).fetchone()
    finally:
        con.close()
    if row is None or row[0] is None:
        raise UnknownRun(f"no finished pass with run_id {run_id!r} (see `SELECT run_id, snapshot_id FROM runs`)")
    return int(row[0])


def query(config: Config, sql: str, fmt: OutputFormat, out: TextIO, snapshot: int | None = None) -> None:
    con = read_only_connection(config.warehouse, snapshot)
    try:
        run_query(con, sql, fmt, out)
    finally:
        con.close()


def open_shell(config: Config, snapshot: int | None = None) -> NoReturn:
    """Replace this process with the DuckDB shell (the lake attached read-only)."""
    argv = shell_command(config.warehouse, snapshot)
    sys.stdout.flush()
    os.execv(argv[0], argv)  # noqa: S606  (our own packaged binary, arguments we built)


def attach_script(config: Config, snapshot: int | None = None) -> str:
    """The statements for an analyst's own DuckDB 1.5.5 client (CLI, DBeaver, a notebook)."""
    return ";\n".join(attach_statements(config.warehouse, snapshot)) + ";"
