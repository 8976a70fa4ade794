"""HTML fragments (feed summaries, content:encoded) to plain text with paragraph breaks."""

from __future__ import annotations

import html
import re

import lxml.etree
import lxml.html

_BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "tr",
        "table",
        "section",
        "article",
        "header",
        "footer",
        "pre",
        "hr",
        "dd",
        "dt",
        "figure",
        "figcaption",
    }
)
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "math")
_TAG_RE = re.compile(r"<[^>]{0,2000}>")


def html_to_text(fragment: str) -> str:
    """Visible text of an HTML fragment; block elements become line breaks. Never raises."""
    if not fragment or "<" not in fragment:
        return html.unescape(fragment or "")
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (lxml.etree.ParserError, ValueError, lxml.etree.XMLSyntaxError):
        return html.unescape(_TAG_RE.sub(" ", fragment))
    for bad in root.iter(*_DROP_TAGS):
        bad.drop_tree()
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.lower() in _BLOCK_TAGS:
            element.tail = "\n" + (element.tail or "")
    return str(root.text_content())
