"""WebSub discovery: a feed's hubs and its canonical topic URL (`rel="hub"`, `rel="self"`). Pure.

The WebSub recommendation looks first at the HTTP `Link` header of the feed response, then at the
document's own links (`<atom:link rel="hub">` in RSS, `<link rel="hub">` in Atom), which feedparser
exposes as the feed's `links`. Only absolute http(s) URLs count; duplicates are dropped, order is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

_LINK_VALUE = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]*)*)")
_REL_PARAM = re.compile(r""";\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,"]+))""", re.IGNORECASE)


@dataclass(frozen=True)
class HubLinks:
    hubs: tuple[str, ...]
    self_url: str | None


def _http_url(url: str, base: str) -> str | None:
    absolute = urljoin(base, url.strip())
    parts = urlsplit(absolute)
    return absolute if parts.scheme in ("http", "https") and parts.hostname else None


def header_links(link_header: str | None) -> list[tuple[str, frozenset[str]]]:
    """(URL, rel values) of each entry of an RFC 8288 `Link` header."""
    found: list[tuple[str, frozenset[str]]] = []
    for match in _LINK_VALUE.finditer(link_header or ""):
        rel = _REL_PARAM.search(match.group(2) or "")
        rels = (rel.group(1) or rel.group(2) or "") if rel else ""
        found.append((match.group(1), frozenset(r.lower() for r in rels.split())))
    return found


def document_links(feed_links: Iterable[Mapping[str, Any]]) -> list[tuple[str, frozenset[str]]]:
    """(URL, rel values) of feedparser's `feed.links` entries."""
    found: list[tuple[str, frozenset[str]]] = []
    for link in feed_links:
        href = str(link.get("href") or "")
        rels = str(link.get("rel") or "")
        if href:
            found.append((href, frozenset(r.lower() for r in rels.split())))
    return found


def discover(links: Iterable[tuple[str, frozenset[str]]], base_url: str) -> HubLinks:
    """Hubs in order of appearance and the first `self` URL, resolved against `base_url`."""
    hubs: list[str] = []
    self_url: str | None = None
    for href, rels in links:
        url = _http_url(href, base_url)
        if url is None:
            continue
        if "hub" in rels and url not in hubs:
            hubs.append(url)
        if "self" in rels and self_url is None:
            self_url = url
    return HubLinks(tuple(hubs), self_url)
