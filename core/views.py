"""Rows the warehouse's read models hand to the report and `status` (storage.readmodels -> newsmon).

One definition of "when" for everything an analyst sees: an article's `seen_at` is its publication time
when the feed or page gave one, else the time newsmon fetched it (the `articles_unique.seen_at` column).
Windows ("the last 30 days", "this week") and days are taken on `seen_at`; run and feed times are when
newsmon did the work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class WindowTotals:
    """Counts over the window, by `seen_at`; `older_fetched`: originals fetched in the window but published
    before it (not counted in `originals`)."""

    originals: int
    copies: int
    feeds: int
    sources: int
    older_fetched: int


@dataclass(frozen=True)
class DayCount:
    """Original articles on one day (of `seen_at`) for one key (a platform or a language)."""

    day: date
    key: str
    articles: int


@dataclass(frozen=True)
class PairCount:
    """Original articles for a (platform, topic) pair in the window."""

    platform: str
    topic: str
    articles: int


@dataclass(frozen=True)
class StoryItem:
    """One stored article of a story: the earliest one first, then its copies."""

    article_id: str
    url: str
    source: str | None
    title: str
    seen_at: datetime


@dataclass(frozen=True)
class StoryRow:
    """A story: one event across sources and languages (the `stories` table), or, for articles stored
    without a story (stories disabled, or stored before they existed), an original (a stored article or a
    seed document) and the stored articles that copy it. `items` are the story's stored articles, earliest
    first; `articles` counts those seen in the window; `languages` those it was reported in."""

    story_id: str
    title: str
    from_seed: bool
    articles: int
    first_seen: datetime
    last_seen: datetime
    items: tuple[StoryItem, ...]
    languages: tuple[str, ...] = ()


@dataclass(frozen=True)
class FeedVolumeRow:
    """Articles a feed brought in during the window (by `seen_at`)."""

    name: str
    feed_url: str
    originals: int
    copies: int
    sources: tuple[str, ...]
    last_seen: datetime | None


@dataclass(frozen=True)
class PlatformTrendRow:
    """Original articles mentioning a platform in the last 7 days and in the 7 days before."""

    platform: str
    this_week: int
    last_week: int

    @property
    def change(self) -> int:
        return self.this_week - self.last_week


@dataclass(frozen=True)
class RunRow:
    """One pass, from the `runs` table (times are when the pass ran)."""

    run_id: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    feeds_ok: int
    feeds_unchanged: int
    feeds_failed: int
    originals: int
    copies: int
    links_refused: int
    pages_failed: int
    entries_dropped: int
    error: str | None

    @property
    def seconds(self) -> float | None:
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at else None


@dataclass(frozen=True)
class FeedHealthRow:
    """One configured feed, from the `feed_health` view."""

    name: str
    feed_url: str
    health: str
    consecutive_failures: int
    failing_since: datetime | None
    last_success_at: datetime | None
    last_polled_at: datetime | None
    last_status: int | None
    last_error: str | None
    next_poll_at: datetime | None
    articles_total: int


@dataclass(frozen=True)
class AlertRow:
    """One notification (rule, article, channel) with its delivery state."""

    rule: str
    title: str
    url: str | None
    status: str
    attempts: int
    sent_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True)
class PendingNotifications:
    """Undelivered notifications of one rule in one state."""

    rule: str
    status: str
    gave_up: bool
    count: int
    attempts: int
    last_error: str | None
    oldest: datetime
