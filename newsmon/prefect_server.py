"""Start Prefect's temporary local server early, so its start-up overlaps ours.

Without `PREFECT_API_URL`, Prefect starts a throw-away API server (a uvicorn subprocess) the first time a
flow needs it and waits for it: about 5 s here, after our own imports and config loading (about 2 s). This
module launches that same server command first thing — before anything heavy is imported — and hands the
running process to Prefect's `SubprocessASGIServer` singleton once Prefect is imported, so the two
start-ups run side by side on two cores. Prefect then uses, logs about and stops it as if it had started
it. When Prefect turns out to have an API URL after all (a profile), or the early server does not come up,
the early process is stopped and Prefect does what it always does. Only this module touches that
singleton's attributes (prefect is pinned; tests run `newsmon run` through it).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import http.client
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_HEALTH_TIMEOUT_SECONDS = 30.0
_PR_SET_PDEATHSIG = 1


@dataclass
class EarlyServer:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _die_with_parent() -> None:
    """In the server process before exec (Linux): SIGTERM when the pass process dies, even by SIGKILL —
    otherwise a killed pass leaves its temporary server running forever."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    """A loopback port nobody listens on (now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_early() -> EarlyServer | None:
    """The temporary server's process, started now; None when a Prefect API is configured in the
    environment or Prefect cannot be found."""
    ephemeral_disabled = os.environ.get("PREFECT_SERVER_EPHEMERAL_ENABLED", "").lower() in ("0", "false")
    if os.environ.get("PREFECT_API_URL") or ephemeral_disabled:
        return None
    spec = importlib.util.find_spec("prefect")
    if spec is None or spec.origin is None:
        return None
    port = free_port()
    # The command and environment Prefect's SubprocessASGIServer uses (prefect 3.8).
    command = [sys.executable, "-m", "uvicorn", "--app-dir", str(Path(spec.origin).parent.parent)]
    command += ["--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--log-level", "error", "--lifespan", "on"]
    env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
    preexec = _die_with_parent if sys.platform == "linux" else None
    process = subprocess.Popen(command, env=env, preexec_fn=preexec)  # noqa: S603 — fixed arguments
    server = EarlyServer(process, port)
    atexit.register(server.stop)
    return server


def _healthy(server: EarlyServer) -> bool:
    deadline = time.monotonic() + _HEALTH_TIMEOUT_SECONDS
    while time.monotonic() < deadline and server.process.poll() is None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=2)
        with contextlib.suppress(OSError, http.client.HTTPException):
            connection.request("GET", "/api/health")
            if connection.getresponse().status == 200:
                return True
        connection.close()
        time.sleep(0.05)
    return False


def hand_over(server: EarlyServer | None) -> None:
    """Give the early server to Prefect (call after importing Prefect, before the first flow run)."""
    if server is None:
        return
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value() or not _healthy(server):
        server.stop()  # Prefect has an API after all, or will start its own server as usual
        return
    prefect_server = SubprocessASGIServer()
    if prefect_server.running:
        server.stop()
        return
    prefect_server.port = server.port
    prefect_server.server_process = server.process
    prefect_server.running = True
    atexit.register(prefect_server.stop)


def wait_for(url: str, seconds: float) -> None:
    """Until `url` answers 200, at most `seconds`; TimeoutError after that."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own loopback URL
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {seconds} s")


@contextlib.contextmanager
def standalone_server(home: Path, log: Path | None = None) -> Iterator[dict[str, str]]:
    """A real `prefect server start` on loopback with its own PREFECT_HOME (tests, bench/); yields the
    environment that points Prefect commands and `newsmon run` at it."""
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
        server = subprocess.Popen(  # noqa: S603 - our own command line
            [*command, "--port", str(port)], env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_for(f"{env['PREFECT_API_URL']}/health", 120)
            yield env
        finally:
            server.terminate()
            server.wait(timeout=30)
