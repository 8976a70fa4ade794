"""prefect.yaml for real: a Prefect server on 127.0.0.1, `prefect deploy --all`, a process worker that runs
a triggered deployment run which writes the warehouse."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsmon.demo import demo_feeds, serve_site
from tests.conftest import PROJECT_DIR
from tests.helpers import open_lake, write_config
from tests.helpers import prefect_server as running_prefect_server

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent


@pytest.fixture
def prefect_server(tmp_path: Path) -> Iterator[dict[str, str]]:
    with running_prefect_server(tmp_path / "prefect-home", tmp_path / "server.log") as env:
        yield env


def prefect(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    result = subprocess.run(
        [str(BIN / "prefect"), *args], env=env, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_deploy_all_and_a_worker_runs_a_triggered_pass(
    tmp_path: Path, prefect_server: dict[str, str], site_copy: Path
) -> None:
    with serve_site(site_copy) as site:
        config = write_config(tmp_path, demo_feeds(site.site, site.base_url))
        env = {**prefect_server, "NEWSMON_HOME": str(PROJECT_DIR), "NEWSMON_CONFIG": str(config)}
        prefect(env, "work-pool", "create", "newsmon", "--type", "process")
        deployed = prefect(env, "--no-prompt", "deploy", "--all")
        assert "newsmon-pass/daily" in deployed and "newsmon-pass/hourly" in deployed
        assert "newsmon-watch/watch" in deployed
        watch = prefect(env, "deployment", "inspect", "newsmon-watch/watch")
        assert "CANCEL_NEW" in watch and "newsmon/flow.py:watch" in watch
        assert "newsmon-maintain/maintain" in deployed
        listing = prefect(env, "deployment", "ls")
        assert "newsmon-pass/daily" in listing
        inspected = prefect(env, "deployment", "inspect", "newsmon-pass/daily")
        assert "15 6 * * *" in inspected and "Asia/Tokyo" in inspected
        run = prefect(env, "deployment", "run", "newsmon-pass/daily")
        assert "Created flow run" in run
        run_id = re.search(r"UUID:\s*([0-9a-f-]{36})", run)
        assert run_id, run
        worker_log = tmp_path / "worker.log"
        with worker_log.open("w") as output:
            worker = subprocess.run(
                [str(BIN / "prefect"), "worker", "start", "--pool", "newsmon", "--run-once"],
                env=env,
                cwd=tmp_path,
                stdout=output,
                stderr=subprocess.STDOUT,
                timeout=300,
            )
        assert worker.returncode == 0, worker_log.read_text()[-3000:]
    api = prefect_server["PREFECT_API_URL"]
    with urllib.request.urlopen(f"{api}/flow_runs/{run_id.group(1)}", timeout=10) as response:
        flow_run_state = json.load(response)["state"]["type"]
    assert flow_run_state == "COMPLETED", worker_log.read_text()[-3000:]
    con = open_lake(tmp_path)
    stored = con.execute("SELECT count(*) FROM articles").fetchone()
    flow_run = con.execute("SELECT flow_run_id, status FROM runs").fetchone()
    con.close()
    assert stored is not None and stored[0] >= 20
    assert flow_run == (run_id.group(1), "completed")
