"""A real PostgreSQL server for tests: initdb + pg_ctl on a free loopback port in a temporary folder.

Skips (with the reason) only when the PostgreSQL server binaries are not installed; `.ci/run` installs
them with apt where it runs as root. As root, the server runs as the `postgres` user (initdb refuses root).
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import free_port

_counter = itertools.count()


def _bindir() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def _as_server_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and there is no 'postgres' user to run the PostgreSQL server as")
    return ["runuser", "-u", "postgres", "--"]


class PostgresServer:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host={self.host} port={self.port} user=postgres dbname={dbname}"

    def new_database(self) -> str:
        """A fresh database (one lake per test); returns its libpq connection string."""
        import psycopg

        name = f"lake_{os.getpid()}_{next(_counter)}"
        with psycopg.connect(self.dsn(), autocommit=True) as con:
            con.execute(f"CREATE DATABASE {name}")
        return self.dsn(name)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bindir = _bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed: apt-get install postgresql")
    prefix = _as_server_user()
    folder = Path(tempfile.mkdtemp(prefix="newsmon-pg-"))
    if prefix:
        shutil.chown(folder, "postgres")
    data = folder / "data"
    port = free_port()
    run = [*prefix, str(bindir / "pg_ctl"), "-D", str(data)]
    subprocess.run(
        [*prefix, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*run, "-o", options, "-l", str(folder / "log"), "-w", "start"], check=True, capture_output=True)
    try:
        yield PostgresServer("127.0.0.1", port)
    finally:
        subprocess.run([*run, "-m", "immediate", "stop"], check=False, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
