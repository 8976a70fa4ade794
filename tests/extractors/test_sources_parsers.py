"""Sources parsers on real files: OPML exports, sitemaps (news extension, index, gzip), JSON Feed, discovery."""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.records import OpmlFeed
from extractors.discovery import advertised_feeds, sniff_format, usual_feed_urls
from extractors.jsonfeed import looks_like_json_feed, parse_json_feed
from extractors.opml import normalize_tag, parse_opml, write_opml
from extractors.sitemaps import SitemapTooLarge, inflate, parse_date, parse_sitemap, sitemap_entries
from extractors.urls import canonical_url
from tests.conftest import DATA

SOURCES = DATA / "sources"
OPML = SOURCES / "opml"
SITEMAPS = SOURCES / "sitemaps"
_XMLURL = re.compile(r'xmlUrl="([^"]*)"')


# --- OPML -------------------------------------------------------------------------------------------


def test_netnewswire_export_folders_become_tags_and_duplicates_are_counted() -> None:
    body = (OPML / "netnewswire-subs.opml").read_bytes()
    outlines = _XMLURL.findall(body.decode())
    result = parse_opml(body)
    assert result.error is None and result.title == "Subs"
    canonical = {canonical_url(url) for url in outlines}
    assert len(result.feeds) == len(canonical)  # one feed per distinct URL
    assert result.duplicates == len(outlines) - len(canonical) > 0  # e.g. katiefloyd with and without "/"
    by_url = {feed.url: feed for feed in result.feeds}
    assert by_url["http://feeds.feedburner.com/alistapart/main"].tags == ("programming",)
    assert by_url["http://whatever.scalzi.com/feed/"].tags == ("writers",)
    assert by_url["http://daringfireball.net/feeds/main"].tags == ()  # top level: no folder
    assert all(feed.title for feed in result.feeds)


def test_outliner_export_without_title_attributes_gives_the_same_list() -> None:
    with_titles = parse_opml((OPML / "netnewswire-subs.opml").read_bytes())
    text_only = parse_opml((OPML / "netnewswire-subs-no-title-attributes.opml").read_bytes())
    assert {f.url: f.tags for f in text_only.feeds} == {f.url: f.tags for f in with_titles.feeds}
    assert all(feed.title for feed in text_only.feeds)


@pytest.mark.parametrize(
    ("name", "tags"),
    [
        ("hier-2-nested.xml", ("grouping1", "grouping2")),
        ("hier-4-mixed.xml", ("tag", "grouping", "parent", "child")),
        ("cats-3-multiple.xml", ("root1", "node1", "root2", "node2")),
        ("tags-2-multiple.xml", ("tag1", "tag2")),
        ("duplication.xml", ("dupe",)),
    ],
)
def test_listparser_category_cases(name: str, tags: tuple[str, ...]) -> None:
    result = parse_opml((OPML / "listparser" / name).read_bytes())
    assert [set(feed.tags) for feed in result.feeds] == [set(tags)]


@pytest.mark.parametrize("name", ["outline_title-text_missing.xml", "outline_title-text_empty.xml"])
def test_missing_or_blank_text_falls_back_to_title(name: str) -> None:
    (feed,) = parse_opml((OPML / "listparser" / name).read_bytes()).feeds
    assert feed.title == "feedname"


def test_duplicate_outlines_and_empty_urls_and_entities() -> None:
    twice = parse_opml((OPML / "listparser" / "outline-duplication-1.xml").read_bytes())
    assert (len(twice.feeds), twice.duplicates) == (1, 1)  # listparser folds it; we still count it
    assert parse_opml((OPML / "listparser" / "outline_xmlUrl-empty.xml").read_bytes()).feeds == ()
    entities = parse_opml((OPML / "listparser" / "html-entity-attribute.xml").read_bytes()).feeds
    assert [f.title for f in entities] == ["archæology", "archæology"]


def test_non_http_feed_urls_are_skipped_with_a_reason() -> None:
    body = b'<opml version="2.0"><body><outline text="x" type="rss" xmlUrl="file:///etc/passwd"/></body></opml>'
    result = parse_opml(body)
    assert result.feeds == () and "not http or https" in result.skipped[0][1]


def test_not_opml_is_an_error_and_str_is_refused() -> None:
    assert parse_opml(b"<html><body>hello</body></html>").error is not None
    assert parse_opml(b"").error is not None
    with pytest.raises(TypeError):
        parse_opml("http://127.0.0.1:1/list.opml")  # type: ignore[arg-type]


