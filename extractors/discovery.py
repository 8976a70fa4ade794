"""Feed discovery from a fetched page: what a body is, which feeds a page advertises, where else to look.

Never fetches. `advertised_feeds` reads `<link rel="alternate">` of the RSS, Atom, RDF and JSON Feed types
(resolved against `<base href>` or the page URL); `usual_feed_urls` lists the paths sites commonly
publish feeds at, for when a page advertises none; `sniff_format` tells a feed, a sitemap and an HTML page
apart by their first bytes.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit, urlunsplit

import lxml.html
from lxml import etree

from core.records import FeedFormat, FeedLink
from core.urls import url_scheme
from extractors.encoding import decode_bytes
from extractors.jsonfeed import looks_like_json_feed

FEED_TYPES: dict[str, FeedFormat] = {
    "application/rss+xml": "rss",
    "application/atom+xml": "atom",
    "application/rdf+xml": "rdf",
    "application/feed+json": "json",
    "application/json": "json",
    "text/xml": "rss",
    "application/xml": "rss",
}
USUAL_PATHS = (
    "/feed",
    "/rss",
    "/rss.xml",
    "/feed.xml",
    "/atom.xml",
    "/index.xml",
    "/feed.json",
    "/feeds/posts/default",
    "/?feed=rss2",
)
_HTML = re.compile(rb"^\s*(<!--.*?-->\s*)*(<!doctype\s+html|<html|<head|<meta|<title)", re.IGNORECASE | re.DOTALL)
_ROOT = re.compile(rb"<(?!\?|!)([A-Za-z_][\w.:-]*)")


def sniff_format(body: bytes, content_type: str | None = None) -> FeedFormat:
    """What the body is, by its first element (or JSON Feed's version key), with the media type as a hint."""
    head = body[:8192].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"\x1f\x8b"):
        return "sitemap"  # a gzip file where a feed or sitemap is expected: only sitemaps are served so
    if head.startswith(b"{"):
        return "json" if looks_like_json_feed(head) else "unknown"
    if _HTML.match(head):
        return "html"
    root = _first_element(head)
    formats: dict[str, FeedFormat] = {
        "rss": "rss",
        "feed": "atom",
        "rdf": "rdf",
        "urlset": "sitemap",
        "sitemapindex": "sitemap-index",
        "html": "html",
    }
    if root in formats:
        return formats[root]
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return "html" if media in ("text/html", "application/xhtml+xml") else "unknown"


def _first_element(head: bytes) -> str:
    text = re.sub(rb"<!--.*?-->", b"", head, flags=re.DOTALL)
    text = re.sub(rb"<!DOCTYPE[^>]*>", b"", text, flags=re.IGNORECASE)
    match = _ROOT.search(text)
    return match.group(1).decode("ascii", "replace").split(":")[-1].lower() if match else ""


def _base(document: lxml.html.HtmlElement, page_url: str) -> str:
    for href in document.xpath("//base/@href"):
        candidate = urljoin(page_url, str(href).strip())
        if url_scheme(candidate) in ("http", "https"):
            return candidate
    return page_url


def advertised_feeds(body: bytes, page_url: str, content_type: str | None = None) -> tuple[FeedLink, ...]:
    """Feeds a page links with `<link rel="alternate" type="…">`, in page order, without repeats."""
    text = decode_bytes(body, content_type).text
    if not text.strip():
        return ()
    try:
        document = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return ()
    base = _base(document, page_url)
    found: dict[str, FeedLink] = {}
    for link in document.iter("link"):
        rel = {part.lower() for part in str(link.get("rel") or "").split()}
        media = str(link.get("type") or "").split(";", 1)[0].strip().lower()
        href = str(link.get("href") or "").strip()
        if "alternate" not in rel or media not in FEED_TYPES or not href:
            continue
        url = urljoin(base, href)
        if url_scheme(url) in ("http", "https") and url not in found:
            found[url] = FeedLink(url, str(link.get("title") or "").strip(), FEED_TYPES[media], "link")
    return tuple(found.values())


def usual_feed_urls(page_url: str) -> tuple[FeedLink, ...]:
    """The usual feed paths at the page's site root (for sites that advertise no feed)."""
    parts = urlsplit(page_url)
    root = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    return tuple(FeedLink(urljoin(root + "/", path.lstrip("/")), "", "unknown", "guess") for path in USUAL_PATHS)
