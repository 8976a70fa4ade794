"""Poll one feed: conditional GET, body hash, parse. Returns a FeedPoll whatever happens."""

from __future__ import annotations

import hashlib

from core.errors import FetchError, describe
from core.records import FeedPoll, FeedState, LinkEvent
from core.settings import FeedConfig
from extractors.hubs import discover, header_links
from flows.http import HttpFetcher
from flows.polling import cache_max_age
from flows.sources import html_feed_hint, parse_any_feed

_FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/feed+json, application/xml;q=0.9, "
    "text/xml;q=0.9, */*;q=0.5"
)


def _conditional_headers(state: FeedState | None) -> dict[str, str]:
    headers = {"Accept": _FEED_ACCEPT}
    if state is not None and state.etag:
        headers["If-None-Match"] = state.etag
    if state is not None and state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    return headers


def poll_feed(
    fetcher: HttpFetcher, feed: FeedConfig, state: FeedState | None
) -> tuple[FeedPoll, str | None, tuple[LinkEvent, ...]]:
    """(poll, feed title, link events). Unchanged feeds (304 or same body hash) are not parsed. Never
    raises: whatever goes wrong while handling this feed becomes its recorded error."""
    try:
        return _poll_feed(fetcher, feed, state)
    except Exception as exc:  # one feed's hostile bytes (or a bug they hit) never stop a pass
        reason = f"feed could not be processed: {describe(exc, 500)}"[:500]
        return FeedPoll(feed.url, feed.name, "failed", None, None, None, None, reason, "permanent"), None, ()


def _poll_feed(
    fetcher: HttpFetcher, feed: FeedConfig, state: FeedState | None
) -> tuple[FeedPoll, str | None, tuple[LinkEvent, ...]]:
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
        unchanged = FeedPoll(
            feed.url,
            feed.name,
            "unchanged",
            304,
            etag,
            last_modified,
            None,
            ttl_seconds=max_age,
            max_age_seconds=max_age,
        )
        return unchanged, None, ()
    body_hash = hashlib.sha256(response.body).hexdigest()
    if state is not None and state.body_hash == body_hash:
        unchanged = FeedPoll(
            feed.url,
            feed.name,
            "unchanged",
            response.status,
            etag,
            last_modified,
            body_hash,
            ttl_seconds=max_age,
            max_age_seconds=max_age,
        )
        return unchanged, None, ()
    configured_name = feed.name if feed.name != feed.url else None
    # Every entry (the body is size-capped): the pass budgets new entries per feed (flows.backlog).
    parsed, events = parse_any_feed(response, feed.url, None, name=configured_name)
    if parsed.error:
        reason = html_feed_hint(response) or parsed.error
        failed = FeedPoll(feed.url, feed.name, "failed", response.status, None, None, None, reason, "permanent")
        return failed, parsed.title or None, events
    ttl = max(filter(None, (parsed.ttl_seconds, max_age)), default=None)
    hubs = discover(header_links(response.header("link")), response.final_url)
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
        hubs=tuple(dict.fromkeys((*hubs.hubs, *parsed.hubs))),
        self_url=hubs.self_url or parsed.self_url,
        update_period_seconds=parsed.update_period_seconds,
        max_age_seconds=max_age,
    )
    return ok, parsed.title or None, events
