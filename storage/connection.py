"""The warehouse: a DuckLake (catalog + Parquet files) attached to DuckDB; migrations, transactions, locks.

Every write is one transaction taken under the writers' lock (storage.coordination), so check-then-insert
keeps canonical URLs unique although DuckLake has no UNIQUE constraint; every commit is a DuckLake
snapshot, and `Warehouse.last_snapshot` is the one this process's last commit made. Readers take no lock
and never block a writer. This package is the only place that imports duckdb; other layers use
`Connection` only as an opaque handle passed back in here.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from core.errors import WarehouseUnavailable, WarehouseVersionError
from core.settings import WarehouseSettings
from storage.coordination import Coordinator, coordinator_for
from storage.damage import corrupt, is_corruption, require_folder
from storage.lake import LAKE, attach
from storage.schema import LATEST_VERSION, MIGRATIONS

Connection = duckdb.DuckDBPyConnection
_ROWS_PER_STATEMENT = 200
LOCK_WAIT_SECONDS = 600.0


def index_path(warehouse: WarehouseSettings) -> Path:
    """The near-duplicate index of this machine (storage.lsh), derived from the lake."""
    return warehouse.index_path


def insert_rows(
    con: Connection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    unique_by: Sequence[str] = (),
) -> int:
    """Multi-row INSERT in chunks (much faster than executemany in DuckDB). With `unique_by` (key columns),
    rows whose key is stored already, or repeats an earlier row, are left out (a DuckLake has no UNIQUE
    constraint: the caller holds the writers' lock). Returns how many rows were inserted."""
    if unique_by:
        rows = _new_keys(con, table, columns, rows, unique_by)
    placeholder = "(" + ", ".join("?" * len(columns)) + ")"
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        chunk = rows[start : start + _ROWS_PER_STATEMENT]
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES " + ", ".join([placeholder] * len(chunk))
        con.execute(sql, [value for row in chunk for value in row])
    return len(rows)


def _new_keys(
    con: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], unique_by: Sequence[str]
) -> list[Sequence[Any]]:
    positions = [columns.index(name) for name in unique_by]
    firsts = sorted({row[positions[0]] for row in rows})
    stored = {
        tuple(r)
        for r in con.execute(
            f"SELECT {', '.join(unique_by)} FROM {table} WHERE {unique_by[0]} IN (SELECT unnest(?))", [firsts]
        ).fetchall()
    }
    fresh: list[Sequence[Any]] = []
    for row in rows:
        key = tuple(row[p] for p in positions)
        if key not in stored:
            stored.add(key)
            fresh.append(row)
    return fresh


def current_version(con: Connection) -> int:
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER NOT NULL, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    )
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return int(row[0]) if row else 0


def migrate(con: Connection, up_to: int = LATEST_VERSION) -> int:
    """Apply the migrations after the lake's version, up to `up_to`, one transaction each (the caller holds
    the writers' lock). Returns the version now."""
    current = current_version(con)
    if current > LATEST_VERSION:
        raise WarehouseVersionError(
            f"warehouse schema version {current} is newer than this newsmon ({LATEST_VERSION}): upgrade newsmon"
        )
    for version, name, sql in MIGRATIONS:
        if version <= current or version > up_to:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name])
            con.execute("COMMIT")
        except Exception:
            _rollback_quietly(con)
            raise
        current = version
    return current


def snapshot_id(con: Connection) -> int:
    """The lake's latest snapshot."""
    row = con.execute(f"SELECT id FROM {LAKE}.current_snapshot()").fetchone()
    return int(row[0]) if row else 0


