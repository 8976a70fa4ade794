"""Poll one feed: conditional GET, body hash, parse. Returns a FeedPoll whatever happens."""

from __future__ import annotations

import hashlib

from core.errors import FetchError
from core.records import FeedPoll, FeedState, LinkEvent
from core.settings import FeedConfig
from extractors.feeds import parse_feed
from flows.http import HttpFetcher
from flows.polling import cache_max_age

_FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)


def _conditional_headers(state: FeedState | None) -> dict[str, str]:
    headers = {"Accept": _FEED_ACCEPT}
    if state is not None and state.etag:
        headers["If-None-Match"] = state.etag
    if state is not None and state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    return headers


def poll_feed(
    fetcher: HttpFetcher, feed: FeedConfig, state: FeedState | None, max_entries: int
) -> tuple[FeedPoll, str | None, tuple[LinkEvent, ...]]:
    """(poll, feed title, link events). Unchanged feeds (304 or same body hash) are not parsed."""
    try:
        response = fetcher.get(feed.url, fetcher.policy.max_feed_bytes, _conditional_headers(state))
    except FetchError as error:
        failed = FeedPoll(
            feed.url, feed.name, "failed", error.status, None, None, None, error.reason, error.kind, error.retry_after
        )
        return failed, None, ()
    etag = response.header("etag") or (state.etag if state else None)
    last_modified = response.header("last-modified") or (state.last_modified if state else None)
    max_age = cache_max_age(response.header("cache-control"))
    if response.status == 304:
        return FeedPoll(feed.url, feed.name, "unchanged", 304, etag, last_modified, None, ttl_seconds=max_age), None, ()
    body_hash = hashlib.sha256(response.body).hexdigest()
    if state is not None and state.body_hash == body_hash:
        unchanged = FeedPoll(
            feed.url, feed.name, "unchanged", response.status, etag, last_modified, body_hash, ttl_seconds=max_age
        )
        return unchanged, None, ()
    parsed, events = parse_feed(
        response.body, feed.url, response.header("content-type"), max_entries, base_url=response.final_url
    )
    if parsed.error:
        failed = FeedPoll(feed.url, feed.name, "failed", response.status, None, None, None, parsed.error, "permanent")
        return failed, parsed.title or None, events
    ttl = max(filter(None, (parsed.ttl_seconds, max_age)), default=None)
    ok = FeedPoll(
        feed.url,
        feed.name,
        "ok",
        response.status,
        etag,
        last_modified,
        body_hash,
        ttl_seconds=ttl,
        entries=parsed.entries,
    )
    return ok, parsed.title or None, events
