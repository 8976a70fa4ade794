"""JSON Feed (1.0 and 1.1, https://jsonfeed.org) to the same records as RSS/Atom. Never fetches.

feedparser does not read JSON Feed. Items become `FeedEntry`s exactly as RSS items do: `url` (or an
http(s) `id`, or `external_url`) is the link, `content_html`/`content_text` the content, `summary` the
summary, `date_published` (else `date_modified`) the date, the item's or feed's `language` the hint.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from core.records import FeedEntry, LinkEvent, ParsedFeed
from core.urls import url_scheme
from extractors.encoding import decode_bytes
from extractors.feeds import entries_each
from extractors.htmltext import html_to_text
from extractors.urls import canonical_url

_VERSION_PREFIX = "https://jsonfeed.org/version/"
_VERSION_MARK = re.compile(rb"jsonfeed\.org\\?/version")  # JSON may escape the slash: https:\/\/jsonfeed.org\/version
JSON_FEED_TYPES = frozenset({"application/feed+json", "application/json"})


def looks_like_json_feed(body: bytes, content_type: str | None = None) -> bool:
    """True when the body is (or claims to be) a JSON document rather than XML or HTML."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == "application/feed+json":
        return True
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{") and _VERSION_MARK.search(body[:4096]) is not None


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _link(item: Mapping[str, Any], base_url: str) -> str:
    for key in ("url", "id", "external_url"):
        candidate = _text(item.get(key))
        if candidate and (key != "id" or candidate.startswith(("http://", "https://", "/"))):
            return urljoin(base_url, candidate)
    return ""


def _entry(item: Mapping[str, Any], feed_url: str, base_url: str, source: str, language: str | None) -> FeedEntry:
    link = _link(item, base_url)
    content = html_to_text(_text(item.get("content_html"))).strip() or _text(item.get("content_text"))
    lang = _text(item.get("language")) or language
    return FeedEntry(
        feed_url=feed_url,
        link=link,
        canonical_url=canonical_url(link),
        title=html_to_text(_text(item.get("title"))).strip(),
        summary=html_to_text(_text(item.get("summary"))).strip(),
        content=content,
        published_at=_date(item.get("date_published")) or _date(item.get("date_modified")),
        language_hint=lang.lower() if lang else None,
        source=source,
    )


def _unusable(feed_url: str, item: Mapping[str, Any], base_url: str, error: ValueError) -> LinkEvent:
    link = _link(item, base_url)
    scheme = url_scheme(link)
    if scheme and scheme not in ("http", "https"):
        return LinkEvent(feed_url, link, "refused", f"scheme {scheme!r} is not fetched (only http and https)")
    return LinkEvent(feed_url, link or _text(item.get("id")), "invalid_url", str(error))


def _document(body: bytes, content_type: str | None) -> tuple[Mapping[str, Any] | None, str, str | None]:
    decoded = decode_bytes(body, content_type)
    try:
        document = json.loads(decoded.text.lstrip("\ufeff"))
    except (ValueError, RecursionError) as exc:
        return None, decoded.encoding, f"not a feed: the body is not valid JSON ({exc})"
    if not isinstance(document, dict) or not str(document.get("version", "")).startswith(_VERSION_PREFIX):
        return None, decoded.encoding, "not a feed: a JSON document without a jsonfeed.org version"
    if not isinstance(document.get("items"), list):
        return None, decoded.encoding, "not a feed: a JSON Feed without an items list"
    return document, decoded.encoding, None


def parse_json_feed(
    body: bytes,
    feed_url: str,
    content_type: str | None = None,
    max_entries: int | None = 500,
    base_url: str | None = None,
    name: str | None = None,
) -> tuple[ParsedFeed, tuple[LinkEvent, ...]]:
    """Same contract as `extractors.feeds.parse_feed`, for JSON Feed documents."""
    document, encoding, error = _document(body, content_type)
    if document is None:
        return ParsedFeed(feed_url, "", None, (), None, encoding, error=error), ()
    title = html_to_text(_text(document.get("title"))).strip()
    language = _text(document.get("language")).lower() or None
    source = name or title or feed_url
    base = base_url or feed_url
    items = [item for item in document["items"] if isinstance(item, dict)]
    entries, events = entries_each(
        items[:max_entries],
        feed_url,
        lambda item: _entry(item, feed_url, base, source, language),
        lambda item, exc: _unusable(feed_url, item, base, exc),
    )
    if max_entries is not None and len(items) > max_entries:
        skipped = len(items) - max_entries
        events.append(
            LinkEvent(feed_url, feed_url, "over_limit", f"{skipped} entries beyond the limit of {max_entries}")
        )
    dropped = len(document["items"]) - len(items)
    warning = f"{dropped} items are not JSON objects" if dropped else None
    return ParsedFeed(feed_url, title, language, tuple(entries), None, encoding, warning=warning), tuple(events)