class Warehouse:
    """The lake, attached once per process (a read-write connection; each session is a cursor of it).

    `lock_wait_seconds` bounds waiting for another writer's commit; `on_wait` hears when we wait."""

    def __init__(
        self,
        settings: WarehouseSettings | Path,
        lock_wait_seconds: float = LOCK_WAIT_SECONDS,
        on_wait: Callable[[str], None] = lambda _message: None,
    ) -> None:
        self.settings = settings if isinstance(settings, WarehouseSettings) else WarehouseSettings.embedded(settings)
        self.lock_wait_seconds = lock_wait_seconds
        self.on_wait = on_wait
        self.last_snapshot: int | None = None
        self._con: Connection | None = None
        self._coordinator: Coordinator | None = None
        self._guard = threading.Lock()
        self._held = threading.local()  # how deep this thread is in write_lock()

    @property
    def coordinator(self) -> Coordinator:
        with self._guard:
            if self._coordinator is None:
                require_folder(self.settings)  # the locks live in the lake folder: never create a mistyped tree
                self._coordinator = coordinator_for(self.settings, self.lock_wait_seconds, self.on_wait)
            return self._coordinator

    def _root(self) -> Connection:
        """The read-write connection, migrated to the current schema on first use."""
        with self._guard:
            if self._con is not None:
                return self._con
        con = attach(self.settings)
        try:
            with self.write_lock():  # two first writers must not both create the tables
                migrate(con)
        except BaseException:
            con.close()
            raise
        with self._guard:
            existing = self._attached()
            if existing is None:
                self._con = con
                return con
        con.close()  # another thread attached first
        return existing

    def _attached(self) -> Connection | None:
        return self._con

    @contextmanager
    def session(self, read_only: bool = False) -> Iterator[Connection]:
        """A connection for reads (and, inside `transaction`, writes). `read_only`: a separate read-only
        attachment that never creates or migrates the lake."""
        con = attach(self.settings, read_only=True) if read_only else self._root().cursor()
        try:
            con.execute(f"USE {LAKE}")
            yield con
        except duckdb.Error as exc:  # a damaged data file fails only when it is read
            if is_corruption(exc):
                raise corrupt(self.settings, exc) from exc
            raise
        finally:
            con.close()

    @contextmanager
    def reader(self) -> Iterator[Connection]:
        """A read-only connection on the current schema (pending migrations are applied first)."""
        opened_here = self._attached() is None
        self._root()
        if opened_here:
            self.close()  # a reader needs no read-write connection afterwards
        with self.session(read_only=True) as con:
            yield con

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """All or nothing, under the writers' lock; afterwards `last_snapshot` is the snapshot it made.
        A write the disk refuses (full, read-only) is a WarehouseUnavailable that says so; the transaction
        is rolled back and nothing of it is in the lake."""
        with self.write_lock(), self.session() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
                con.execute("COMMIT")
            except duckdb.Error as exc:
                _rollback_quietly(con)
                if is_corruption(exc):
                    raise corrupt(self.settings, exc) from exc
                if not _is_storage_failure(exc):
                    raise
                raise WarehouseUnavailable(
                    f"cannot write warehouse {self.settings.describe()} (disk full or read-only?): {exc}; "
                    "this batch was not stored and will be retried by the next pass"
                ) from exc
            except BaseException:
                _rollback_quietly(con)
                raise
            self.last_snapshot = snapshot_id(con)

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """The writers' lock, re-entrant in this thread: hold it around several transactions (and the index
        update after them) that must not interleave with another writer's commits."""
        depth = getattr(self._held, "depth", 0)
        if depth:
            self._held.depth = depth + 1
            try:
                yield
            finally:
                self._held.depth = depth
            return
        with self.coordinator.hold("writer"):
            self._held.depth = 1
            try:
                yield
            finally:
                self._held.depth = 0

    def exclusive(self, name: str) -> contextlib.AbstractContextManager[None]:
        """Another named lock of the lake, e.g. `delivery`: one process sends notifications at a time."""
        return self.coordinator.hold(name)

    def pass_running(self, run_id: str) -> contextlib.AbstractContextManager[None]:
        """Held for a whole pass: other writers see it alive (see `alive`)."""
        return self.coordinator.pass_running(run_id)

    def alive(self, run_ids: Iterable[str]) -> set[str]:
        """Which of these passes are running now, on this machine or (PostgreSQL catalog) another."""
        return self.coordinator.alive(run_ids)

    def close(self) -> None:
        with self._guard:
            con, self._con = self._con, None
            coordinator, self._coordinator = self._coordinator, None
        if con is not None:
            con.close()
        if coordinator is not None:
            coordinator.close()


def _is_storage_failure(exc: duckdb.Error) -> bool:
    """The disk refused a write (full, read-only, size limit), as opposed to a bug or a constraint."""
    if isinstance(exc, duckdb.IOException | duckdb.FatalException | duckdb.OutOfMemoryException):
        return True
    return isinstance(exc, duckdb.TransactionException) and "could not write" in str(exc).lower()


def _rollback_quietly(con: Connection) -> None:
    # A failed COMMIT has already ended the transaction, or the database was invalidated: nothing to undo.
    with contextlib.suppress(duckdb.Error):
        con.execute("ROLLBACK")
