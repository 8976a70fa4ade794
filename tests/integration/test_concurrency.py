"""Two passes started together, and an analyst reading while a pass runs: nothing crashes or breaks."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from newsmon.demo import SiteServer, demo_feeds, serve_site
from tests import helpers

pytestmark = pytest.mark.integration


def write_config(tmp_path: Path, site: SiteServer, **network: object) -> Path:
    return helpers.write_config(tmp_path, demo_feeds(site.site, site.base_url), network)


def start_pass(config: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "newsmon.cli", "run", "--config", str(config), "--all"],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def test_two_passes_started_together_both_complete_one_after_the_other(tmp_path: Path, site_copy: Path) -> None:
    with serve_site(site_copy) as site:
        config = write_config(tmp_path, site)
        logs = [tmp_path / "first.log", tmp_path / "second.log"]
        passes = [start_pass(config, log) for log in logs]
        codes = [p.wait(timeout=300) for p in passes]
    texts = [log.read_text() for log in logs]
    assert codes == [0, 0], texts
    assert any("another newsmon pass" in text and "waiting" in text for text in texts)
    con = open_lake(tmp_path)
    runs = con.execute("SELECT status, articles_new + articles_duplicate FROM runs ORDER BY started_at").fetchall()
    counts = con.execute("SELECT count(*), count(DISTINCT canonical_url) FROM articles").fetchone()
    con.close()
    assert [status for status, _ in runs] == ["completed", "completed"]
    assert sorted(n for _, n in runs) == [0, 23] and counts == (23, 23)


def test_a_reader_gets_in_while_a_pass_runs(tmp_path: Path, site_copy: Path) -> None:
    with serve_site(site_copy) as site:
        # Slow enough to last a few seconds: one request per host at a time, 0.25 s apart.
        config = write_config(tmp_path, site, per_host_concurrency=1, per_host_min_interval=0.25)
        process = start_pass(config, tmp_path / "pass.log")
        reads: list[float] = []

        def read_repeatedly() -> None:
            while process.poll() is None:
                try:
                    con = open_lake(tmp_path)
                except (duckdb.IOException, duckdb.CatalogException):
                    time.sleep(0.05)
                    continue
                try:
                    con.execute("SELECT count(*) FROM runs").fetchone()
                    reads.append(time.monotonic())
                except duckdb.CatalogException:
                    pass  # schema not created yet
                finally:
                    con.close()
                time.sleep(0.1)

        reader = threading.Thread(target=read_repeatedly)
        reader.start()
        code = process.wait(timeout=300)
        reader.join()
    assert code == 0, (tmp_path / "pass.log").read_text()[-2000:]
    assert len(reads) >= 5, "the analyst never got a read-only connection while the pass ran"