def test_export_reads_back_with_tags_titles_and_kinds() -> None:
    original = parse_opml((OPML / "netnewswire-subs.opml").read_bytes()).feeds
    feeds = (*original, OpmlFeed("https://news.example/sitemap.xml", "News & <more>", ("cn-press", "ja"), "sitemap"))
    again = parse_opml(write_opml(feeds, "newsmon & co", datetime(2026, 11, 30, tzinfo=UTC)))
    assert again.error is None and again.title == "newsmon & co"
    assert {(f.url, f.title, f.tags, f.kind) for f in again.feeds} == {(f.url, f.title, f.tags, f.kind) for f in feeds}


_tag_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12)


@given(st.lists(st.tuples(st.integers(0, 50), st.lists(_tag_text, max_size=3)), max_size=12))
def test_export_then_import_keeps_every_feed(specs: list[tuple[int, list[str]]]) -> None:
    feeds: dict[str, OpmlFeed] = {}
    for number, tags in specs:
        url = f"https://site{number}.example/feed.xml"
        normalized = tuple(dict.fromkeys(t for t in (normalize_tag(x) for x in tags) if t))
        feeds.setdefault(url, OpmlFeed(url, f"Site {number}", normalized))
    again = parse_opml(write_opml(list(feeds.values()), "t"))
    assert {f.url: set(f.tags) for f in again.feeds} == {f.url: set(f.tags) for f in feeds.values()}


# --- Sitemaps ---------------------------------------------------------------------------------------


def test_google_news_sitemap_gives_title_date_language_publication() -> None:
    parsed = parse_sitemap((SITEMAPS / "google-news-example.xml").read_bytes(), "http://www.example.org/news.xml")
    assert parsed.error is None and parsed.kind == "urlset"
    (item,) = parsed.urls
    assert item.loc == "http://www.example.org/business/article55.html"
    assert item.title == "Companies A, B in Merger Talks"
    assert item.published_at == datetime(2008, 12, 23, tzinfo=UTC)
    assert (item.language, item.publication) == ("en", "The Example Times")
    (entry,), events = sitemap_entries(parsed, 10)
    assert (entry.title, entry.language_hint, entry.source, events) == (item.title, "en", "The Example Times", ())


def test_plain_and_gzip_sitemap_are_the_same_and_capped_newest_first() -> None:
    plain = parse_sitemap((SITEMAPS / "sitemap.xml").read_bytes(), "https://www.sitemaps.org/sitemap.xml")
    zipped = parse_sitemap((SITEMAPS / "sitemap.xml.gz").read_bytes(), "https://www.sitemaps.org/sitemap.xml.gz")
    locs = re.findall(r"<loc>([^<]+)</loc>", (SITEMAPS / "sitemap.xml").read_text())
    assert [u.loc for u in plain.urls] == [u.loc for u in zipped.urls] == locs
    entries, events = sitemap_entries(plain, 10)
    assert len(entries) == 10 and events[0].outcome == "over_limit"
    assert f"{len(locs) - 10} URLs" in events[0].reason


def test_sitemap_index_lists_children_newest_first_and_reads_cdata() -> None:
    parsed = parse_sitemap((SITEMAPS / "sitemap2.xml").read_bytes(), "http://www.example.com/sitemap_index.xml")
    assert parsed.kind == "index"
    assert parsed.children == ("http://www.example.com/sitemap2.xml.gz", "http://www.example.com/sitemap1.xml.gz")


def test_relative_and_unusable_locations() -> None:
    body = (
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>/a/1.html</loc></url>'
        b"<url><loc>javascript:alert(1)</loc></url><url></url></urlset>"
    )
    parsed = parse_sitemap(body, "https://news.example/sitemap.xml")
    assert [u.loc for u in parsed.urls] == ["https://news.example/a/1.html"] and parsed.dropped == 2


def test_entities_are_not_expanded() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://a.example/&x;</loc></url></urlset>'
    )
    parsed = parse_sitemap(body, "https://a.example/s.xml")
    assert all("root:" not in u.loc for u in parsed.urls)


def test_not_a_sitemap_and_gzip_bomb() -> None:
    assert "not a sitemap" in (parse_sitemap(b"<html><body/></html>", "http://a/s.xml").error or "")
    assert parse_sitemap(b"\x1f\x8bnot gzip", "http://a/s.xml").error is not None
    bomb = gzip.compress(b"<urlset>" + b" " * 2_000_000 + b"</urlset>")
    with pytest.raises(SitemapTooLarge):
        inflate(bomb, 100_000)
    assert "larger than" in (parse_sitemap(bomb, "http://a/s.xml.gz", max_bytes=100_000).error or "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-30", datetime(2026, 11, 30, tzinfo=UTC)),
        ("2026-11-30T08:15:00Z", datetime(2026, 11, 30, 8, 15, tzinfo=UTC)),
        ("2026-11-30T17:15:00+09:00", datetime(2026, 11, 30, 8, 15, tzinfo=UTC)),
        ("yesterday", None),
        ("", None),
    ],
)
def test_w3c_dates(text: str, expected: datetime | None) -> None:
    assert parse_date(text) == expected


