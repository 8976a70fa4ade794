"""Assemble the stored article from a feed entry and (maybe) its extracted page. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.records import Article, ExtractedPage, FeedEntry, LinkEvent, TextSource
from core.text import weighted_length
from extractors.classify import Classification, Classifier
from extractors.clean import clean_text, normalize_text
from extractors.dedup import fingerprint
from extractors.language import detect_language
from extractors.substance import has_substance
from extractors.urls import article_id


@dataclass(frozen=True)
class TextLimits:
    min_chars: int = 20
    max_chars: int = 100_000


def _feed_text(entry: FeedEntry) -> str:
    return entry.content if len(entry.content) >= len(entry.summary) else entry.summary


def choose_text(entry: FeedEntry, page: ExtractedPage | None, title: str) -> tuple[str, TextSource]:
    """The page's article text when it has prose and is at least as long as the feed's, else the feed's
    text; when neither has prose beyond the headline (a headline-only brief whose page body is navigation,
    date and byline), the headline itself, marked as feed text (it is the feed's title)."""
    feed_text = clean_text(_feed_text(entry), title)
    feed_has_prose = has_substance(feed_text, title)
    if page is not None:
        page_text = clean_text(page.text, title, page.title)
        titles = (title, page.title)
        if page_text and has_substance(page_text, *titles) and len(page_text) >= min(len(feed_text), 200):
            return page_text, "page"
    if feed_has_prose or not title:
        return feed_text, "feed"
    return title, "feed"


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
    if weighted_length(text) < limits.min_chars and weighted_length(title) < limits.min_chars:
        reason = f"only {len(text)} characters of text (minimum {limits.min_chars})"
        return LinkEvent(entry.feed_url, entry.canonical_url, "too_short", reason)
    hint = (page.language_hint if page else None) or entry.language_hint
    source = normalize_text((page.site_name if page and page.site_name else None) or entry.source).replace("\n", " ")
    labels = classifier.classify(title, text) if classifier else Classification((), (), ())
    fp = fingerprint(text, title)
    return Article(
        article_id=article_id(entry.canonical_url),
        url=entry.link or entry.canonical_url,  # a link-less entry: its identity (urn:, tag:)
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
