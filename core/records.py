"""The frozen records handed from one stage to the next, and the closed vocabularies they use.

Stages: flows (fetch) -> extractors (parse, extract, clean, detect, classify) -> storage (load) -> alerts.
Each hand-off is one of these dataclasses; nothing else crosses a stage boundary. Part of the ground floor
(`core`): imports nothing of ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

TextSource = Literal["page", "feed"]
ErrorKind = Literal["transient", "permanent", "refused"]
RunStatus = Literal["running", "completed", "failed", "aborted"]
FeedOutcome = Literal["ok", "unchanged", "failed", "skipped"]
LinkOutcome = Literal["refused", "page_failed", "too_short", "invalid_url", "over_limit"]
# Link outcomes after which the entry is never tried again (the rest are retried on the next pass).
PERMANENT_LINK_OUTCOMES: frozenset[str] = frozenset({"too_short", "invalid_url"})

# Document ids in the near-duplicate index and the notification outbox: '<kind>:<id>'.
SEED_PREFIX = "seed:"
ARTICLE_PREFIX = "article:"
SPIKE_PREFIX = "spike:"


def public_id(doc_id: str) -> str:
    """'seed:000_…' -> '000_…', 'article:ab12…' -> 'ab12…' (what `duplicate_of` holds)."""
    return doc_id.split(":", 1)[1]


@dataclass(frozen=True)
class HttpResponse:
    """A complete, size-bounded HTTP response (flows -> extractors)."""

    url: str
    final_url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed, as far as the feed itself tells (extractors.feeds -> flows)."""

    feed_url: str
    link: str
    canonical_url: str
    title: str
    summary: str
    content: str
    published_at: datetime | None
    language_hint: str | None
    source: str


@dataclass(frozen=True)
class ParsedFeed:
    """What a feed document yielded. `error` set means the document is not a usable feed."""

    feed_url: str
    title: str
    language: str | None
    entries: tuple[FeedEntry, ...]
    ttl_seconds: int | None
    encoding: str
    error: str | None = None
    warning: str | None = None


@dataclass(frozen=True)
class ExtractedPage:
    """The article trafilatura found in a fetched page (extractors.pages -> extractors.article)."""

    url: str
    title: str
    text: str
    published_at: datetime | None
    site_name: str | None
    language_hint: str | None


@dataclass(frozen=True)
class Mention:
    """One platform match in an article's cleaned title or body."""

    platform: str
    alias: str
    field: Literal["title", "text"]
    position: int


@dataclass(frozen=True)
class Fingerprint:
    """What deduplication needs about a text: exact hash, LSH band keys, how many shingles it has."""

    content_hash: str
    band_keys: tuple[int, ...]
    shingles: int


@dataclass(frozen=True)
class Article:
    """A cleaned, language-tagged article ready for the warehouse (extractors -> storage)."""

    article_id: str
    url: str
    canonical_url: str
    feed_url: str
    source: str
    title: str
    text: str
    text_source: TextSource
    language: str
    published_at: datetime | None
    fetched_at: datetime
    content_hash: str
    platforms: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    mentions: tuple[Mention, ...] = ()
    duplicate_of: str | None = None
    similarity: float | None = None
    fingerprint: Fingerprint | None = None


@dataclass(frozen=True)
class LinkEvent:
    """An entry link that did not become a page article, with the reason (never silently dropped)."""

    feed_url: str
    url: str
    outcome: LinkOutcome
    reason: str


@dataclass(frozen=True)
class FeedPoll:
    """The result of polling one feed (flows -> storage): new validators, outcome, error."""

    feed_url: str
    name: str
    outcome: FeedOutcome
    status: int | None
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    error: str | None = None
    error_kind: ErrorKind | None = None
    retry_after_seconds: float | None = None
    ttl_seconds: int | None = None
    entries: tuple[FeedEntry, ...] = ()


@dataclass(frozen=True)
class PassSummary:
    """What one monitoring pass did; printed by the CLI and stored in `runs`."""

    run_id: str
    status: RunStatus
    feeds_total: int
    feeds_ok: int
    feeds_unchanged: int
    feeds_failed: int
    feeds_skipped: int
    entries_seen: int
    entries_known: int
    articles_new: int
    articles_duplicate: int
    links_refused: int
    pages_failed: int
    entries_dropped: int
    notifications_sent: int = 0
    notifications_failed: int = 0
    new_by_language: tuple[tuple[str, int], ...] = ()
    new_by_platform: tuple[tuple[str, int], ...] = ()
    new_by_topic: tuple[tuple[str, int], ...] = ()
    failed_feeds: tuple[tuple[str, str], ...] = ()
    refused_links: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class FeedState:
    """What the warehouse remembers about a feed between passes (storage -> flows)."""

    feed_url: str
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    next_poll_at: datetime | None
    consecutive_failures: int


@dataclass(frozen=True)
class SeedDocument:
    """One document of the seed corpus, cleaned like a page (extractors.seeds -> storage)."""

    seed_id: str
    title: str
    text: str
    language: str
    fingerprint: Fingerprint

    @property
    def content_hash(self) -> str:
        return self.fingerprint.content_hash


@dataclass(frozen=True)
class DigestItem:
    """An article as an alert digest shows it (storage -> alerts)."""

    article_id: str
    title: str
    url: str
    source: str
    language: str
    platforms: tuple[str, ...]
    topics: tuple[str, ...]
    duplicate_of: str | None = None
