"""A pass SIGKILLed at chosen points leaves the warehouse consistent; the next pass finishes the work with
no duplicate rows and no lost or doubled notifications."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from newsmon.demo import SiteServer, WebhookReceiver, demo_feeds, running, serve_site
from newsmon.flow import monitor_pass
from tests import helpers
from tests.conftest import CLI_PASSES

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness"), CLI_PASSES]
ENTRIES = 23


def write_config(tmp_path: Path, site: SiteServer, hook: str, **network: object) -> Path:
    rule = {"name": "pdd", "platforms": ["pinduoduo", "temu"], "notify": [hook]}
    return helpers.write_config(tmp_path, demo_feeds(site.site, site.base_url), network, alerts=[rule])


def start(config: Path, log: Path, fault: str | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, **({"NEWSMON_FAULT_POINT": fault} if fault else {})}
    return subprocess.Popen(
        [sys.executable, "-m", "newsmon.cli", "run", "--config", str(config)],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(child) for child in (task / "children").read_text().split())
    return found


def all_gone(pids: set[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{pid}").exists() for pid in pids):
            return True
        time.sleep(0.2)
    return False


def check_consistent_after_recovery(tmp_path: Path, config: Path, receiver: WebhookReceiver) -> None:
    summary = monitor_pass(str(config), poll_all=True)
    assert summary["status"] == "completed"
    con = helpers.open_lake(tmp_path)
    try:
        counts = con.execute(
            "SELECT count(*), count(DISTINCT canonical_url), count(DISTINCT seq) FROM articles"
        ).fetchone()
        matched = con.execute(
            "SELECT count(*) FROM articles "
            "WHERE duplicate_of IS NULL AND list_has_any(platforms, ['pinduoduo', 'temu'])"
        ).fetchone()
        outbox = con.execute("SELECT status, count(*) FROM notifications GROUP BY ALL").fetchall()
        statuses = [s for (s,) in con.execute("SELECT status FROM runs ORDER BY started_at").fetchall()]
        storyless, stories = con.execute(
            "SELECT count(*) FILTER (story_id IS NULL), count(DISTINCT story_id) FROM articles"
        ).fetchone() or (None, None)
        story_rows = con.execute("SELECT sum(article_count), count(*) FROM stories").fetchone()
    finally:
        con.close()
    assert counts == (ENTRIES, ENTRIES, ENTRIES)
    assert storyless == 0 and story_rows == (ENTRIES, stories), "every article in a story, stories in step"
    assert matched is not None and outbox == [("sent", matched[0])]
    listed = [line for m in receiver.received for line in str(m["message"]).splitlines() if line.startswith("• ")]
    assert len(listed) == matched[0], "each matching article is notified exactly once"
    assert statuses[-1] == "completed" and "running" not in statuses


@pytest.mark.parametrize("fault", ["in-store-transaction", "after-store", "before-delivery"])
def test_killed_at_a_fault_point(tmp_path: Path, site_copy: Path, fault: str) -> None:
    receiver = WebhookReceiver()
    with serve_site(site_copy) as site, running(receiver):
        config = write_config(tmp_path, site, receiver.apprise_url)
        killed = start(config, tmp_path / "killed.log", fault)
        assert killed.wait(timeout=300) == -signal.SIGKILL, (tmp_path / "killed.log").read_text()[-2000:]
        assert receiver.received == []
        check_consistent_after_recovery(tmp_path, config, receiver)


def test_killed_while_fetching_pages(tmp_path: Path, site_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREFECT_API_URL")  # no server configured: the pass starts Prefect's temporary server
    receiver = WebhookReceiver()
    with serve_site(site_copy) as site, running(receiver):
        config = write_config(tmp_path, site, receiver.apprise_url, per_host_concurrency=1, per_host_min_interval=0.3)
        log = tmp_path / "killed.log"
        process = start(config, log)
        deadline = time.monotonic() + 120
        while "to fetch (" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # pages are fetched one per 0.3 s from here: the kill lands mid-fetch
        helpers = children(process.pid)  # Prefect's temporary server, the extraction fork server
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=60) == -signal.SIGKILL
        assert helpers and all_gone(helpers, timeout=20), "a killed pass must not leave processes behind"
        site_requests = len(site.requested)
        check_consistent_after_recovery(tmp_path, config, receiver)
        assert len(site.requested) > site_requests


# A writer like the pass: batch after batch, under the writers' lock, insert the keys not stored yet.
COMMIT_LOOP = """
import sys
from pathlib import Path
from storage.warehouse import Warehouse
from storage.connection import insert_rows
store = Warehouse(Path(sys.argv[1]))
for batch in range(int(sys.argv[2])):
    rows = [(f"b{batch:03d}-{i:03d}", f"https://ex.com/{batch}/{i}") for i in range(100)]
    with store.transaction() as con:
        known = con.execute("SELECT url FROM link_events WHERE run_id = ?", [f"b{batch:03d}"]).fetchall()
        stored = {r[0] for r in known}
        fresh = [(f"b{batch:03d}", "f", url, "refused", key, "2026-11-20") for key, url in rows if url not in stored]
        insert_rows(con, "link_events", ("run_id", "feed_url", "url", "outcome", "reason", "recorded_at"), fresh)
    print(batch, flush=True)
"""


def test_writer_killed_mid_commit_leaves_whole_batches_and_the_rerun_completes(tmp_path: Path) -> None:
    """SIGKILL at arbitrary moments of a commit loop (many land inside a commit): the lake opens, every
    batch is all there or not at all, and a rerun stores the rest with no duplicates."""
    import random

    lake = str(tmp_path / "wh")
    rng = random.Random(14)
    for _ in range(3):
        writer = subprocess.Popen([sys.executable, "-c", COMMIT_LOOP, lake, "40"], stdout=subprocess.PIPE, text=True)
        assert writer.stdout is not None
        writer.stdout.readline()  # first commit done: the lake exists, commits are under way
        time.sleep(rng.uniform(0.05, 0.6))
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=60)
        con = helpers.open_lake(tmp_path)
        sizes = con.execute("SELECT run_id, count(*), count(DISTINCT url) FROM link_events GROUP BY ALL").fetchall()
        con.close()
        assert all(n == 100 and distinct == 100 for _, n, distinct in sizes), sizes
    rerun = subprocess.run([sys.executable, "-c", COMMIT_LOOP, lake, "40"], capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert helpers.query(tmp_path, "SELECT count(*), count(DISTINCT url) FROM link_events") == [(4000, 4000)]
