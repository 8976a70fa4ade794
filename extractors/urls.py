"""URL canonicalisation: the identity of an article across feeds and runs."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from core.urls import DEFAULT_PORTS

# Query parameters that identify a campaign, a click or a share, never the document.
_TRACKING_EXACT = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "mkt_tok",
        "spm",
        "scm",
        "_trkparms",
        "ncid",
        "cmpid",
        "ocid",
        "sr_share",
        "share_token",
        "wt.mc_id",
        "wt_mc",
        "__twitter_impression",
        "oly_enc_id",
        "oly_anon_id",
        "vero_id",
        "rb_clickid",
        "s_cid",
        "xtor",
        "ref_src",
        "ref_url",
        "feature",
        "from_rss",
        "rss",
        "at_medium",
        "at_campaign",
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "hsa_", "_hs", "ga_")
_SAFE_PATH = "/:@!$&'()*+,;=-._~%"
_PERCENT_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")


def is_tracking_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in _TRACKING_EXACT or lowered.startswith(_TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, drop default port, fragment and tracking parameters, sort the query.

    Raises ValueError for something that is not an absolute http(s) URL.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {url[:200]!r}")
    host = parts.hostname.rstrip(".")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        host = host.lower()
    port = parts.port
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if ":" in host and not host.startswith("["):
        netloc = f"[{host}]" if port in (None, DEFAULT_PORTS[scheme]) else f"[{host}]:{port}"
    path = _PERCENT_ESCAPE.sub(lambda m: m.group(0).upper(), quote(parts.path, safe=_SAFE_PATH)) or "/"
    query_pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking_param(k)]
    query = urlencode(sorted(query_pairs), doseq=True)
    return urlunsplit((scheme, netloc, path, query, ""))


def article_id(canonical: str) -> str:
    """A stable id for an article: the first 16 hex digits of SHA-256 of its canonical URL."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
