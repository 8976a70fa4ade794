"""What many tests (and bench/) need the same way: a config for a loopback pass, a read-only query, a free
port, a real Prefect server."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import yaml

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


def free_port() -> int:
    """A loopback port nobody listens on (now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {seconds} s")


@contextlib.contextmanager
def prefect_server(home: Path, log: Path | None = None) -> Iterator[dict[str, str]]:
    """A real `prefect server start` on loopback with its own PREFECT_HOME; yields the environment that
    points Prefect commands and `newsmon run` at it."""
    port = free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_API_PORT": str(port),
    }
    command = [str(Path(sys.executable).parent / "prefect"), "server", "start", "--host", "127.0.0.1"]
    with contextlib.ExitStack() as stack:
        output = stack.enter_context(log.open("w")) if log else subprocess.DEVNULL
        server = subprocess.Popen(
            [*command, "--port", str(port)], env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_for(f"{env['PREFECT_API_URL']}/health", 120)
            yield env
        finally:
            server.terminate()
            server.wait(timeout=30)
