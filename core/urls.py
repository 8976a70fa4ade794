"""Which URLs newsmon fetches at all: the one place that says "http(s) only"."""

from __future__ import annotations

import re

ALLOWED_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}
_SCHEME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def url_scheme(url: str) -> str:
    """The URL's scheme, lower-cased ('' when it has none)."""
    match = _SCHEME_RE.match(url.strip())
    return match.group(0)[:-1].lower() if match else ""


def scheme_refusal(url: str) -> str | None:
    """Why a URL is not fetched because of its scheme (file:, ftp:, data:, javascript:, none), or None."""
    scheme = url_scheme(url)
    if scheme in ALLOWED_SCHEMES:
        return None
    return f"scheme {scheme or '(none)'!r} is not fetched (only http and https)"
