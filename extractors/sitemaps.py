"""Sitemaps (sitemaps.org 0.9, with the Google News extension) to typed records. Never fetches.

A `<urlset>` gives the article URLs with, when the Google News extension is present, their title,
publication date, language and publication name (`<lastmod>` stands in for the date otherwise). A
`<sitemapindex>` gives its child sitemaps, newest first (by `<lastmod>`), so a caller with a fan-out budget
reads the fresh ones. Gzip bodies (`.xml.gz` served as a file, not as a Content-Encoding) are inflated here
with a size cap. The XML parser resolves no entities and loads no DTDs or network resources.
"""

from __future__ import annotations

import re
import zlib
from datetime import UTC, datetime, time
from urllib.parse import urljoin

from lxml import etree

from core.records import FeedEntry, LinkEvent, ParsedSitemap, SitemapUrl
from core.urls import url_scheme
from extractors.urls import canonical_url

NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
_GZIP_MAGIC = b"\x1f\x8b"
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class SitemapTooLarge(ValueError):
    """The inflated sitemap is larger than the cap (a compression bomb or a huge file)."""


def inflate(body: bytes, max_bytes: int) -> bytes:
    """The body itself, or its gzip content when it starts with the gzip magic; at most `max_bytes`."""
    if not body.startswith(_GZIP_MAGIC):
        return body
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        raise ValueError(f"corrupt gzip sitemap: {exc}") from None
    if len(out) > max_bytes or inflater.unconsumed_tail:
        raise SitemapTooLarge(f"sitemap larger than {max_bytes} bytes once decompressed")
    return out


def parse_date(value: str | None) -> datetime | None:
    """W3C datetime (what sitemaps use): a date, or a date and time with a zone; None when unreadable."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        if _DATE_ONLY.match(text):
            return datetime.combine(datetime.fromisoformat(text).date(), time(0), tzinfo=UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _child_text(element: etree._Element, name: str, namespace: str | None = None) -> str | None:
    for child in element:
        if _local(child.tag) == name and (namespace is None or etree.QName(child.tag).namespace == namespace):
            return "".join(child.itertext()).strip()
    return None


def _news(element: etree._Element) -> etree._Element | None:
    for child in element:
        if _local(child.tag) == "news" and etree.QName(child.tag).namespace == NEWS_NS:
            return child
    return None


def _location(element: etree._Element, base_url: str) -> str | None:
    loc = _child_text(element, "loc")
    if not loc:
        return None
    absolute = urljoin(base_url, loc)
    return absolute if url_scheme(absolute) in ("http", "https") else None


def _sitemap_url(element: etree._Element, loc: str) -> SitemapUrl:
    news = _news(element)
    lastmod = parse_date(_child_text(element, "lastmod"))
    if news is None:
        return SitemapUrl(loc, "", lastmod, None, None)
    publication = next((c for c in news if _local(c.tag) == "publication"), None)
    language = _child_text(publication, "language") if publication is not None else None
    name = _child_text(publication, "name") if publication is not None else None
    published = parse_date(_child_text(news, "publication_date")) or lastmod
    title = _child_text(news, "title") or ""
    return SitemapUrl(loc, title, published, (language or "").lower() or None, name or None)


def _newest_first(pairs: list[tuple[str, datetime | None]]) -> tuple[str, ...]:
    floor = datetime.min.replace(tzinfo=UTC)
    ordered = sorted(enumerate(pairs), key=lambda item: (-(item[1][1] or floor).timestamp(), item[0]))
    return tuple(dict.fromkeys(url for _, (url, _) in ordered))


def _root(document: bytes) -> etree._Element | None:
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, recover=True, huge_tree=False, remove_comments=True
    )
    try:
        return etree.fromstring(document, parser)
    except etree.XMLSyntaxError:
        return None


def parse_sitemap(body: bytes, sitemap_url: str, max_bytes: int = 50 * 1024 * 1024) -> ParsedSitemap:
    """Parse a sitemap or sitemap index body fetched from `sitemap_url` (relative locations resolve
    against it). Never raises for bad input: `error` says what is wrong."""
    try:
        document = inflate(body, max_bytes)
    except ValueError as exc:
        return ParsedSitemap(sitemap_url, "urlset", error=f"not a sitemap: {exc}")
    root = _root(document.lstrip()) if document.strip() else None
    kind = _local(root.tag) if root is not None else ""
    if root is None or kind not in ("urlset", "sitemapindex"):
        found = f"<{kind}>" if kind else "no XML document"
        return ParsedSitemap(
            sitemap_url, "urlset", error=f"not a sitemap: expected <urlset> or <sitemapindex>, found {found}"
        )
    item_name = "url" if kind == "urlset" else "sitemap"
    items = [child for child in root if _local(child.tag) == item_name]
    located = [(item, _location(item, sitemap_url)) for item in items]
    dropped = sum(1 for _, loc in located if loc is None)
    if kind == "sitemapindex":
        pairs = [(loc, parse_date(_child_text(item, "lastmod"))) for item, loc in located if loc]
        return ParsedSitemap(sitemap_url, "index", children=_newest_first(pairs), dropped=dropped)
    urls = tuple(_sitemap_url(item, loc) for item, loc in located if loc)
    return ParsedSitemap(sitemap_url, "urlset", urls=urls, dropped=dropped)


def sitemap_entries(
    parsed: ParsedSitemap, max_entries: int | None, source: str | None = None
) -> tuple[tuple[FeedEntry, ...], tuple[LinkEvent, ...]]:
    """The urlset's URLs as feed entries, newest first, at most `max_entries` when given (the rest counted
    as one `over_limit` event; the pass gives None and budgets new entries itself, flows.backlog). The title and
    date come from the news extension; pages are fetched as for feeds."""
    floor = datetime.min.replace(tzinfo=UTC)
    ordered = sorted(parsed.urls, key=lambda u: u.published_at or floor, reverse=True)
    entries: list[FeedEntry] = []
    events: list[LinkEvent] = []
    for item in ordered[:max_entries]:
        try:
            canonical = canonical_url(item.loc)
        except ValueError as exc:
            events.append(LinkEvent(parsed.url, item.loc, "invalid_url", str(exc)))
            continue
        name = item.publication or source or parsed.url
        entries.append(
            FeedEntry(parsed.url, item.loc, canonical, item.title, "", "", item.published_at, item.language, name)
        )
    if max_entries is not None and len(ordered) > max_entries:
        skipped = len(ordered) - max_entries
        events.append(
            LinkEvent(parsed.url, parsed.url, "over_limit", f"{skipped} URLs beyond the limit of {max_entries}")
        )
    return tuple(entries), tuple(events)
