"""The real flow (Prefect, loopback HTTP, DuckDB file) over the demo site, end to end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from flows.monitor import monitor_pass
from newsmon.demo import SiteServer, demo_feeds, serve_site

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]


@pytest.fixture
def site(site_copy: Path) -> Iterator[SiteServer]:
    with serve_site(site_copy) as server:
        yield server


def write_config(tmp_path: Path, server: SiteServer, extra_feeds: list[dict[str, str]] | None = None) -> Path:
    config = {
        "warehouse": str(tmp_path / "wh.duckdb"),
        "network": {"allow_hosts": ["127.0.0.1"], "retries": 0},
        "feeds": [*demo_feeds(server.site, server.base_url), *(extra_feeds or [])],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def query(tmp_path: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def page_fetches(server: SiteServer) -> int:
    return sum(1 for path in server.requested if path.startswith(("/articles/", "/missing/")))


def test_first_pass_stores_every_language_and_records_failures(tmp_path: Path, site: SiteServer) -> None:
    gone = {"url": f"{site.base_url}/nowhere/feed.xml", "name": "gone"}
    summary = monitor_pass(str(write_config(tmp_path, site, [gone])))
    assert summary["status"] == "completed"
    assert (summary["feeds_ok"], summary["feeds_failed"]) == (3, 2)
    assert summary["articles_new"] == 21 and summary["links_refused"] == 1 and summary["pages_failed"] == 1
    languages = dict(query(tmp_path, "SELECT language, count(*) FROM articles GROUP BY 1"))
    assert languages == {"ja": 6, "zh-cn": 5, "zh-tw": 4, "en": 4, "ko": 2}
    sources = dict(query(tmp_path, "SELECT text_source, count(*) FROM articles GROUP BY 1"))
    assert sources == {"page": 19, "feed": 2}
    failing = dict(query(tmp_path, "SELECT name, last_error FROM feeds WHERE consecutive_failures > 0"))
    assert "HTML page" in failing["broken"] and failing["gone"] == "HTTP 404"
    refused = query(tmp_path, "SELECT url, outcome FROM link_events WHERE outcome = 'refused'")
    assert refused == [("http://[::1]:9/internal/admin", "refused")]
    assert query(tmp_path, "SELECT count(*) FROM seed_documents") == [(5,)]
    run = query(tmp_path, "SELECT status, articles_new, links_refused, feeds_failed FROM runs")
    assert run == [("completed", 21, 1, 2)]
    no_mojibake = query(tmp_path, "SELECT count(*) FROM articles WHERE text LIKE '%\ufffd%' OR title LIKE '%\ufffd%'")
    assert no_mojibake == [(0,)]
    big5 = query(tmp_path, "SELECT title FROM articles WHERE feed_url LIKE '%taiwan-ec%' ORDER BY title")
    assert ("淘寶台灣推出集運新服務 運費最高降三成",) in big5


def test_unchanged_second_pass_fetches_and_stores_nothing(tmp_path: Path, site: SiteServer) -> None:
    config = str(write_config(tmp_path, site))
    monitor_pass(config)
    fetched_before = page_fetches(site)
    second = monitor_pass(config, poll_all=True)
    assert second["feeds_unchanged"] == 3 and second["feeds_ok"] == 0
    assert second["articles_new"] == 0 and second["entries_seen"] == 0
    assert page_fetches(site) == fetched_before
    assert query(tmp_path, "SELECT count(*) FROM articles") == [(21,)]
    assert query(tmp_path, "SELECT count(*), count(DISTINCT canonical_url) FROM articles") == [(21, 21)]


def test_changed_feed_fetches_only_the_new_entry(tmp_path: Path, site: SiteServer) -> None:
    config = str(write_config(tmp_path, site))
    monitor_pass(config)
    feed = site.site / "feeds" / "china-retail.atom"
    new_entry = (
        '<entry><title>拼多多发布新规</title><link rel="alternate" href="{{BASE_URL}}/articles/zhcn-new.html"/>'
        "<id>urn:new</id><updated>2026-11-19T00:00:00Z</updated><summary>拼多多发布商家新规，降低保证金。</summary></entry>"
    )
    feed.write_text(feed.read_text(encoding="utf-8").replace("</feed>", new_entry + "</feed>"), encoding="utf-8")
    (site.site / "articles" / "zhcn-new.html").write_text(
        "<html lang='zh-CN'><head><title>拼多多发布新规</title></head><body><article><h1>拼多多发布新规</h1>"
        + "<p>拼多多今天发布商家新规，大幅降低店铺保证金，并简化入驻流程。</p>" * 3
        + "</article></body></html>",
        encoding="utf-8",
    )
    before = page_fetches(site)
    second = monitor_pass(config, poll_all=True)
    assert (second["feeds_ok"], second["feeds_unchanged"]) == (1, 2)
    assert second["articles_new"] == 1 and second["entries_known"] == 5
    assert page_fetches(site) == before + 1
    row = query(tmp_path, "SELECT language, text_source FROM articles WHERE url LIKE '%zhcn-new%'")
    assert row == [("zh-cn", "page")]


def test_failing_feed_backs_off_and_is_not_due(tmp_path: Path, site: SiteServer) -> None:
    config = str(write_config(tmp_path, site))
    monitor_pass(config)
    second = monitor_pass(config)  # not --all: the broken feed is backing off, the good ones are due
    assert second["feeds_skipped"] >= 1
    row = query(tmp_path, "SELECT consecutive_failures, next_poll_at > now() FROM feeds WHERE name = 'broken'")
    assert row == [(2, True)]
