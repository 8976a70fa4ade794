"""The warehouse file: connections, migrations, transactions, and every path kept next to it.

DuckDB allows one writer process: the pass opens the file for short sessions (one transaction per batch)
and closes it in between, so analysts can open it read-only between batches. This package is the only
place that imports duckdb; other layers use `Connection` only as an opaque handle passed back in here.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from core.errors import WarehouseMissing, WarehouseUnavailable, WarehouseVersionError
from storage.schema import LATEST_VERSION, MIGRATIONS

Connection = duckdb.DuckDBPyConnection
_ROWS_PER_STATEMENT = 200


def lock_path(warehouse: Path) -> Path:
    """The pass lock next to the warehouse file (storage.lock)."""
    return warehouse.with_name(warehouse.name + ".lock")


def index_path(warehouse: Path) -> Path:
    """The near-duplicate index next to the warehouse file (storage.lsh)."""
    return warehouse.with_name(warehouse.name + ".lsh.sqlite")


def insert_rows(
    con: Connection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    skip_existing: bool = False,
) -> None:
    """Multi-row INSERT in chunks (much faster than executemany in DuckDB); `skip_existing` leaves rows
    whose key is already stored as they are (ON CONFLICT DO NOTHING)."""
    placeholder = "(" + ", ".join("?" * len(columns)) + ")"
    conflict = " ON CONFLICT DO NOTHING" if skip_existing else ""
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        chunk = rows[start : start + _ROWS_PER_STATEMENT]
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES " + ", ".join([placeholder] * len(chunk))
        con.execute(sql + conflict, [value for row in chunk for value in row])


def _migrate(con: Connection) -> None:
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    )
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    current = int(row[0]) if row else 0
    if current > LATEST_VERSION:
        raise WarehouseVersionError(
            f"warehouse schema version {current} is newer than this newsmon ({LATEST_VERSION}): upgrade newsmon"
        )
    for version, name, sql in MIGRATIONS:
        if version <= current:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise


class Warehouse:
    """A DuckDB warehouse file. Sessions are short; `lock_wait_seconds` bounds waiting for another writer."""

    def __init__(self, path: Path, lock_wait_seconds: float = 120.0) -> None:
        self.path = path
        self.lock_wait_seconds = lock_wait_seconds

    def _connect(self, read_only: bool) -> Connection:
        deadline = time.monotonic() + self.lock_wait_seconds
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.IOException as exc:
                message = str(exc)
                if "lock" not in message.lower() or time.monotonic() > deadline:
                    raise WarehouseUnavailable(f"cannot open warehouse {self.path}: {message}") from exc
                time.sleep(0.2)

    @contextmanager
    def session(self, read_only: bool = False) -> Iterator[Connection]:
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.path.exists():
            raise WarehouseMissing(f"warehouse {self.path} does not exist yet: run `newsmon run` first")
        con = self._connect(read_only)
        try:
            if not read_only:
                _migrate(con)
            yield con
        finally:
            con.close()

    @contextmanager
    def reader(self) -> Iterator[Connection]:
        """A read-only connection on the current schema: pending migrations are applied first (a short
        write session), so tools reading an older file still find today's views."""
        if not self.path.exists():
            raise WarehouseMissing(f"warehouse {self.path} does not exist yet: run `newsmon run` first")
        with self.session():
            pass
        with self.session(read_only=True) as con:
            yield con

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """All or nothing. A write the disk refuses (full, read-only, file-size limit) is a WarehouseUnavailable
        that says so; the transaction is rolled back and nothing of it is in the file."""
        with self.session() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
                con.execute("COMMIT")
            except duckdb.Error as exc:
                _rollback_quietly(con)
                if not _is_storage_failure(exc):
                    raise
                raise WarehouseUnavailable(
                    f"cannot write warehouse {self.path} (disk full or read-only?): {exc}; "
                    "this batch was not stored and will be retried by the next pass"
                ) from exc
            except BaseException:
                _rollback_quietly(con)
                raise


def _is_storage_failure(exc: duckdb.Error) -> bool:
    """The disk refused a write (full, read-only, size limit), as opposed to a bug or a constraint."""
    if isinstance(exc, duckdb.IOException | duckdb.FatalException | duckdb.OutOfMemoryException):
        return True
    return isinstance(exc, duckdb.TransactionException) and "could not write" in str(exc).lower()


def _rollback_quietly(con: Connection) -> None:
    # A failed COMMIT has already ended the transaction, or the database was invalidated: nothing to undo.
    with contextlib.suppress(duckdb.Error):
        con.execute("ROLLBACK")
