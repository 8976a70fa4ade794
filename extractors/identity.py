"""A stable identity for a feed entry that has no web link (press wires, link-less summaries). Pure.

Such an entry is stored from its feed content; its identity takes the place of the canonical URL (and so
of the article id): the entry's id when it is a global identifier (`urn:`, `tag:` — unique by design),
else the id scoped to its feed (`urn:newsmon:guid:<hash>`; a bare "12345" is only unique within one
feed), else a hash of title and text (`urn:newsmon:text:<hash>`; the same item listed twice, or by two
feeds, is one article).
"""

from __future__ import annotations

import hashlib

from core.text import fold_for_matching
from core.urls import url_scheme

GLOBAL_ID_SCHEMES = frozenset({"urn", "tag"})


def is_identifier(link: str, entry_id: str) -> bool:
    """Whether a 'link' is really the entry's identifier (feedparser copies an Atom id into `link`)."""
    return url_scheme(link) in GLOBAL_ID_SCHEMES or (bool(link) and link == entry_id and "://" not in link)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:32]


def linkless_identity(feed_url: str, entry_id: str, title: str, text: str) -> str | None:
    """The entry's identity, or None when it has neither an id nor any title or text."""
    entry_id = entry_id.strip()
    if url_scheme(entry_id) in GLOBAL_ID_SCHEMES:
        return url_scheme(entry_id) + entry_id[len(url_scheme(entry_id)) :]
    if entry_id:
        return f"urn:newsmon:guid:{_digest(feed_url, entry_id)}"
    folded_title, folded_text = fold_for_matching(title).strip(), fold_for_matching(text).strip()
    if not folded_title and not folded_text:
        return None
    return f"urn:newsmon:text:{_digest(folded_title, folded_text)}"
