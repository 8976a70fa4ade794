"""A real pass over the hard cases: press-wire entries without links, headline-only briefs and a short
zh-tw report (tests/data/hard-cases), served on 127.0.0.1; every entry ends as an article or an event."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsmon.demo import SiteServer, serve_site
from newsmon.flow import monitor_pass
from tests import helpers
from tests.conftest import DATA
from tests.helpers import query

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]
HARD = DATA / "hard-cases"


def _page_feed(pages: list[tuple[str, str]]) -> str:
    items = "".join(
        f"<item><title>{title}</title><link>{{{{BASE_URL}}}}/articles/{name}</link></item>" for name, title in pages
    )
    head = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Briefs</title>'
    return f"{head}{items}</channel></rss>"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[SiteServer]:
    root = tmp_path / "site"
    (root / "feeds").mkdir(parents=True)
    (root / "articles").mkdir()
    shutil.copy(HARD / "linkless-wire.atom", root / "feeds" / "wire.atom")
    shutil.copy(HARD / "linkless-press.rss", root / "feeds" / "press.xml")
    pages = [("zh-tw-short-paragraphs.html", "蝦皮明年調漲成交手續費 賣家喊吃不消")]
    shutil.copy(HARD / "zh-tw-short-paragraphs.html", root / "articles")
    for path in sorted((HARD / "briefs").glob("*.html")):
        shutil.copy(path, root / "articles")
        pages.append((path.name, ""))
    (root / "feeds" / "briefs.xml").write_text(_page_feed(pages), encoding="utf-8")
    with serve_site(root) as server:
        yield server


def test_linkless_entries_briefs_and_short_pages_are_all_stored_or_counted(tmp_path: Path, site: SiteServer) -> None:
    feeds = [{"url": f"{site.base_url}/feeds/{name}"} for name in ("wire.atom", "press.xml", "briefs.xml")]
    summary = monitor_pass(str(helpers.write_config(tmp_path, feeds)))
    assert summary["status"] == "completed"
    # wire: 4 distinct ids (one listed twice) + 1 linked entry; press: guid, text (twice), linked (and a
    # javascript: link, refused at parsing);
    # briefs: 8 briefs + the zh-tw report.
    linkless = query(tmp_path, "SELECT url, text_source FROM articles WHERE url NOT LIKE 'http%' ORDER BY url")
    assert [url.split(":", 2)[:2] for url, _ in linkless] == [
        ["tag", "wire.example.cn,2026-11-28"],
        ["urn", "newsmon"],
        ["urn", "newsmon"],
        ["urn", "uuid"],
        ["urn", "uuid"],
    ]
    assert {source for _, source in linkless} == {"feed"}
    assert query(tmp_path, "SELECT count(*) FROM link_events WHERE outcome = 'lost'") == [(0,)]
    events = query(tmp_path, "SELECT outcome, count(*) FROM link_events GROUP BY 1")
    stored = query(tmp_path, "SELECT count(*) FROM articles")[0][0]
    # 5 link-less + 2 linked (wire, press; their pages are 404: stored from the feed) + 9 pages
    assert stored == 16 and summary["entries_seen"] == 18 and summary["entries_known"] == 2
    assert dict(events) == {"refused": 1, "page_failed": 2}  # javascript: link; the two 404 pages
    report = query(tmp_path, "SELECT text_source, language FROM articles WHERE url LIKE '%zh-tw-short%'")
    assert report == [("page", "zh-tw")]
    briefs = query(tmp_path, "SELECT count(*) FROM articles WHERE url LIKE '%/articles/%' AND text = title")
    assert briefs == [(8,)]
    assert query(tmp_path, "SELECT count(*) FROM articles WHERE duplicate_of IS NOT NULL") == [(0,)]
