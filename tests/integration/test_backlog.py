"""`max_entries_per_feed` is a per-pass budget, not a cut (class 11 of issue 16): a feed with more new
entries than the budget gets its newest entries stored first and the rest in the following passes, even
though the feed itself does not change (its ETag and body hash are not saved while a backlog remains)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from newsmon.demo import serve_site
from newsmon.flow import monitor_pass
from tests.helpers import query, write_config

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]
ENTRIES, BUDGET = 25, 10
START = datetime(2026, 11, 1, tzinfo=UTC)


def _feed() -> bytes:
    """Entries in a shuffled date order, so 'newest first' is not just document order."""
    order = [(n * 7) % ENTRIES for n in range(ENTRIES)]
    items = "".join(
        f"<item><title>Entry {n}</title><link>https://ex.example/{n}</link>"
        f"<pubDate>{format_datetime(START + timedelta(hours=n))}</pubDate>"
        f"<description>Entry number {n} has enough feed text to be stored as an article.</description></item>"
        for n in order
    )
    return f"<rss version='2.0'><channel><title>big</title>{items}</channel></rss>".encode()


def test_entries_over_the_budget_are_stored_by_later_passes_newest_first(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "feeds").mkdir(parents=True)
    (site / "feeds" / "big.xml").write_bytes(_feed())
    stored: list[set[int]] = []
    with serve_site(site) as server:
        feeds = [{"url": f"{server.base_url}/feeds/big.xml", "name": "big"}]
        config = write_config(tmp_path, feeds, pipeline={"fetch_pages": False, "max_entries_per_feed": BUDGET})
        for _ in range(4):
            summary = monitor_pass(str(config), poll_all=True)
            assert summary["status"] == "completed" and summary["entries_dropped"] == 0
            urls = query(tmp_path, "SELECT url FROM articles")
            stored.append({int(url.rsplit("/", 1)[1]) for (url,) in urls})
    newest = list(range(ENTRIES - 1, -1, -1))
    assert stored[0] == set(newest[:BUDGET]), "the first pass stores the newest entries"
    assert stored[1] == set(newest[: 2 * BUDGET])
    assert stored[2] == stored[3] == set(range(ENTRIES)), "nothing is dropped; then the feed is unchanged"
    deferred = query(tmp_path, "SELECT count(*) FROM link_events WHERE outcome = 'over_limit'")
    assert deferred == [(2,)]
