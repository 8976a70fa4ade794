"""Bad input: the whole feedparser conformance subset and every legacy-encoded CJK feed go through a real
pass without a crash; property tests on feed bytes, HTML bytes, URLs and text."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.records import Article, FeedEntry, LinkEvent
from extractors.article import TextLimits, build_article
from extractors.feeds import parse_feed
from extractors.pages import extract_page
from extractors.urls import canonical_url
from newsmon.demo import serve_site
from newsmon.flow import monitor_pass
from tests.conftest import DATA
from tests.helpers import open_lake, write_config

_HEADER = re.compile(rb"Content-type:\s*([^\r\n]+)", re.IGNORECASE)


@pytest.mark.integration
@pytest.mark.usefixtures("prefect_harness")
def test_every_conformance_and_legacy_feed_through_one_pass(tmp_path: Path) -> None:
    site = tmp_path / "site"
    files = sorted((DATA / "feedparser").rglob("*.xml")) + sorted((DATA / "chardet-cjk-feeds").glob("*/*.xml"))
    for number, path in enumerate(files):
        target = site / "feeds" / f"{number:03d}-{path.name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    with serve_site(site) as server:
        feeds = [
            {"url": f"{server.base_url}/feeds/{p.name}", "name": p.name} for p in sorted((site / "feeds").iterdir())
        ]
        # The corpus links to the real web: keep this test on loopback by storing feed text only.
        config = write_config(tmp_path, feeds, pipeline={"fetch_pages": False, "max_entries_per_feed": 50})
        summary = monitor_pass(str(config))
    assert summary["status"] == "completed"
    assert summary["feeds_ok"] + summary["feeds_failed"] == len(files)
    con = open_lake(tmp_path)
    stored, mojibake = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE text LIKE '%\ufffd%' OR title LIKE '%\ufffd%') FROM articles"
    ).fetchone() or (0, 0)
    languages = dict(con.execute("SELECT language, count(*) FROM articles GROUP BY 1").fetchall())
    con.close()
    assert stored > 1000 and mojibake == 0
    assert {"ja", "zh-tw", "zh-cn", "ko"} <= set(languages)


ENTRY = FeedEntry("https://ex.com/f", "https://ex.com/a", "https://ex.com/a", "t", "summary text", "", None, None, "s")


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=4000))
def test_html_bytes_never_raise_through_extraction(body: bytes) -> None:
    page = extract_page(body, "https://ex.com/a")
    result = build_article(ENTRY, page, datetime.now(UTC), TextLimits())
    assert isinstance(result, Article | LinkEvent)


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=2000).map(lambda t: f"<html><body><article><p>{t}</p></article></body></html>".encode()))
def test_html_text_never_raises_through_extraction(body: bytes) -> None:
    result = build_article(ENTRY, extract_page(body, "https://ex.com/a", "text/html"), datetime.now(UTC), TextLimits())
    assert isinstance(result, Article | LinkEvent)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_urls_either_canonicalise_or_raise_value_error(url: str) -> None:
    try:
        canonical = canonical_url(url)
    except ValueError:
        return
    assert canonical.startswith(("http://", "https://"))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=40), st.text(max_size=80), st.text(max_size=200)), max_size=5))
def test_generated_feeds_never_raise(items: list[tuple[str, str, str]]) -> None:
    from xml.sax.saxutils import escape

    body = (
        "<rss version='2.0'><channel><title>x</title>"
        + "".join(
            f"<item><title>{escape(t)}</title><link>{escape(link)}</link><description>{escape(d)}</description></item>"
            for t, link, d in items
        )
        + "</channel></rss>"
    )
    parsed, events = parse_feed(body.encode("utf-8", "surrogatepass"), "https://ex.com/f")
    assert len(parsed.entries) + len(events) <= len(items)
