"""The frozen records handed from one stage to the next, and the closed vocabularies they use.

Stages: flows (fetch) -> extractors (parse, extract, clean, detect, classify) -> storage (load) -> alerts.
Each hand-off is one of these dataclasses; nothing else crosses a stage boundary. Part of the ground floor
(`core`): imports nothing of ours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import numpy as np
import numpy.typing as npt

TextSource = Literal["page", "feed"]
ErrorKind = Literal["transient", "permanent", "refused"]
RunStatus = Literal["running", "completed", "failed", "aborted"]
FeedOutcome = Literal["ok", "unchanged", "failed", "skipped"]
SubscriptionState = Literal["requested", "active", "denied", "expired", "unsubscribing", "failed"]
SubscriptionIntent = Literal["subscribe", "unsubscribe"]
# "lost": neither an article nor another event came of a new entry (a bug, caught by the end-of-pass
# check in flows.monitor); retried on the next pass like a failed page.
# entry_failed: handling this one entry raised (hostile input or a bug); the rest of the feed and pass go on.
LinkOutcome = Literal["refused", "page_failed", "too_short", "invalid_url", "over_limit", "lost", "entry_failed"]
# Link outcomes after which the entry is never tried again (the rest are retried on the next pass).
PERMANENT_LINK_OUTCOMES: frozenset[str] = frozenset({"too_short", "invalid_url", "entry_failed"})

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
    hubs: tuple[str, ...] = ()  # WebSub: the document's rel="hub" links
    self_url: str | None = None  # WebSub topic: the document's rel="self" link
    update_period_seconds: float | None = None  # sy:updatePeriod / sy:updateFrequency


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
    tags: tuple[str, ...] = ()  # the tags of the feed it came from
    story_id: str | None = None  # the story (same event across sources and languages) it belongs to


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
    hubs: tuple[str, ...] = ()  # WebSub hubs (Link header first, then the document)
    self_url: str | None = None  # WebSub topic (rel="self"), when the feed names one
    update_period_seconds: float | None = None  # sy:updatePeriod / sy:updateFrequency
    max_age_seconds: int | None = None  # Cache-Control max-age of the response


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
    story_id: str | None = None


@dataclass(frozen=True)
class StoryFeatures:
    """What story matching needs of one article (extractors.stories; stored in `story_features`).

    `embedding`: L2-normalised multilingual sentence embedding of title + lead (extractors.embedding).
    `periods`: reporting quarters named ("Q3", fiscal "F-Q2"); `figures`: amounts and percentages normalised
    across languages and units; `title_grams`: character bigrams of the folded title."""

    article_id: str
    published_at: datetime
    embedding: npt.NDArray[np.float32] = field(compare=False, repr=False)
    platforms: frozenset[str] = frozenset()
    topics: frozenset[str] = frozenset()
    periods: frozenset[str] = frozenset()
    figures: frozenset[str] = frozenset()
    title_grams: frozenset[str] = frozenset()


@dataclass(frozen=True)
class StoryAssignment:
    """Where an article went: `story_id`, whether it founded the story, and the match score (None if new)."""

    article_id: str
    story_id: str
    founded: bool
    score: float | None = None


# --- Sources (issue 18): discovery, sitemaps, OPML. Pure parsers return these; flows and the app use them.

FeedKind = Literal["feed", "sitemap"]  # a configured source: an RSS/Atom/JSON feed, or a (news) sitemap
FeedFormat = Literal["rss", "atom", "rdf", "json", "sitemap", "sitemap-index", "html", "unknown"]
DiscoveryOrigin = Literal["self", "link", "guess"]  # the URL itself, a <link rel=alternate>, a usual path


@dataclass(frozen=True)
class FeedLink:
    """A feed a page advertises (`<link rel="alternate">`) or a usual path to try (extractors.discovery)."""

    url: str
    title: str
    format: FeedFormat
    origin: DiscoveryOrigin


@dataclass(frozen=True)
class SitemapUrl:
    """One `<url>` of a sitemap: its address, and what the Google News extension (or lastmod) tells."""

    loc: str
    title: str
    published_at: datetime | None
    language: str | None
    publication: str | None


@dataclass(frozen=True)
class ParsedSitemap:
    """A sitemap document: a urlset (`urls`) or a sitemap index (`children`, newest first). `error` set:
    not a sitemap. `dropped` counts `<url>`/`<sitemap>` elements without a usable http(s) location."""

    url: str
    kind: Literal["urlset", "index"]
    urls: tuple[SitemapUrl, ...] = ()
    children: tuple[str, ...] = ()
    dropped: int = 0
    error: str | None = None


@dataclass(frozen=True)
class OpmlFeed:
    """One subscription of an OPML file: its feed URL, title (may be empty) and tags from its categories."""

    url: str
    title: str
    tags: tuple[str, ...]
    kind: FeedKind = "feed"


@dataclass(frozen=True)
class OpmlList:
    """What an OPML file holds. `duplicates`: outlines whose URL came earlier (their tags were merged);
    `skipped`: (outline text or URL, reason) for outlines that are not usable feeds."""

    title: str
    feeds: tuple[OpmlFeed, ...]
    duplicates: int = 0
    skipped: tuple[tuple[str, str], ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class FeedCandidate:
    """A feed or sitemap found by `newsmon feeds discover`, validated by fetching it (flows.sources).
    `error` set: it was advertised or guessed but does not work."""

    url: str
    title: str
    format: FeedFormat
    origin: DiscoveryOrigin
    items: int = 0
    last_update: datetime | None = None
    error: str | None = None


@dataclass(frozen=True)
class FeedHistory:
    """What the schedule remembers about a feed (persisted with it)."""

    polls: int = 0
    yield_ratio: float | None = None  # smoothed share of new URLs among a poll's entries
    unchanged_ratio: float = 0.0  # smoothed share of polls that were 304 / same body
    interval_seconds: float | None = None


@dataclass(frozen=True)
class Schedule:
    """When to poll next, the interval that gave it and a sentence saying why."""

    next_poll_at: datetime
    interval_seconds: float
    why: str


@dataclass(frozen=True)
class StoredSchedule:
    """A feed's schedule as the watcher keeps it in the warehouse (flows.watch_book <-> storage.schedules)."""

    feed_url: str
    history: FeedHistory
    schedule: Schedule


@dataclass(frozen=True)
class Subscription:
    """One (topic, hub) subscription with its own secret and callback path."""

    feed_url: str  # the configured feed this subscription delivers
    topic: str
    hub: str
    callback_id: str
    secret: str
    state: SubscriptionState
    intent: SubscriptionIntent
    requested_at: datetime
    lease_seconds: int | None = None
    verified_at: datetime | None = None
    expires_at: datetime | None = None
    renew_at: datetime | None = None
    last_push_at: datetime | None = None
    missed_at: datetime | None = None  # a poll found entries the hub had not pushed
    error: str | None = None
    sent_at: datetime | None = None  # when the last hub request went out (None: not sent yet)
