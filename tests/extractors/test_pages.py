"""Article extraction on real pages (trafilatura's own expectations) and on the demo site's markup."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml

from core.records import Article, FeedEntry
from extractors.article import TextLimits, build_article
from extractors.clean import clean_text
from extractors.pages import extract_page
from newsmon.resources import sample_site_dir
from tests.conftest import DATA

EXPECTATIONS: dict[str, dict[str, Any]] = yaml.safe_load(
    (DATA / "trafilatura" / "expectations.yaml").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("name", sorted(EXPECTATIONS))
def test_trafilatura_eval_page(name: str) -> None:
    expected = EXPECTATIONS[name]
    page = extract_page((DATA / "trafilatura" / name).read_bytes(), expected["url"])
    assert page is not None
    text = clean_text(page.text, page.title)
    for phrase in expected["with"]:
        assert phrase.strip() in text
    for phrase in expected["without"]:
        assert phrase.strip() not in text


@pytest.mark.parametrize("name", ["chinese_article_001", "chinese_article_002", "japanese_article2"])
def test_newspaper4k_page_keeps_the_reference_lead(name: str) -> None:
    page = extract_page((DATA / "newspaper4k" / "html" / f"{name}.html").read_bytes(), "https://news.example/a")
    assert page is not None
    reference = (DATA / "newspaper4k" / "txt" / f"{name}.txt").read_text(encoding="utf-8")
    lead = next(line for line in reference.splitlines() if len(line) > 30)[:30]
    assert lead in clean_text(page.text, page.title)


def demo_page(name: str) -> bytes:
    return (sample_site_dir() / "articles" / name).read_bytes().replace(b"{{BASE_URL}}", b"http://127.0.0.1:1")


@pytest.mark.parametrize(
    "name", ["zhcn-meituan-o2o.html", "ja-pdd-price.html", "ko-naver-ai.html", "en-tiktok-shop.html"]
)
def test_demo_page_body_without_chrome(name: str) -> None:
    page = extract_page(demo_page(name), f"http://127.0.0.1:1/articles/{name}")
    assert page is not None and page.site_name
    text = clean_text(page.text, page.title)
    assert page.title and page.title not in text
    for chrome in ("Share", "Tweet", "Ranking", "All rights reserved", "Privacy", "相关阅读", "関連記事", "PR"):
        assert chrome not in text
    assert len(text.split("\n")) >= 2


def test_page_without_article_is_none_or_loses_to_the_feed_text() -> None:
    assert extract_page(b"", "https://ex.com/") is None
    page = extract_page(b"<html><body><nav>Home</nav></body></html>", "https://ex.com/")
    article = build_article(ENTRY, page, ENTRY_TIME, TextLimits())
    assert isinstance(article, Article) and article.text_source == "feed"


ENTRY_TIME = datetime(2026, 11, 1, tzinfo=UTC)
ENTRY = FeedEntry(
    feed_url="https://ex.com/feed",
    link="https://ex.com/a",
    canonical_url="https://ex.com/a",
    title="天猫双11",
    summary="天猫公布双11成交数据，中小商家增长明显。",
    content="",
    published_at=None,
    language_hint="zh-cn",
    source="Feed",
)


def test_feed_text_is_used_when_page_has_no_article() -> None:
    article = build_article(ENTRY, None, ENTRY_TIME, TextLimits())
    assert isinstance(article, Article)
    assert article.text_source == "feed" and article.language == "zh-cn" and article.text.startswith("天猫公布")


def test_too_short_is_a_recorded_drop() -> None:
    empty = replace(ENTRY, title="x", summary="")
    event = build_article(empty, None, ENTRY_TIME, TextLimits(min_chars=20))
    assert not isinstance(event, Article)
    assert event.outcome == "too_short" and event.url == ENTRY.canonical_url
