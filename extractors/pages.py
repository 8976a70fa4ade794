"""Article extraction from a fetched page with trafilatura. Bytes + URL in, an ExtractedPage out.

trafilatura is given decoded text (our decoder handles lying charsets and legacy CJK encodings) and never
a URL to fetch.
"""

from __future__ import annotations

import functools
import logging
import re
from configparser import ConfigParser
from datetime import UTC, datetime

import trafilatura
from trafilatura.settings import use_config

from core.records import ExtractedPage
from core.text import CJK_CHARACTER, CJK_LANGUAGES
from extractors.encoding import decode_bytes
from extractors.language import normalize_language_tag

# trafilatura logs every page it finds no article in at ERROR level; that outcome is ours to report (the
# entry is kept from its feed text or counted as `too_short`), so only its critical messages get through.
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_HTML_LANG = re.compile(r"""<html[^>]{0,500}?\blang\s*=\s*["']?([A-Za-z-]{2,12})""", re.IGNORECASE)
_TITLE = re.compile(r"<title[^>]*>([^<]{1,300})", re.IGNORECASE)
# trafilatura falls back to a whole-container "baseline" below min_extracted_size characters (250). A CJK
# character carries roughly what 2-3 Latin ones do, so CJK pages get a proportionally smaller threshold;
# otherwise a normal short CJK report comes back glued to its headline, date and share buttons.
_MIN_EXTRACTED_CJK = 100


@functools.cache
def _trafilatura_config(cjk: bool) -> ConfigParser:
    config = use_config()
    # A page's date comes from its metadata, JSON-LD, <time> elements, URL and common date formats
    # (htmldate's fast mode); the feed's date is preferred anyway. The extensive search would run
    # dateparser over free text: ~2.5 s of locale-regex compilation per worker process and a few ms per page.
    config.set("DEFAULT", "EXTENSIVE_DATE_SEARCH", "off")
    if cjk:
        config.set("DEFAULT", "MIN_EXTRACTED_SIZE", str(_MIN_EXTRACTED_CJK))
    return config


def _looks_cjk(html: str, lang: str | None) -> bool:
    if lang in CJK_LANGUAGES:
        return True
    title = _TITLE.search(html[:20_000])
    return bool(title and len(CJK_CHARACTER.findall(title.group(1))) >= 4)


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def extract_page(body: bytes, url: str, content_type: str | None = None) -> ExtractedPage | None:
    """The main article of an HTML page, or None when trafilatura finds no article text.

    An exception here is a bug or a page trafilatura cannot handle: the caller records it with the entry."""
    html = _XML_DECL.sub("", decode_bytes(body, content_type).text, count=1)
    if not html.strip():
        return None
    lang_match = _HTML_LANG.search(html[:20_000])
    page_lang = normalize_language_tag(lang_match.group(1) if lang_match else None)
    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        config=_trafilatura_config(_looks_cjk(html, page_lang)),
    )
    if document is None or isinstance(document, dict) or not (document.text or "").strip():
        return None
    return ExtractedPage(
        url=url,
        title=(document.title or "").strip(),
        text=document.text or "",
        published_at=_parse_date(document.date),
        site_name=document.sitename,
        language_hint=normalize_language_tag(document.language) or page_lang,
    )
