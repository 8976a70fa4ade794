"""One writing pass per warehouse at a time: an advisory file lock next to the DuckDB file.

A second pass (a scheduled run meeting a manual one) waits, saying so, instead of crashing on DuckDB's
own single-writer lock; the lock disappears with the process, so a killed pass never leaves it stuck.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from core.errors import LockTimeout
from storage.connection import lock_path


@contextmanager
def pass_lock(warehouse: Path, wait_seconds: float, on_wait: Callable[[str], None]) -> Iterator[None]:
    lock_file = lock_path(warehouse)
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, lock_file, wait_seconds, on_wait)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _acquire(fd: int, lock_file: Path, wait_seconds: float, on_wait: Callable[[str], None]) -> None:
    deadline = time.monotonic() + wait_seconds
    announced = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if not announced:
                holder = lock_file.read_text(encoding="ascii", errors="replace").strip() or "?"
                on_wait(f"another newsmon pass (pid {holder}) is writing {lock_file.stem}; waiting for it to finish")
                announced = True
            if time.monotonic() > deadline:
                raise LockTimeout(
                    f"another newsmon pass held {lock_file} for more than {wait_seconds:g} s; try again later"
                ) from None
            time.sleep(0.25)
