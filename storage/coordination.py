"""Writers of one lake take turns to commit, and know which passes are still alive.

DuckLake has no PRIMARY KEY or UNIQUE constraints, so "a canonical URL is stored once" is the writers'
job: a writer holds the lake's write lock from before it reads which URLs are stored until after it has
committed (and updated its near-duplicate index). Commits are short (one batch), so writers interleave
instead of waiting for whole passes; readers never take the lock.

- SQLite catalog (one machine): an advisory file lock (`flock`) next to the catalog.
- PostgreSQL catalog (several machines): a PostgreSQL advisory lock in the catalog's database.

Both disappear with their process, so a writer killed with SIGKILL never leaves the lake locked. A pass
also holds a lock of its own while it runs, so the next pass can tell a killed pass ('running' in `runs`
but nobody holds its lock) from one that is running right now on this or another machine.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from core.errors import LockTimeout, WarehouseUnavailable
from core.settings import WarehouseSettings

_LOCK_CLASS = 0x6E6D  # ('nm', crc32(name)): the lake's named locks, e.g. 'writer'
_PASS_CLASS = 0x6E70  # ('np', crc32(run_id)): one per running pass
_POLL_SECONDS = 0.05


class Coordinator(Protocol):
    def hold(self, name: str) -> contextlib.AbstractContextManager[None]:
        """Exclusive, across processes (and machines, for PostgreSQL): `writer` is held around each write
        transaction and the index update after it; `delivery` around sending notifications."""

    def pass_running(self, run_id: str) -> contextlib.AbstractContextManager[None]:
        """Held for the whole of a pass: tells other writers this pass is alive."""

    def alive(self, run_ids: Iterable[str]) -> set[str]:
        """Which of these passes are still running (hold their pass lock)."""

    def close(self) -> None: ...


def coordinator_for(location: WarehouseSettings, wait_seconds: float, on_wait: Callable[[str], None]) -> Coordinator:
    if location.kind == "postgres":
        return PostgresCoordinator(location.catalog, wait_seconds, on_wait)
    return FileCoordinator(location.local_dir, wait_seconds, on_wait)


class FileCoordinator:
    """`flock` on files in the lake's folder (one machine)."""

    def __init__(self, folder: Path, wait_seconds: float, on_wait: Callable[[str], None]) -> None:
        self.folder = folder
        self.wait_seconds = wait_seconds
        self.on_wait = on_wait

    @contextmanager
    def hold(self, name: str) -> Iterator[None]:
        with self._flock(self.folder / f"{name}.lock", f"the warehouse's {name} lock", self.wait_seconds):
            yield

    @contextmanager
    def pass_running(self, run_id: str) -> Iterator[None]:
        path = self._pass_file(run_id)
        try:
            with self._flock(path, f"pass {run_id}", 0):
                yield
        finally:
            with contextlib.suppress(OSError):
                path.unlink()

    def alive(self, run_ids: Iterable[str]) -> set[str]:
        running: set[str] = set()
        for run_id in run_ids:
            try:
                fd = os.open(self._pass_file(run_id), os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                running.add(run_id)
            finally:
                os.close(fd)
        return running

    def close(self) -> None:
        pass

    def _pass_file(self, run_id: str) -> Path:
        return self.folder / "passes" / f"{run_id}.lock"

    @contextmanager
    def _flock(self, path: Path, what: str, wait_seconds: float) -> Iterator[None]:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _wait_for(lambda: _try_flock(fd), what, wait_seconds, self.on_wait)
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            yield
        finally:
            os.close(fd)  # closing releases the lock


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _wait_for(attempt: Callable[[], bool], what: str, wait_seconds: float, on_wait: Callable[[str], None]) -> None:
    deadline = time.monotonic() + wait_seconds
    announced = False
    while not attempt():
        if time.monotonic() >= deadline:
            raise LockTimeout(f"{what} was held by another newsmon process for more than {wait_seconds:g} s")
        if not announced and wait_seconds >= 5:
            on_wait(f"waiting for {what} (another newsmon process is writing)")
            announced = True
        time.sleep(_POLL_SECONDS)


class PostgresCoordinator:
    """PostgreSQL advisory locks in the catalog database (several machines). One session per process."""

    def __init__(self, dsn: str, wait_seconds: float, on_wait: Callable[[str], None]) -> None:
        import psycopg  # only PostgreSQL lakes need it

        self.wait_seconds = wait_seconds
        self.on_wait = on_wait
        try:
            self._con = psycopg.connect(dsn, autocommit=True, application_name="newsmon", connect_timeout=30)
        except psycopg.Error as exc:
            raise WarehouseUnavailable(f"cannot reach the PostgreSQL catalog '{dsn}' for its locks: {exc}") from exc
        # advisory locks are re-entrant per session: this process's threads take turns here first
        self._local: dict[str, threading.Lock] = {}

    def _try(self, key: tuple[int, int]) -> bool:
        row = self._con.execute("SELECT pg_try_advisory_lock(%s, %s)", key).fetchone()
        return bool(row and row[0])

    def _unlock(self, key: tuple[int, int]) -> None:
        self._con.execute("SELECT pg_advisory_unlock(%s, %s)", key)

    @contextmanager
    def hold(self, name: str) -> Iterator[None]:
        what = f"the warehouse's {name} lock"
        local = self._local.setdefault(name, threading.Lock())
        if not local.acquire(timeout=self.wait_seconds):
            raise LockTimeout(f"another thread held {what} for more than {self.wait_seconds:g} s")
        key = (_LOCK_CLASS, _number(name))
        try:
            _wait_for(lambda: self._try(key), what, self.wait_seconds, self.on_wait)
            try:
                yield
            finally:
                self._unlock(key)
        finally:
            local.release()

    @contextmanager
    def pass_running(self, run_id: str) -> Iterator[None]:
        key = (_PASS_CLASS, _number(run_id))
        if not self._try(key):
            raise LockTimeout(f"pass {run_id} is already running elsewhere")
        try:
            yield
        finally:
            self._unlock(key)

    def alive(self, run_ids: Iterable[str]) -> set[str]:
        numbers = {_number(r): r for r in run_ids}
        if not numbers:
            return set()
        rows = self._con.execute(
            "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND classid = %s "
            "AND granted",
            (_PASS_CLASS,),
        ).fetchall()
        return {numbers[int(row[0])] for row in rows if int(row[0]) in numbers}

    def close(self) -> None:
        self._con.close()


def _number(name: str) -> int:
    return zlib.crc32(name.encode()) & 0x7FFFFFFF
