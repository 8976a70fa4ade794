"""Network side of sources: poll a news sitemap like a feed, and discover a site's feeds.

Every fetch goes through the pass's guarded `HttpFetcher` (private-address guard, size caps, per-host
politeness, retries). A sitemap is polled with the same conditional GET and body hash as a feed; a sitemap
index fans out to at most `max_children` child sitemaps (newest first), each fetched only when the index
changed. Discovery fetches the given address, reads the feeds it advertises (or tries the usual paths)
and validates each candidate by fetching and parsing it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime

from core.errors import FetchError
from core.records import (
    FeedCandidate,
    FeedEntry,
    FeedLink,
    FeedPoll,
    HttpResponse,
    LinkEvent,
    ParsedFeed,
    ParsedSitemap,
    SitemapUrl,
)
from extractors.discovery import advertised_feeds, sniff_format, usual_feed_urls
from extractors.feeds import parse_feed
from extractors.jsonfeed import looks_like_json_feed, parse_json_feed
from extractors.sitemaps import parse_sitemap, sitemap_entries
from flows.http import HttpFetcher
from flows.polling import cache_max_age

SITEMAP_ACCEPT = "application/xml, text/xml;q=0.9, application/x-gzip;q=0.8, */*;q=0.5"
_FEED_TYPES = "application/rss+xml, application/atom+xml, application/feed+json"
DISCOVERY_ACCEPT = f"text/html;q=0.9, {_FEED_TYPES}, application/xml;q=0.8, */*;q=0.5"


def conditional_headers(accept: str, etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers = {"Accept": accept}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def parse_any_feed(
    response: HttpResponse, feed_url: str, max_entries: int | None, name: str | None = None
) -> tuple[ParsedFeed, tuple[LinkEvent, ...]]:
    """RSS/Atom through feedparser, JSON Feed through our own parser, chosen by the body. Entries' `source`
    is `name` (the feed's configured name) when given."""
    content_type = response.header("content-type")
    parse = parse_json_feed if looks_like_json_feed(response.body, content_type) else parse_feed
    return parse(response.body, feed_url, content_type, max_entries, base_url=response.final_url, name=name)


def html_feed_hint(response: HttpResponse) -> str | None:
    """For a configured feed URL that returned an HTML page: which feed that page advertises."""
    if sniff_format(response.body, response.header("content-type")) != "html":
        return None
    links = advertised_feeds(response.body, response.final_url, response.header("content-type"))
    if not links:
        return None
    others = f" (or one of {', '.join(link.url for link in links[1:4])})" if len(links) > 1 else ""
    return (
        f"not a feed: {response.final_url} is an HTML page that advertises the feed {links[0].url}{others}; "
        "use that URL in the config (newsmon feeds discover shows them all)"
    )


# --- sitemaps --------------------------------------------------------------------------------------


def _failed(url: str, name: str, error: FetchError) -> FeedPoll:
    return FeedPoll(url, name, "failed", error.status, None, None, None, error.reason, error.kind, error.retry_after)


def _children(
    fetcher: HttpFetcher, index: ParsedSitemap, max_children: int
) -> tuple[list[SitemapUrl], list[LinkEvent]]:
    """The URLs of the newest `max_children` child sitemaps; a child that fails is a link event, not a stop."""
    urls: list[SitemapUrl] = []
    events: list[LinkEvent] = []
    limit = fetcher.policy.max_feed_bytes
    for child_url in index.children[:max_children]:
        try:
            response = fetcher.get(child_url, limit, {"Accept": SITEMAP_ACCEPT})
        except FetchError as error:
            events.append(LinkEvent(index.url, child_url, "page_failed", f"child sitemap: {error.reason}"))
            continue
        child = parse_sitemap(response.body, response.final_url, limit)
        if child.error or child.kind != "urlset":
            problem = child.error or "a sitemap index inside a sitemap index is not followed"
            events.append(LinkEvent(index.url, child_url, "page_failed", f"child sitemap: {problem}"))
            continue
        urls.extend(child.urls)
    if len(index.children) > max_children:
        skipped = len(index.children) - max_children
        events.append(
            LinkEvent(index.url, index.url, "over_limit", f"{skipped} older child sitemaps beyond {max_children}")
        )
    return urls, events


def _sitemap_document(
    fetcher: HttpFetcher, response: HttpResponse, url: str, max_children: int
) -> tuple[ParsedSitemap, tuple[LinkEvent, ...]]:
    parsed = parse_sitemap(response.body, url, fetcher.policy.max_feed_bytes)
    if parsed.error or parsed.kind == "urlset":
        return parsed, ()
    urls, events = _children(fetcher, parsed, max_children)
    if not urls and parsed.children:
        return ParsedSitemap(url, "index", error="no child sitemap of the index could be read"), tuple(events)
    return ParsedSitemap(url, "urlset", urls=tuple(urls), dropped=parsed.dropped), tuple(events)


def poll_sitemap(
    fetcher: HttpFetcher,
    url: str,
    name: str,
    validators: Mapping[str, str | None],
    max_entries: int | None,
    max_children: int,
) -> tuple[FeedPoll, str | None, tuple[LinkEvent, ...]]:
    """Poll a sitemap source like a feed: (poll, title, link events). `validators`: the stored `etag`,
    `last_modified` and `body_hash`. Unchanged sitemaps (304 or same bytes) are not parsed."""
    etag, last_modified, old_hash = validators.get("etag"), validators.get("last_modified"), validators.get("body_hash")
    try:
        response = fetcher.get(
            url, fetcher.policy.max_feed_bytes, conditional_headers(SITEMAP_ACCEPT, etag, last_modified)
        )
    except FetchError as error:
        return _failed(url, name, error), None, ()
    etag = response.header("etag") or etag
    last_modified = response.header("last-modified") or last_modified
    max_age = cache_max_age(response.header("cache-control"))
    body_hash = hashlib.sha256(response.body).hexdigest() if response.status != 304 else old_hash
    if response.status == 304 or body_hash == old_hash:
        poll = FeedPoll(url, name, "unchanged", response.status, etag, last_modified, body_hash, ttl_seconds=max_age)
        return poll, None, ()
    parsed, child_events = _sitemap_document(fetcher, response, url, max_children)
    if parsed.error:
        failed = FeedPoll(url, name, "failed", response.status, None, None, None, parsed.error, "permanent")
        return failed, None, child_events
    entries, events = sitemap_entries(parsed, max_entries, name)
    title = next((u.publication for u in parsed.urls if u.publication), None)
    poll = FeedPoll(
        url, name, "ok", response.status, etag, last_modified, body_hash, ttl_seconds=max_age, entries=entries
    )
    return poll, title, (*child_events, *events)


# --- discovery -------------------------------------------------------------------------------------


def _newest(entries: tuple[FeedEntry, ...]) -> datetime | None:
    return max((entry.published_at for entry in entries if entry.published_at is not None), default=None)


def _validate_response(
    response: HttpResponse, link: FeedLink, max_children: int, fetcher: HttpFetcher
) -> FeedCandidate:
    """The candidate as found: its URL is where the feed finally is (after redirects), to configure that."""
    url = response.final_url
    fmt = sniff_format(response.body, response.header("content-type"))
    if fmt in ("sitemap", "sitemap-index"):
        parsed, _ = _sitemap_document(fetcher, response, url, max_children)
        if parsed.error:
            return FeedCandidate(url, link.title, fmt, link.origin, error=parsed.error)
        dates = [u.published_at for u in parsed.urls if u.published_at]
        title = link.title or next((u.publication or "" for u in parsed.urls if u.publication), "")
        return FeedCandidate(url, title, fmt, link.origin, len(parsed.urls), max(dates, default=None))
    feed, _ = parse_any_feed(response, url, 10_000)
    if feed.error:
        return FeedCandidate(url, link.title, fmt, link.origin, error=feed.error)
    return FeedCandidate(url, feed.title or link.title, fmt, link.origin, len(feed.entries), _newest(feed.entries))


def validate_candidate(fetcher: HttpFetcher, link: FeedLink, max_children: int = 3) -> FeedCandidate:
    """Fetch and parse one advertised or guessed feed; never raises."""
    try:
        response = fetcher.get(link.url, fetcher.policy.max_feed_bytes, {"Accept": DISCOVERY_ACCEPT})
    except FetchError as error:
        return FeedCandidate(link.url, link.title, link.format, link.origin, error=error.reason)
    return _validate_response(response, link, max_children, fetcher)


def discover_feeds(fetcher: HttpFetcher, url: str, max_children: int = 3) -> tuple[FeedCandidate, ...]:
    """The feeds of a site or article address, validated. The address itself when it is a feed or sitemap;
    else what the page advertises; else the usual paths that turn out to be feeds. Raises FetchError only
    when the address itself cannot be fetched."""
    response = fetcher.get(url, fetcher.policy.max_page_bytes, {"Accept": DISCOVERY_ACCEPT})
    fmt = sniff_format(response.body, response.header("content-type"))
    if fmt != "html":
        candidate = _validate_response(response, FeedLink(url, "", fmt, "self"), max_children, fetcher)
        if candidate.error is None or fmt != "unknown":
            return (candidate,)
    links = advertised_feeds(response.body, response.final_url, response.header("content-type"))
    if links:
        return tuple(validate_candidate(fetcher, link, max_children) for link in links)
    guessed = (validate_candidate(fetcher, link, max_children) for link in usual_feed_urls(response.final_url))
    found: dict[str, FeedCandidate] = {}
    for candidate in guessed:  # /feed and /rss often redirect to the same feed: list it once
        if candidate.error is None:
            found.setdefault(candidate.url, candidate)
    return tuple(found.values())
