"""Feed documents (RSS 0.9x/1.0/2.0, Atom, ill-formed but recoverable) to entries. Never fetches.

The body is decoded by `extractors.encoding` (so legacy CJK encodings and lying labels are handled in one
place), re-encoded as UTF-8 and handed to feedparser as an in-memory stream (`io.BytesIO`) with an explicit UTF-8
content type. feedparser opens any `str` or `bytes` argument that names a file or URL; a stream it only reads,
so no body can make it touch the file system or the network.
"""

from __future__ import annotations

import calendar
import io
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import feedparser

from core.errors import describe
from core.records import FeedEntry, LinkEvent, ParsedFeed
from core.urls import scheme_refusal, url_scheme
from extractors.encoding import decode_bytes
from extractors.htmltext import html_to_text
from extractors.hubs import discover, document_links
from extractors.identity import is_identifier, linkless_identity
from extractors.urls import canonical_url

_XML_DECL_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*)(["'])[^"']*\2""")
_HTML_START = re.compile(r"^\s*(<!--.*?-->\s*)*(<!doctype\s+html|<html)", re.IGNORECASE | re.DOTALL)
_FEED_MEDIA_DEFAULT = "application/xml"
_NCR = re.compile(r"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));?")  # a numeric character reference
_LONGEST_NCR_DIGITS = 8  # &#x10FFFF; / &#1114111;


def _media_type(content_type: str | None) -> str:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media or _FEED_MEDIA_DEFAULT


def _scalar_reference(match: re.Match[str]) -> str:
    """References to no Unicode scalar value (surrogates, NUL, beyond U+10FFFF, absurdly long numbers) become
    U+FFFD, as HTML5 parsers do; feedparser's fallback parser raises on them and loses the whole feed."""
    hex_digits, dec_digits = match.groups()
    digits = (hex_digits or dec_digits).lstrip("0")
    if len(digits) > _LONGEST_NCR_DIGITS:
        return "&#xFFFD;"
    value = int(digits or "0", 16 if hex_digits else 10)
    return "&#xFFFD;" if value == 0 or 0xD800 <= value <= 0xDFFF or value > 0x10FFFF else match.group(0)


def _as_utf8_document(body: bytes, content_type: str | None) -> tuple[bytes, str, str]:
    decoded = decode_bytes(body, content_type)
    text = _XML_DECL_ENCODING.sub(r"\1\2utf-8\2", decoded.text.lstrip("\ufeff"), count=1)
    text = _NCR.sub(_scalar_reference, text)
    return text.encode("utf-8", "replace"), decoded.encoding, text


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


def _identity(entry: Mapping[str, Any], feed_url: str, title: str, text: str) -> tuple[str, str]:
    """(link to fetch, canonical URL or identity). An entry without a web link (only a `urn:`/`tag:` id,
    a non-URL guid, or nothing) gets an identity instead (`extractors.identity`) and no link: it is stored
    from its feed content. Raises ValueError for a link that is no usable URL (no identity can stand in)."""
    link, entry_id = _entry_link(entry), str(entry.get("id") or "").strip()
    if link and not is_identifier(link, entry_id):
        return link, canonical_url(link)
    identity = linkless_identity(feed_url, entry_id, title, text)
    if identity is None:
        raise ValueError("the entry has no link, no id and no text")
    return "", identity


def _to_entry(entry: Mapping[str, Any], feed_url: str, source: str, feed_lang: str | None) -> FeedEntry:
    lang = entry.get("language") or (entry.get("title_detail") or {}).get("language") or feed_lang
    title = html_to_text(str(entry.get("title") or "")).strip()
    summary, content = html_to_text(str(entry.get("summary") or "")).strip(), _entry_content(entry)
    link, identity = _identity(entry, feed_url, title, content or summary)
    return FeedEntry(
        feed_url=feed_url,
        link=link,
        canonical_url=identity,
        title=title,
        summary=summary,
        content=content,
        published_at=_timestamp(entry),
        language_hint=str(lang).lower() if lang else None,
        source=source,
    )


def entries_each(
    raw_entries: Sequence[Mapping[str, Any]],
    feed_url: str,
    to_entry: Callable[[Mapping[str, Any]], FeedEntry],
    unusable: Callable[[Mapping[str, Any], ValueError], LinkEvent],
) -> tuple[list[FeedEntry], list[LinkEvent]]:
    """Each entry on its own (RSS/Atom and JSON Feed alike): one without a usable link is `unusable`'s link
    event, one that raises anything else is an `entry_failed` event — never a crash of the whole feed."""
    entries: list[FeedEntry] = []
    events: list[LinkEvent] = []
    for raw in raw_entries:
        try:
            entries.append(to_entry(raw))
        except ValueError as exc:
            events.append(unusable(raw, exc))
        except Exception as exc:  # hostile input must not stop the other entries
            link = str(raw.get("link") or raw.get("url") or raw.get("id") or feed_url)[:2000]
            events.append(LinkEvent(feed_url, link, "entry_failed", f"entry could not be read: {describe(exc)}"))
    return entries, events


def parse_feed(
    body: bytes,
    feed_url: str,
    content_type: str | None = None,
    max_entries: int | None = 500,
    base_url: str | None = None,
    name: str | None = None,
) -> tuple[ParsedFeed, tuple[LinkEvent, ...]]:
    """Parse a feed body; relative links resolve against `base_url` (where the feed was finally fetched
    from), entries without a usable link come back as `invalid_url` link events. Each entry's `source` is
    `name` (the feed's configured name), else the feed's own title, else its URL."""
    utf8, encoding, text = _as_utf8_document(body, content_type)
    headers = {"content-type": f"{_media_type(content_type)}; charset=utf-8", "content-location": base_url or feed_url}
    try:
        parsed = feedparser.parse(io.BytesIO(utf8), response_headers=headers, sanitize_html=False)
    except Exception as exc:  # a parser crash on hostile bytes is this feed's error, not the pass's
        reason = f"not a feed: the feed parser failed on this document ({describe(exc)})"
        return ParsedFeed(feed_url, "", None, (), None, encoding, error=reason), ()
    feed = parsed.get("feed") or {}
    title = html_to_text(str(feed.get("title") or "")).strip()
    language = str(feed["language"]).lower() if feed.get("language") else None
    if not parsed.entries and not parsed.get("version"):
        reason = _not_a_feed_reason(text, parsed)
        return ParsedFeed(feed_url, title, language, (), None, encoding, error=reason), ()
    source = name or title or feed_url
    entries, events = entries_each(
        parsed.entries[:max_entries],
        feed_url,
        lambda raw: _to_entry(raw, feed_url, source, language),
        lambda raw, exc: _unusable_link(feed_url, raw, exc),
    )
    if max_entries is not None and len(parsed.entries) > max_entries:
        skipped = len(parsed.entries) - max_entries
        events.append(
            LinkEvent(feed_url, feed_url, "over_limit", f"{skipped} entries beyond the limit of {max_entries}")
        )
    warning = str(parsed.get("bozo_exception")) if parsed.get("bozo") else None
    ttl = _ttl_seconds(feed)
    hubs = discover(document_links(feed.get("links") or []), base_url or feed_url)
    period = update_period_seconds(feed.get("sy_updateperiod"), feed.get("sy_updatefrequency"))
    parsed_feed = ParsedFeed(
        feed_url,
        title,
        language,
        tuple(entries),
        ttl,
        encoding,
        warning=warning,
        hubs=hubs.hubs,
        self_url=hubs.self_url,
        update_period_seconds=period,
    )
    return parsed_feed, tuple(events)


_UPDATE_PERIODS = {
    "hourly": 3600.0,
    "daily": 86400.0,
    "weekly": 7 * 86400.0,
    "monthly": 30 * 86400.0,
    "yearly": 365 * 86400.0,
}


def update_period_seconds(period: Any, frequency: Any) -> float | None:
    """`sy:updatePeriod` / `sy:updateFrequency` (RSS 1.0 syndication module) -> seconds between updates."""
    seconds = _UPDATE_PERIODS.get(str(period or "").strip().lower())
    if seconds is None:
        return None
    try:
        times = int(str(frequency).strip()) if frequency not in (None, "") else 1
    except ValueError:
        times = 1
    return seconds / times if times > 0 else seconds
