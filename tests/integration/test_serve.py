"""`newsmon serve`: refuses clearly without a Prefect server; with one, stops within seconds on SIGTERM,
quietly (a real server, a real `newsmon serve` process, a real signal)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import free_port, prefect_server, write_config

pytestmark = pytest.mark.integration
SERVE = [sys.executable, "-m", "newsmon.cli", "serve"]


def _env_without_server(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    return {**env, "PREFECT_HOME": str(home)}


def test_refuses_without_a_server(tmp_path: Path) -> None:
    config = write_config(tmp_path, [])
    started = time.monotonic()
    result = subprocess.run(
        [*SERVE, "--config", str(config)], env=_env_without_server(tmp_path / "prefect"),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert "prefect server start" in result.stderr and "PREFECT_API_URL" in result.stderr
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < 60


def test_refuses_when_the_server_does_not_answer(tmp_path: Path) -> None:
    config = write_config(tmp_path, [])
    env = {**_env_without_server(tmp_path / "prefect"), "PREFECT_API_URL": f"http://127.0.0.1:{free_port()}/api"}
    result = subprocess.run([*SERVE, "--config", str(config)], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "no Prefect server answers" in result.stderr


def _deployment_exists(api: str, name: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api}/deployments/name/newsmon-pass/{name}", timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def test_stops_within_seconds_on_sigterm_quietly(tmp_path: Path) -> None:
    config = write_config(tmp_path, [])
    with prefect_server(tmp_path / "prefect", tmp_path / "server.log") as env:
        log = (tmp_path / "serve.log").open("w+")
        serving = subprocess.Popen(
            [*SERVE, "--config", str(config), "--name", "serve-test"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 120
            while not _deployment_exists(env["PREFECT_API_URL"], "serve-test"):
                assert serving.poll() is None, (tmp_path / "serve.log").read_text()
                assert time.monotonic() < deadline, "the deployment was never registered"
                time.sleep(0.5)
            time.sleep(2)  # the runner is polling now
            sent = time.monotonic()
            serving.send_signal(signal.SIGTERM)
            code = serving.wait(timeout=60)
            took = time.monotonic() - sent
        finally:
            if serving.poll() is None:
                serving.kill()
                serving.wait()
            log.close()
    output = (tmp_path / "serve.log").read_text()
    assert code == 0, output
    assert took < 10, f"took {took:.1f} s to stop"
    assert "never awaited" not in output and "Traceback" not in output, output
