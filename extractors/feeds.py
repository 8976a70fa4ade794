"""Feed documents (RSS 0.9x/1.0/2.0, Atom, ill-formed but recoverable) to entries. Never fetches.

The body is decoded by `extractors.encoding` (so legacy CJK encodings and lying labels are handled in one
place), re-encoded as UTF-8 and handed to feedparser as bytes with an explicit UTF-8 content type:
feedparser only ever sees bytes, so it cannot open a URL or a file.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import feedparser

from core.records import FeedEntry, LinkEvent, ParsedFeed
from core.urls import scheme_refusal, url_scheme
from extractors.encoding import decode_bytes
from extractors.htmltext import html_to_text
from extractors.urls import canonical_url

_XML_DECL_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*)(["'])[^"']*\2""")
_HTML_START = re.compile(r"^\s*(<!--.*?-->\s*)*(<!doctype\s+html|<html)", re.IGNORECASE | re.DOTALL)
_FEED_MEDIA_DEFAULT = "application/xml"


def _media_type(content_type: str | None) -> str:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media or _FEED_MEDIA_DEFAULT


def _as_utf8_document(body: bytes, content_type: str | None) -> tuple[bytes, str, str]:
    decoded = decode_bytes(body, content_type)
    text = _XML_DECL_ENCODING.sub(r"\1\2utf-8\2", decoded.text.lstrip("\ufeff"), count=1)
    return text.encode("utf-8"), decoded.encoding, text


def _timestamp(entry: Mapping[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, ValueError, TypeError):
                continue
    return None


def _entry_content(entry: Mapping[str, Any]) -> str:
    parts = entry.get("content") or []
    best = max((str(part.get("value", "")) for part in parts), key=len, default="")
    return html_to_text(best).strip()


def _ttl_seconds(feed: Mapping[str, Any]) -> int | None:
    try:
        minutes = int(str(feed.get("ttl", "")).strip())
    except ValueError:
        return None
    return minutes * 60 if minutes > 0 else None


def _not_a_feed_reason(text: str, parsed: Any) -> str:
    if not text.strip():
        return "not a feed: the response body is empty"
    if _HTML_START.match(text[:4096]):
        return "not a feed: the URL returned an HTML page (is this the site's home page, not its feed?)"
    problem = parsed.get("bozo_exception")
    return f"not a feed: no RSS/Atom document found ({problem})" if problem else "not a feed: no entries"


def _entry_link(entry: Mapping[str, Any]) -> str:
    link = str(entry.get("link") or "").strip()
    if link:
        return link
    guid = str(entry.get("id") or "").strip()
    return guid if guid.startswith(("http://", "https://")) else ""


def _unusable_link(feed_url: str, raw: Mapping[str, Any], error: ValueError) -> LinkEvent:
    """A link with another scheme (file:, ftp:, data:, javascript:, …) is refused; no link is invalid."""
    link = str(raw.get("link") or "").strip()
    refusal = scheme_refusal(link) if url_scheme(link) else None
    if refusal is not None:
        return LinkEvent(feed_url, link, "refused", refusal)
    return LinkEvent(feed_url, link or str(raw.get("id") or ""), "invalid_url", str(error))


def _to_entry(entry: Mapping[str, Any], feed_url: str, source: str, feed_lang: str | None) -> FeedEntry:
    link = _entry_link(entry)
    lang = entry.get("language") or (entry.get("title_detail") or {}).get("language") or feed_lang
    return FeedEntry(
        feed_url=feed_url,
        link=link,
        canonical_url=canonical_url(link),
        title=html_to_text(str(entry.get("title") or "")).strip(),
        summary=html_to_text(str(entry.get("summary") or "")).strip(),
        content=_entry_content(entry),
        published_at=_timestamp(entry),
        language_hint=str(lang).lower() if lang else None,
        source=source,
    )


def parse_feed(
    body: bytes,
    feed_url: str,
    content_type: str | None = None,
    max_entries: int = 500,
    base_url: str | None = None,
) -> tuple[ParsedFeed, tuple[LinkEvent, ...]]:
    """Parse a feed body; relative links resolve against `base_url` (where the feed was finally fetched
    from), entries without a usable link come back as `invalid_url` link events."""
    utf8, encoding, text = _as_utf8_document(body, content_type)
    headers = {"content-type": f"{_media_type(content_type)}; charset=utf-8", "content-location": base_url or feed_url}
    parsed = feedparser.parse(utf8, response_headers=headers, sanitize_html=False)
    feed = parsed.get("feed") or {}
    title = html_to_text(str(feed.get("title") or "")).strip()
    language = str(feed["language"]).lower() if feed.get("language") else None
    if not parsed.entries and not parsed.get("version"):
        reason = _not_a_feed_reason(text, parsed)
        return ParsedFeed(feed_url, title, language, (), None, encoding, error=reason), ()
    source = title or feed_url
    entries: list[FeedEntry] = []
    events: list[LinkEvent] = []
    for raw in parsed.entries[:max_entries]:
        try:
            entries.append(_to_entry(raw, feed_url, source, language))
        except ValueError as exc:
            events.append(_unusable_link(feed_url, raw, exc))
    if len(parsed.entries) > max_entries:
        skipped = len(parsed.entries) - max_entries
        events.append(
            LinkEvent(feed_url, feed_url, "over_limit", f"{skipped} entries beyond the limit of {max_entries}")
        )
    warning = str(parsed.get("bozo_exception")) if parsed.get("bozo") else None
    ttl = _ttl_seconds(feed)
    return ParsedFeed(feed_url, title, language, tuple(entries), ttl, encoding, warning=warning), tuple(events)
