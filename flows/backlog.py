"""`pipeline.max_entries_per_feed` as a per-pass budget: of a feed's new entries, the newest are processed
in this pass and the rest wait for the next passes. Nothing is dropped: while a feed has a backlog, its new
validators and body hash are not saved, so the next pass fetches and parses it again instead of taking it
for unchanged, and finds the entries that are still not stored."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from core.records import FeedEntry, FeedPoll, LinkEvent


def _newest_first(entry: FeedEntry) -> tuple[bool, float]:
    """Dated entries newest first, then undated ones (in document order: the sort is stable)."""
    when: datetime | None = entry.published_at
    return when is None, -when.timestamp() if when else 0.0


def within_budget(fresh: Sequence[FeedEntry], budget: int) -> tuple[list[FeedEntry], dict[str, int]]:
    """(entries to process now, per feed URL the number of new entries left for later passes)."""
    by_feed: dict[str, list[FeedEntry]] = defaultdict(list)
    for entry in fresh:
        by_feed[entry.feed_url].append(entry)
    chosen: list[FeedEntry] = []
    deferred: dict[str, int] = {}
    for feed_url, entries in by_feed.items():
        entries.sort(key=_newest_first)
        chosen.extend(entries[:budget])
        if len(entries) > budget:
            deferred[feed_url] = len(entries) - budget
    return chosen, deferred


def deferred_events(deferred: dict[str, int], budget: int) -> list[LinkEvent]:
    reason = "{} new entries beyond this pass's budget of {}: left for the next passes (newest first)"
    return [LinkEvent(url, url, "over_limit", reason.format(left, budget)) for url, left in deferred.items()]


def hold_back(poll: FeedPoll, deferred: dict[str, int]) -> FeedPoll:
    """A feed with a backlog is recorded without validators, body hash or TTL: due and re-read next pass."""
    if poll.feed_url not in deferred:
        return poll
    return replace(poll, etag=None, last_modified=None, body_hash=None, ttl_seconds=None)
