"""The real flow (Prefect, loopback HTTP, DuckDB file) over the demo site, end to end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from newsmon.demo import SiteServer, demo_feeds, serve_site
from newsmon.flow import monitor_pass
from tests import helpers
from tests.helpers import query

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]


@pytest.fixture
def site(site_copy: Path) -> Iterator[SiteServer]:
    with serve_site(site_copy) as server:
        yield server


def write_config(
    tmp_path: Path, server: SiteServer, extra_feeds: list[dict[str, str]] | None = None, batch_size: int = 100
) -> Path:
    feeds = [*demo_feeds(server.site, server.base_url), *(extra_feeds or [])]
    return helpers.write_config(tmp_path, feeds, pipeline={"batch_size": batch_size})


def page_fetches(server: SiteServer) -> int:
    return sum(1 for path in server.requested if path.startswith(("/articles/", "/missing/")))


def test_first_pass_stores_every_language_and_records_failures(tmp_path: Path, site: SiteServer) -> None:
    gone = {"url": f"{site.base_url}/nowhere/feed.xml", "name": "gone"}
    summary = monitor_pass(str(write_config(tmp_path, site, [gone])))
    assert summary["status"] == "completed"
    assert (summary["feeds_ok"], summary["feeds_failed"]) == (3, 2)
    assert summary["articles_new"] == 20 and summary["articles_duplicate"] == 3
    assert summary["links_refused"] == 1 and summary["pages_failed"] == 1
    languages = dict(query(tmp_path, "SELECT language, count(*) FROM articles GROUP BY 1"))
    assert languages == {"ja": 8, "zh-cn": 5, "zh-tw": 4, "en": 4, "ko": 2}
    sources = dict(query(tmp_path, "SELECT text_source, count(*) FROM articles GROUP BY 1"))
    assert sources == {"page": 21, "feed": 2}
    failing = dict(query(tmp_path, "SELECT name, last_error FROM feeds WHERE consecutive_failures > 0"))
    assert "HTML page" in failing["broken"] and failing["gone"] == "HTTP 404"
    refused = query(tmp_path, "SELECT url, outcome FROM link_events WHERE outcome = 'refused'")
    assert refused == [("http://[::1]:9/internal/admin", "refused")]
    assert query(tmp_path, "SELECT count(*) FROM seed_documents") == [(5,)]
    run = query(tmp_path, "SELECT status, articles_new, articles_duplicate, links_refused, feeds_failed FROM runs")
    assert run == [("completed", 20, 3, 1, 2)]
    republished = query(tmp_path, "SELECT url, duplicate_of FROM articles WHERE duplicate_of IS NOT NULL ORDER BY url")
    assert [(url.rsplit("/", 1)[1].split("?")[0], seed) for url, seed in republished] == [
        ("ja-seed-edited.html", "003_2ea41e9ab945de84"),
        ("ja-seed-excerpt.html", "000_2cd9d1cc6badb44b"),
        ("ja-seed-republish.html", "001_5950e2c367f42b74"),
    ]
    no_mojibake = query(tmp_path, "SELECT count(*) FROM articles WHERE text LIKE '%\ufffd%' OR title LIKE '%\ufffd%'")
    assert no_mojibake == [(0,)]
    big5 = query(tmp_path, "SELECT title FROM articles WHERE feed_url LIKE '%taiwan-ec%' ORDER BY title")
    assert ("淘寶台灣推出集運新服務 運費最高降三成",) in big5


def test_small_batches_store_the_same_as_one_batch(tmp_path: Path, site: SiteServer) -> None:
    """Batches are pipelined (the next one is fetched and extracted while the current one is stored): the
    result must not depend on where the batch boundaries fall."""
    rows = "SELECT url, language, text_source, platforms, topics, duplicate_of, md5(text) FROM articles ORDER BY url"
    events = "SELECT url, outcome, reason FROM link_events ORDER BY url, outcome"
    results = []
    for size in (100, 3):
        folder = tmp_path / f"batch-{size}"
        folder.mkdir()
        summary = monitor_pass(str(write_config(folder, site, batch_size=size)))
        assert summary["status"] == "completed" and summary["articles_new"] == 20
        results.append((query(folder, rows), query(folder, events), query(folder, "SELECT count(*) FROM runs")))
    assert results[0] == results[1]


def test_unchanged_second_pass_fetches_and_stores_nothing(tmp_path: Path, site: SiteServer) -> None:
    config = str(write_config(tmp_path, site))
    monitor_pass(config)
    fetched_before = page_fetches(site)
    second = monitor_pass(config, poll_all=True)
    assert second["feeds_unchanged"] == 3 and second["feeds_ok"] == 0
    assert second["articles_new"] == 0 and second["entries_seen"] == 0
    assert page_fetches(site) == fetched_before
    assert query(tmp_path, "SELECT count(*) FROM articles") == [(23,)]
    assert query(tmp_path, "SELECT count(*), count(DISTINCT canonical_url) FROM articles") == [(23, 23)]


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


def test_articles_and_seeds_are_classified_with_evidence(tmp_path: Path, site: SiteServer) -> None:
    monitor_pass(str(write_config(tmp_path, site)))
    row = query(tmp_path, "SELECT platforms, topics FROM articles WHERE url LIKE '%ja-pdd-price%'")
    assert row == [(["pinduoduo"], ["pricing"])]
    evidence = query(
        tmp_path,
        "SELECT DISTINCT m.alias FROM mentions m JOIN articles a USING (article_id) "
        "WHERE a.url LIKE '%zhtw-shopee%' AND m.platform = 'shopee'",
    )
    assert ("蝦皮購物",) in evidence
    # Sidebar teasers ("Amazonプライム感謝祭の売れ筋") are page chrome and must not count.
    assert query(
        tmp_path, "SELECT count(*) FROM articles WHERE language = 'ja' AND list_contains(platforms, 'amazon')"
    ) == [(0,)]
    seeds = dict(query(tmp_path, "SELECT seed_id, topics FROM seed_documents"))
    assert "organization" in seeds["004_3fe178a0cf4b7ece"] and "pricing" in seeds["000_2cd9d1cc6badb44b"]


def test_a_platform_added_in_the_config_takes_effect_on_the_next_run(tmp_path: Path, site: SiteServer) -> None:
    config_path = write_config(tmp_path, site)
    monitor_pass(str(config_path))
    assert query(tmp_path, "SELECT count(*) FROM seed_documents WHERE list_contains(platforms, 'xianyu')") == [(0,)]
    (tmp_path / "taxonomy.yaml").write_text(
        "platforms:\n  coupang:\n    label: Coupang\n    aliases: {en: [Coupang], ko: [쿠팡]}\n"
        "  xianyu:\n    aliases: {ja: [仙遊]}\n",
        encoding="utf-8",
    )
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config_path.write_text(
        yaml.safe_dump({**config, "taxonomy": "taxonomy.yaml"}, allow_unicode=True), encoding="utf-8"
    )
    (site.site / "feeds" / "asia-commerce.xml").write_text(
        (site.site / "feeds" / "asia-commerce.xml")
        .read_text(encoding="utf-8")
        .replace(
            "</channel>",
            "<item><title>쿠팡, 새벽배송 확대</title><link>{{BASE_URL}}/missing/coupang.html</link>"
            "<description>쿠팡이 새벽배송 지역을 전국으로 확대한다고 밝혔다. 물류센터도 늘린다.</description>"
            "</item></channel>",
        ),
        encoding="utf-8",
    )
    monitor_pass(str(config_path), poll_all=True)
    assert query(tmp_path, "SELECT platforms FROM articles WHERE url LIKE '%missing/coupang%'") == [(["coupang"],)]
    assert query(tmp_path, "SELECT seed_id FROM seed_documents WHERE list_contains(platforms, 'xianyu')") == [
        ("000_2cd9d1cc6badb44b",)
    ]
