"""Sitemap polling and feed discovery through the shared guarded client, against real loopback servers."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from core.records import HttpResponse
from core.settings import HttpPolicy
from flows.http import HttpFetcher
from flows.sources import discover_feeds, html_feed_hint, poll_sitemap
from tests.conftest import DATA

LOCAL = HttpPolicy(allow_hosts=("127.0.0.1",), retries=0, deadline_seconds=5, read_timeout=3)
SOURCES = DATA / "sources"
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'


def news_sitemap(*items: tuple[str, str, str]) -> bytes:
    urls = "".join(
        f"<url><loc>{loc}</loc><news:news><news:publication><news:name>Loopback Daily</news:name>"
        f"<news:language>ja</news:language></news:publication><news:publication_date>{date}</news:publication_date>"
        f"<news:title>{title}</news:title></news:news></url>"
        for loc, title, date in items
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset {NS}>{urls}</urlset>'.encode()


@pytest.fixture
def fetcher() -> Iterator[HttpFetcher]:
    with HttpFetcher(LOCAL) as client:
        yield client


def test_news_sitemap_poll_then_304_then_same_bytes(httpserver: HTTPServer, fetcher: HttpFetcher) -> None:
    body = news_sitemap(
        (httpserver.url_for("/a/1.html"), "一つ目", "2026-11-29T09:00:00+09:00"),
        (httpserver.url_for("/a/2.html"), "二つ目", "2026-11-30T09:00:00+09:00"),
    )
    httpserver.expect_request("/news.xml", headers={"If-None-Match": '"v1"'}).respond_with_data("", status=304)
    httpserver.expect_request("/news.xml").respond_with_data(body, headers={"ETag": '"v1"'}, content_type="text/xml")
    url = httpserver.url_for("/news.xml")
    poll, title, events = poll_sitemap(fetcher, url, "news", {}, 50, 3)
    assert poll.outcome == "ok" and title == "Loopback Daily" and events == ()
    assert [e.title for e in poll.entries] == ["二つ目", "一つ目"]  # newest first
    assert {e.language_hint for e in poll.entries} == {"ja"} and poll.etag == '"v1"'
    again, _, _ = poll_sitemap(fetcher, url, "news", {"etag": poll.etag, "body_hash": poll.body_hash}, 50, 3)
    assert again.outcome == "unchanged" and again.status == 304
    same, _, _ = poll_sitemap(fetcher, url, "news", {"body_hash": poll.body_hash}, 50, 3)
    assert same.outcome == "unchanged" and same.status == 200


def test_index_fans_out_within_budget_gzip_children_and_failures(httpserver: HTTPServer, fetcher: HttpFetcher) -> None:
    children = [(f"/s/{n}.xml.gz", f"2026-11-{20 + n:02d}") for n in range(4)]
    index = "".join(f"<sitemap><loc>{httpserver.url_for(p)}</loc><lastmod>{d}</lastmod></sitemap>" for p, d in children)
    httpserver.expect_request("/index.xml").respond_with_data(
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{index}</sitemapindex>'
    )
    for number, (path, date) in enumerate(children):
        page = (httpserver.url_for(f"/a/{number}.html"), f"item {number}", date)
        if number == 2:
            httpserver.expect_request(path).respond_with_data("gone", status=404)
        else:
            httpserver.expect_request(path).respond_with_data(gzip.compress(news_sitemap(page)))
    poll, _, events = poll_sitemap(fetcher, httpserver.url_for("/index.xml"), "idx", {}, 50, 3)
    assert poll.outcome == "ok"
    assert sorted(e.title for e in poll.entries) == ["item 1", "item 3"]  # newest 3 children; child 2 failed
    assert {e.outcome for e in events} == {"page_failed", "over_limit"}
    assert not any(r.path == "/s/0.xml.gz" for r, _ in httpserver.log)  # the oldest child is beyond the budget


def test_private_address_and_oversized_sitemaps_fail_cleanly(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/big.xml").respond_with_data(b"<urlset>" + b" " * 300_000 + b"</urlset>")
    with HttpFetcher(HttpPolicy(retries=0)) as guarded:
        refused, _, _ = poll_sitemap(guarded, httpserver.url_for("/news.xml"), "n", {}, 10, 1)
    assert refused.outcome == "failed" and refused.error_kind == "refused"
    with HttpFetcher(HttpPolicy(allow_hosts=("127.0.0.1",), retries=0, max_feed_bytes=100_000)) as small:
        big, _, _ = poll_sitemap(small, httpserver.url_for("/big.xml"), "n", {}, 10, 1)
    assert big.outcome == "failed" and "too large" in (big.error or "")


def test_an_html_page_is_not_a_sitemap(httpserver: HTTPServer, fetcher: HttpFetcher) -> None:
    httpserver.expect_request("/").respond_with_data("<!doctype html><html><body>home</body></html>")
    poll, _, _ = poll_sitemap(fetcher, httpserver.url_for("/"), "n", {}, 10, 1)
    assert poll.outcome == "failed" and poll.error_kind == "permanent" and "not a sitemap" in (poll.error or "")


def home_page(feed_paths: list[tuple[str, str]]) -> str:
    links = "".join(f'<link rel="alternate" type="{t}" href="{p}" title="T {p}">' for p, t in feed_paths)
    return f"<!doctype html><html><head><title>Site</title>{links}</head><body>hi</body></html>"


def test_discover_validates_advertised_feeds(httpserver: HTTPServer, fetcher: HttpFetcher) -> None:
    rss = (DATA / "feedparser" / "illformed" / "rss_item_link_corrupted_ampersands.xml").read_bytes()
    json_feed = (SOURCES / "jsonfeed" / "npr-technology.json").read_bytes()
    page = home_page(
        [
            ("/rss.xml", "application/rss+xml"),
            ("/feed.json", "application/feed+json"),
            ("/gone", "application/atom+xml"),
        ]
    )
    httpserver.expect_request("/").respond_with_data(page, content_type="text/html")
    httpserver.expect_request("/rss.xml").respond_with_data(rss, content_type="application/rss+xml")
    httpserver.expect_request("/feed.json").respond_with_data(json_feed, content_type="application/feed+json")
    httpserver.expect_request("/gone").respond_with_data("", status=404)
    found = discover_feeds(fetcher, httpserver.url_for("/"))
    by_url = {c.url.rsplit("/", 1)[1]: c for c in found}
    assert [c.origin for c in found] == ["link", "link", "link"]
    assert by_url["feed.json"].format == "json" and by_url["feed.json"].items == 25
    assert by_url["feed.json"].title == "Technology" and by_url["feed.json"].last_update is not None
    assert by_url["rss.xml"].format == "rss" and by_url["rss.xml"].error is None
    assert by_url["gone"].error == "HTTP 404"


def test_discover_falls_back_to_usual_paths_and_accepts_a_feed_or_sitemap(
    httpserver: HTTPServer, fetcher: HttpFetcher
) -> None:
    json_feed = (SOURCES / "jsonfeed" / "feedparser-example.json").read_bytes()
    httpserver.expect_request("/article/1").respond_with_data("<html><body>no links</body></html>")
    httpserver.expect_request("/feed.json").respond_with_data(json_feed)
    httpserver.expect_request("/feed").respond_with_data("", status=301, headers={"Location": "/feed.json"})
    httpserver.expect_request("/news.xml").respond_with_data(
        news_sitemap((httpserver.url_for("/a"), "t", "2026-11-30"))
    )
    (guessed,) = discover_feeds(fetcher, httpserver.url_for("/article/1"))
    assert (guessed.url, guessed.origin, guessed.items) == (httpserver.url_for("/feed.json"), "guess", 2)
    (itself,) = discover_feeds(fetcher, httpserver.url_for("/news.xml"))
    assert (itself.origin, itself.format, itself.items, itself.title) == ("self", "sitemap", 1, "Loopback Daily")


def test_html_hint_names_the_advertised_feed() -> None:
    page = home_page([("/feeds/all.xml", "application/atom+xml")]).encode()
    response = HttpResponse("http://site.example/", "http://site.example/", 200, (("Content-Type", "text/html"),), page)
    hint = html_feed_hint(response) or ""
    assert "advertises the feed http://site.example/feeds/all.xml" in hint
    assert html_feed_hint(HttpResponse("u", "u", 200, (), b"<html><body/></html>")) is None
