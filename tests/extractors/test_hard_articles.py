"""Headline-only briefs and short-paragraph pages, end to end through extraction and article building
(pages in tests/data/hard-cases, written for newsmon: see SOURCE.md there)."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.records import Article, FeedEntry
from extractors.article import TextLimits, build_article
from extractors.dedup import judge, shingle_hashes
from extractors.pages import extract_page
from extractors.substance import prose_chars
from extractors.urls import canonical_url
from tests.conftest import DATA

HARD = DATA / "hard-cases"
BRIEFS = sorted((HARD / "briefs").glob("*.html"))


def entry_for(url: str, title: str = "", summary: str = "") -> FeedEntry:
    return FeedEntry("https://news.example/feed", url, canonical_url(url), title, summary, "", None, None, "site")


def article_from(path: Path, summary: str = "") -> Article:
    url = f"https://news.example/{path.stem}"
    page = extract_page(path.read_bytes(), url)
    assert page is not None
    built = build_article(entry_for(url, page.title, summary), page, datetime.now(UTC), TextLimits())
    assert isinstance(built, Article)
    return built


@pytest.mark.parametrize("path", BRIEFS, ids=lambda p: p.stem)
def test_a_headline_only_brief_keeps_its_headline_not_the_chrome(path: Path) -> None:
    article = article_from(path)
    assert article.text == article.title and article.text_source == "feed"
    assert article.fingerprint is not None and article.fingerprint.band_keys == ()


def test_briefs_of_one_site_are_not_duplicates_of_each_other() -> None:
    articles = [article_from(path) for path in BRIEFS]
    assert len(articles) >= 8
    for first, second in combinations(articles, 2):
        assert first.fingerprint is not None and second.fingerprint is not None
        assert first.fingerprint.content_hash != second.fingerprint.content_hash
        shared = set(first.fingerprint.band_keys) & set(second.fingerprint.band_keys)
        assert not shared or judge(shingle_hashes(first.text), shingle_hashes(second.text)) is None


def test_a_brief_with_a_feed_summary_keeps_the_summary() -> None:
    summary = "楽天グループは28日、物流子会社を売却すると発表した。売却額は非公表。"
    article = article_from(HARD / "briefs" / "ja-sokuho.html", summary)
    assert article.text == summary and article.text_source == "feed"


def test_short_chinese_paragraphs_ending_in_ellipses_are_the_article() -> None:
    """A ~400-character zh-tw report of short paragraphs, two quotes ending in ……, used to be cleaned
    away entirely as a 'trailing teaser list'."""
    article = article_from(HARD / "zh-tw-short-paragraphs.html")
    assert article.text_source == "page" and article.language == "zh-tw"
    assert article.text.startswith("蝦皮購物今（28）日宣布") and article.text.endswith("創同期新高。")
    assert len(article.text) >= 350


def test_prose_is_counted_beyond_titles_and_menus() -> None:
    assert prose_chars("Home | Business | Tech | Login\nNov 28, 2026 8:02 AM · Staff") == 0
    assert (
        prose_chars("Breaking: Sea raises guidance. Breaking: Sea raises guidance.", "Breaking: Sea raises guidance.")
        == 0
    )
    assert prose_chars("楽天グループは28日、物流子会社を売却すると発表した。") >= 20
    assert prose_chars("Sea Ltd raised its full-year guidance on Friday.") >= 20


@given(st.text(max_size=300), st.text(max_size=60))
def test_prose_never_exceeds_the_text(text: str, title: str) -> None:
    assert 0 <= prose_chars(text, title) <= len(unicodedata.normalize("NFKC", text).casefold())