@given(st.binary(max_size=300))
def test_sitemap_parser_never_raises(body: bytes) -> None:
    parsed = parse_sitemap(body, "https://a.example/s.xml")
    assert parsed.error is not None or parsed.kind in ("urlset", "index")


# --- JSON Feed --------------------------------------------------------------------------------------


def test_npr_json_feed_items_become_entries() -> None:
    body = (SOURCES / "jsonfeed" / "npr-technology.json").read_bytes()
    document = json.loads(body)
    parsed, events = parse_json_feed(body, "https://feeds.npr.org/1019/feed.json")
    assert looks_like_json_feed(body) and parsed.error is None and events == ()
    assert parsed.title == document["title"] and len(parsed.entries) == len(document["items"])
    first, item = parsed.entries[0], document["items"][0]
    assert first.link == item["url"] and first.title == item["title"]
    assert first.published_at == datetime.fromisoformat(item["date_published"])
    assert first.content and "<p>" not in first.content


def test_feedparser_example_json_feed() -> None:
    body = (SOURCES / "jsonfeed" / "feedparser-example.json").read_bytes()
    parsed, _ = parse_json_feed(body, "https://example.org/feed.json", max_entries=1)
    assert parsed.title == "My Example Feed" and [e.link for e in parsed.entries] == ["https://example.org/second-item"]
    assert parsed.entries[0].content == "This is a second item."


def test_json_feed_bad_documents_and_unusable_links() -> None:
    assert "not valid JSON" in (parse_json_feed(b"{", "https://a/f.json")[0].error or "")
    assert "jsonfeed.org" in (parse_json_feed(b'{"items": []}', "https://a/f.json")[0].error or "")
    body = json.dumps(
        {"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1", "url": "ftp://a/x"}, "junk"]}
    ).encode()
    parsed, events = parse_json_feed(body, "https://a/f.json")
    assert parsed.entries == () and events[0].outcome == "refused" and parsed.warning


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.sampled_from(["url", "id", "title", "date_published", "content_html", "language"]), _json))
def test_json_feed_items_of_any_shape_never_raise(item: dict[str, object]) -> None:
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": [item]}).encode()
    parsed, events = parse_json_feed(body, "https://a.example/feed.json")
    assert parsed.error is None and len(parsed.entries) + len(events) == 1


# --- Discovery --------------------------------------------------------------------------------------


def test_advertised_feeds_resolve_against_base_and_skip_others() -> None:
    page = b"""<!doctype html><html><head><base href="/news/">
    <link rel="alternate" type="application/rss+xml" title="All news" href="rss.xml">
    <link rel="alternate" type="application/feed+json" href="https://cdn.example/feed.json">
    <link rel="alternate" hreflang="ja" href="/ja/"><link rel="stylesheet" href="a.css">
    <link rel="alternate" type="application/atom+xml" href="javascript:void(0)"></head><body></body></html>"""
    links = advertised_feeds(page, "https://site.example/index.html")
    assert [(link.url, link.title, link.format) for link in links] == [
        ("https://site.example/news/rss.xml", "All news", "rss"),
        ("https://cdn.example/feed.json", "", "json"),
    ]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (SITEMAPS / "sitemap.xml", "sitemap"),
        (SITEMAPS / "sitemap.xml.gz", "sitemap"),
        (SITEMAPS / "sitemap2.xml", "sitemap-index"),
        (SOURCES / "jsonfeed" / "npr-technology.json", "json"),
        (DATA / "feedparser" / "illformed" / "rss_item_link_corrupted_ampersands.xml", "rss"),
    ],
)
def test_sniff_format(path: Path, expected: str) -> None:
    assert sniff_format(path.read_bytes()) == expected


def test_sniff_html_and_atom() -> None:
    assert sniff_format(b"<!-- hi -->\n<!DOCTYPE html><html></html>") == "html"
    assert sniff_format(b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"/>') == "atom"


def test_usual_paths_are_at_the_site_root() -> None:
    urls = [link.url for link in usual_feed_urls("https://site.example/a/b.html?x=1")]
    assert "https://site.example/feed" in urls and "https://site.example/feed.json" in urls
    assert all(url.startswith("https://site.example/") for url in urls)


@given(st.text(max_size=40))
def test_discovery_never_raises_on_odd_pages(title: str) -> None:
    page = f"<html><head><link rel=alternate type=application/rss+xml title={quoteattr(title)} href=f></head></html>"
    (link,) = advertised_feeds(page.encode(), "http://h.example/p")
    assert link.url == "http://h.example/f"
