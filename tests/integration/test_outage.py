"""A pass where no feed at all could be read (class 12 of issue 16) is a failure that cron and Prefect can
see: `newsmon run` exits 3 (documented), the flow run ends Failed and the `runs` row says failed. A partial
failure (some feeds read) still exits 0."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import NoFeedRead
from newsmon.demo import serve_site
from newsmon.flow import monitor_pass
from tests.conftest import CLI_PASSES
from tests.helpers import free_port, query, write_config

pytestmark = pytest.mark.integration
EXIT_NO_FEED_READ = 3


def _dead_feeds(count: int) -> list[dict[str, str]]:
    return [{"url": f"http://127.0.0.1:{free_port()}/feed{n}.xml", "name": f"dead {n}"} for n in range(count)]


def _newsmon_run(config: Path) -> subprocess.CompletedProcess[str]:
    newsmon = Path(sys.executable).parent / "newsmon"
    return subprocess.run(
        [str(newsmon), "run", "--config", str(config)], capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.usefixtures("prefect_harness")
def test_the_flow_run_fails_when_no_feed_could_be_read(tmp_path: Path) -> None:
    config = write_config(tmp_path, _dead_feeds(2))
    state = monitor_pass(str(config), return_state=True)
    assert state.is_failed()
    with pytest.raises(NoFeedRead):
        state.result()
    assert query(tmp_path, "SELECT status, feeds_failed, error FROM runs")[0][:2] == ("failed", 2)


@CLI_PASSES
def test_newsmon_run_exits_3_on_a_total_outage_and_0_on_a_partial_one(tmp_path: Path, site_copy: Path) -> None:
    outage = tmp_path / "outage"
    outage.mkdir()
    result = _newsmon_run(write_config(outage, _dead_feeds(2)))
    assert result.returncode == EXIT_NO_FEED_READ, result.stderr[-2000:]
    assert "no feed could be read" in result.stderr and "Traceback" not in result.stderr
    assert "2 failed" in result.stdout  # the summary is still printed
    partial = tmp_path / "partial"
    partial.mkdir()
    with serve_site(site_copy) as server:
        feeds = [{"url": f"{server.base_url}/feeds/asia-commerce.xml", "name": "good"}, *_dead_feeds(1)]
        result = _newsmon_run(write_config(partial, feeds, pipeline={"fetch_pages": False}))
    assert result.returncode == 0, result.stderr[-2000:]
