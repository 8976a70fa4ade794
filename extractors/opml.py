"""OPML subscription lists in (through listparser) and out. Never fetches.

listparser copes with the breakage of real exports (HTML entities, missing titles, nested folders, the
`category` attribute); it is handed the file's bytes, never a URL or a path (given a str that starts with
http:// it would fetch it itself). Folders and categories become tags: every folder name on the way to
an outline and every `category` entry, folded to lowercase with spaces as hyphens ("Tech News" ->
`tech-news`). An outline whose URL (after canonicalisation) came earlier is a duplicate: its tags are
merged into the first one and it is counted, not repeated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import quoteattr

import listparser

from core.records import OpmlFeed, OpmlList
from core.urls import url_scheme
from extractors.urls import canonical_url

SITEMAP_OUTLINE_TYPE = "sitemap"  # our export marks sitemap sources so that an import gives them back
_FEED_OUTLINE = re.compile(rb"<outline\b[^>]*\bxmlUrl\s*=\s*(\"\s*[^\"\s]|'\s*[^'\s])", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s,/]+")  # OPML splits categories at "," and paths at "/"


def normalize_tag(text: str) -> str:
    """A tag as rules match it: case-folded, runs of whitespace, commas and slashes as one hyphen."""
    return _SEPARATORS.sub("-", text).strip("-").casefold()


def _tags(raw: Mapping[str, Any]) -> tuple[str, ...]:
    names: list[str] = [str(tag) for tag in raw.get("tags") or ()]
    for path in raw.get("categories") or ():
        names.extend(str(part) for part in path)
    return tuple(dict.fromkeys(tag for tag in (normalize_tag(n) for n in names) if tag))


def _merge(feed: OpmlFeed, tags: Iterable[str]) -> OpmlFeed:
    return OpmlFeed(feed.url, feed.title, tuple(dict.fromkeys([*feed.tags, *tags])), feed.kind)


def _sitemap_urls(document: bytes) -> frozenset[str]:
    """URLs of outlines our own export marked as sitemaps (listparser does not keep the outline type)."""
    marker = re.compile(rb"<outline\b[^>]*\btype=[\"']sitemap[\"'][^>]*>", re.IGNORECASE)
    url = re.compile(rb"\bxmlUrl=[\"']([^\"']+)[\"']", re.IGNORECASE)
    found = (url.search(match.group(0)) for match in marker.finditer(document))
    return frozenset(m.group(1).decode("utf-8", "replace").strip() for m in found if m)


def parse_opml(document: bytes) -> OpmlList:
    """The subscriptions of an OPML file's bytes. Never raises for bad input: `error` says what is wrong."""
    if not isinstance(document, bytes):  # a str would make listparser fetch URLs: never hand it one
        raise TypeError("parse_opml takes the file's bytes")
    result = listparser.parse(document)
    if result.get("bozo") and not result.get("feeds"):
        return OpmlList("", (), error=f"not an OPML subscription list ({result.get('bozo_exception')})")
    if not result.get("version") and not result.get("feeds"):
        return OpmlList("", (), error="not an OPML subscription list (no <opml> document with feeds)")
    sitemaps = _sitemap_urls(document)
    feeds: dict[str, OpmlFeed] = {}
    skipped: list[tuple[str, str]] = []
    duplicates = 0
    for raw in result.get("feeds") or ():
        url = str(raw.get("url") or "").strip()
        title = str(raw.get("title") or "").strip()
        if url_scheme(url) not in ("http", "https"):
            skipped.append((title or url, f"feed URL {url!r} is not http or https"))
            continue
        try:
            key = canonical_url(url)
        except ValueError as exc:
            skipped.append((title or url, str(exc)))
            continue
        if key in feeds:
            duplicates += 1
            feeds[key] = _merge(feeds[key], _tags(raw))
            continue
        feeds[key] = OpmlFeed(url, title, _tags(raw), "sitemap" if url in sitemaps else "feed")
    title = str((result.get("meta") or {}).get("title") or "").strip()
    # listparser already folds outlines with the very same URL into one: count those from the document.
    folded = len(_FEED_OUTLINE.findall(document)) - len(result.get("feeds") or ())
    return OpmlList(title, tuple(feeds.values()), duplicates + max(0, folded), tuple(skipped))


def _outline(feed: OpmlFeed, indent: str) -> str:
    attributes = [("type", SITEMAP_OUTLINE_TYPE if feed.kind == "sitemap" else "rss")]
    attributes += [("text", feed.title or feed.url), ("title", feed.title or feed.url), ("xmlUrl", feed.url)]
    if feed.tags:
        attributes.append(("category", ",".join(feed.tags)))
    rendered = " ".join(f"{name}={quoteattr(value)}" for name, value in attributes)
    return f"{indent}<outline {rendered}/>"


def write_opml(feeds: Sequence[OpmlFeed], title: str, now: datetime | None = None) -> bytes:
    """An OPML 2.0 document: feeds grouped in one folder per first tag (what readers show as folders),
    all tags in the `category` attribute (what listparser and OPML 2.0 readers read back)."""
    folders: dict[str, list[OpmlFeed]] = {}
    for feed in feeds:
        folders.setdefault(feed.tags[0] if feed.tags else "", []).append(feed)
    created = format_datetime(now or datetime.now(UTC), usegmt=True)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        f"  <head>\n    <title>{_text(title)}</title>\n    <dateCreated>{created}</dateCreated>\n  </head>",
        "  <body>",
    ]
    lines += [_outline(feed, "    ") for feed in folders.pop("", [])]
    for folder, members in folders.items():
        lines.append(f"    <outline text={quoteattr(folder)} title={quoteattr(folder)}>")
        lines += [_outline(feed, "      ") for feed in members]
        lines.append("    </outline>")
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines).encode("utf-8")


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
