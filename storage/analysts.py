"""Analysts' access: read-only connections with the lake attached, one-shot queries, the DuckDB shell.

A read-only DuckLake connection holds no lock on the catalog or the data files, so it can stay open for
hours (a notebook, a BI tool) while passes commit; each new query sees the latest snapshot.
"""

from __future__ import annotations

import csv
import importlib.util
import json
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any, Literal, TextIO

import duckdb

from core.errors import PermanentError, WarehouseMissing
from core.settings import WarehouseSettings
from storage.lake import LAKE, attach, attach_sql, extension_directory, lake_exists, sql_string

OutputFormat = Literal["table", "csv", "json"]
OUTPUT_FORMATS: tuple[OutputFormat, ...] = ("table", "csv", "json")


class ShellUnavailable(PermanentError):
    """The DuckDB shell package is missing or does not match the engine's version."""


class QueryError(PermanentError):
    """The query failed (a typo, an unknown column, a write on the read-only lake): the message says why."""


def read_only_connection(location: WarehouseSettings, snapshot: int | None = None) -> duckdb.DuckDBPyConnection:
    """The lake attached read-only as `lake` (the default database), optionally as of a snapshot."""
    return attach(location, read_only=True, snapshot=snapshot)


def run_query(con: duckdb.DuckDBPyConnection, query: str, fmt: OutputFormat, out: TextIO) -> None:
    """Run `query` and write its result to `out`: DuckDB's own box rendering for `table` (like its shell:
    column types, long text cut, at most 40 rows with a count of all), every row for `csv` and `json`."""
    try:
        relation: duckdb.DuckDBPyRelation | None = con.sql(query)
        if relation is None:  # a statement without a result (SET, …)
            return
        if fmt == "table":
            out.write(str(relation))
            return
        columns = list(relation.columns)
        rows = relation.fetchall()
    except duckdb.Error as exc:
        raise QueryError(str(exc)) from exc
    if fmt == "csv":
        _write_csv(columns, rows, out)
    else:
        json.dump([dict(zip(columns, row, strict=True)) for row in rows], out, ensure_ascii=False, default=_json_value)
        out.write("\n")


def _write_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else _csv_value(v) for v in row])


def _csv_value(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False, default=_json_value) if isinstance(value, list | dict) else value


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def shell_command(location: WarehouseSettings, snapshot: int | None = None) -> list[str]:
    """argv of the real DuckDB shell (package duckdb-cli, the engine's exact version) with the lake
    attached read-only as `lake` and in use."""
    version = duckdb.__version__
    try:
        cli_version = metadata.version("duckdb-cli")
    except metadata.PackageNotFoundError as exc:
        raise ShellUnavailable(f"the duckdb-cli package is not installed: pip install duckdb-cli=={version}") from exc
    if cli_version != version:
        raise ShellUnavailable(
            f"duckdb-cli {cli_version} does not match the DuckDB engine {version}: install {version}"
        )
    spec = importlib.util.find_spec("duckdb_cli")
    binary = Path(spec.origin).parent / "duckdb" if spec and spec.origin else Path("duckdb_cli/duckdb")
    if not binary.is_file():
        raise ShellUnavailable(f"{binary} is missing: reinstall duckdb-cli=={version}")
    if not lake_exists(location):
        raise WarehouseMissing(f"warehouse {location.describe()} does not exist yet: run `newsmon run` first")
    return [str(binary), "-cmd", "; ".join(attach_statements(location, snapshot)) + ";"]


def attach_statements(location: WarehouseSettings, snapshot: int | None = None) -> list[str]:
    """What a DuckDB 1.5.5 client runs to attach the lake read-only, loading the extensions from this
    installation's packages (no download)."""
    return [
        f"SET extension_directory = {sql_string(str(extension_directory()))}",
        "SET autoinstall_known_extensions = false",
        attach_sql(location, LAKE, read_only=True, snapshot=snapshot),
        f"USE {LAKE}",
    ]
