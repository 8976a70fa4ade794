"""Assemble the stored article from a feed entry and (maybe) its extracted page. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.records import Article, ExtractedPage, FeedEntry, LinkEvent, TextSource
from extractors.classify import Classification, Classifier
from extractors.clean import clean_text, normalize_text
from extractors.dedup import fingerprint
from extractors.language import detect_language
from extractors.urls import article_id


@dataclass(frozen=True)
class TextLimits:
    min_chars: int = 20
    max_chars: int = 100_000


def _feed_text(entry: FeedEntry) -> str:
    return entry.content if len(entry.content) >= len(entry.summary) else entry.summary


def choose_text(entry: FeedEntry, page: ExtractedPage | None, title: str) -> tuple[str, TextSource]:
    """The page's article text when it has one at least as long as the feed's, else the feed's text."""
    feed_text = clean_text(_feed_text(entry), title)
    if page is not None:
        page_text = clean_text(page.text, title, page.title)
        if page_text and len(page_text) >= min(len(feed_text), 200):
            return page_text, "page"
    return feed_text, "feed"


def build_article(
    entry: FeedEntry,
    page: ExtractedPage | None,
    fetched_at: datetime,
    limits: TextLimits,
    classifier: Classifier | None = None,
) -> Article | LinkEvent:
    """A warehouse-ready Article, or a `too_short` LinkEvent when neither page nor feed has text."""
    title = normalize_text(entry.title or (page.title if page else "")).replace("\n", " ")
    text, text_source = choose_text(entry, page, title)
    text = text[: limits.max_chars]
    if len(text) < limits.min_chars and len(title) < limits.min_chars:
        reason = f"only {len(text)} characters of text (minimum {limits.min_chars})"
        return LinkEvent(entry.feed_url, entry.canonical_url, "too_short", reason)
    hint = (page.language_hint if page else None) or entry.language_hint
    source = (page.site_name if page and page.site_name else None) or entry.source
    labels = classifier.classify(title, text) if classifier else Classification((), (), ())
    fp = fingerprint(text or title)
    return Article(
        article_id=article_id(entry.canonical_url),
        url=entry.link,
        canonical_url=entry.canonical_url,
        feed_url=entry.feed_url,
        source=source,
        title=title,
        text=text,
        text_source=text_source,
        language=detect_language(f"{title}\n{text}", hint),
        published_at=entry.published_at or (page.published_at if page else None),
        fetched_at=fetched_at,
        content_hash=fp.content_hash,
        platforms=labels.platforms,
        topics=labels.topics,
        mentions=labels.mentions,
        fingerprint=fp,
    )
