"""The report page on its own (pure rendering): empty warehouses, escaping, links only to web addresses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import lxml.html

from core.views import FeedHealthRow, StoryItem, StoryRow, WindowTotals
from newsmon.display import display_zone
from newsmon.report import ReportData, render

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _data(**parts: object) -> ReportData:
    empty: dict[str, object] = {
        "platform_days": [], "language_days": [], "topic_mix": [], "trends": [], "stories": [], "volumes": [],
        "runs": [], "health": [], "alerts": [],
    }  # fmt: skip
    fields = {**empty, **parts}
    return ReportData(
        days=30, since=NOW - timedelta(days=30), generated=NOW, zone=display_zone("Asia/Tokyo"),
        totals=WindowTotals(0, 0, 0, 0, 0), **fields,  # type: ignore[arg-type]
    )  # fmt: skip


def test_an_empty_warehouse_renders_every_section() -> None:
    page = lxml.html.fromstring(render(_data()))
    ids = [s.get("id") for s in page.xpath("//section")]
    assert ids == ["stories", "platforms", "trends", "topics", "languages", "volumes", "runs", "health", "alerts"]
    assert page.xpath("//p[@data-table='runs']")[0].text_content() == "No runs yet."
    assert "JST" in page.xpath("//p[@class='lede']")[0].text_content()


def test_titles_are_escaped_and_only_web_addresses_are_links() -> None:
    items = (
        StoryItem("a", "javascript:alert(1)", "<b>site</b>", "<script>x</script>", NOW),
        StoryItem("b", "https://news.example/b", "Copy site", "copy", NOW),
    )
    story = StoryRow("a", "<script>x</script>", False, 2, NOW, NOW, items)
    health = FeedHealthRow("feed <1>", "https://f.example/rss", "dead", 7, NOW, None, NOW, 404, "HTTP 404", None, 0)
    html = render(_data(stories=[story], health=[health]))
    page = lxml.html.fromstring(html)
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert [a.get("href") for a in page.xpath("//table[@data-table='stories']//a")] == ["https://news.example/b"]
    assert page.xpath("//table[@data-table='health']//span[@class='bad']")[0].text_content() == "dead"
