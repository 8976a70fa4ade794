"""Feed parsing: feedparser's own conformance feeds, real legacy-encoded feeds, and the failure cases."""

from __future__ import annotations

import html
import re
import time
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractors.clean import normalize_text
from extractors.encoding import decode_bytes
from extractors.feeds import parse_feed
from extractors.identity import linkless_identity
from tests.conftest import DATA

FEEDPARSER = sorted((DATA / "feedparser").rglob("*.xml"))
CJK_FEEDS = sorted((DATA / "chardet-cjk-feeds").glob("*/*.xml"))
_HEADER = re.compile(r"^\s*Header:\s*Content-type:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
_EXPECT_ENCODING = re.compile(r"Expect:.*encoding == '([^']+)'")
_EXPECT_DESCRIPTION = re.compile(r"Expect:\s+not bozo and entries\[0\]\['description'\] == '(.*)'\s*$", re.MULTILINE)


def header_content_type(body: bytes) -> str | None:
    match = _HEADER.search(body[:3000].decode("latin-1"))
    return match.group(1) if match else None


def letters_equal(ours: str, truth: str) -> bool:
    if len(ours) != len(truth):
        return False
    return all(a == b or not unicodedata.category(a).startswith("L") for a, b in zip(ours, truth, strict=True))


@pytest.mark.parametrize("path", FEEDPARSER, ids=lambda p: p.name)
def test_feedparser_conformance_feed_never_crashes(path: Path) -> None:
    body = path.read_bytes()
    parsed, _ = parse_feed(body, "http://example.com/feed", header_content_type(body))
    assert parsed.feed_url == "http://example.com/feed"
    for entry in parsed.entries:
        assert "\ufffd" not in entry.title + entry.summary


@pytest.mark.parametrize(
    "path", [p for p in FEEDPARSER if _EXPECT_ENCODING.search(p.read_text("latin-1"))], ids=lambda p: p.name
)
def test_feedparser_expected_encoding_is_honoured(path: Path) -> None:
    body = path.read_bytes()
    expected = _EXPECT_ENCODING.search(body.decode("latin-1"))
    assert expected
    truth = body.decode(expected.group(1), errors="replace")
    ours = decode_bytes(body, header_content_type(body)).text
    if "\ufffd" not in truth:
        assert letters_equal(ours.lstrip("\ufeff"), truth.lstrip("\ufeff"))


def expected_description(path: Path) -> str | None:
    match = _EXPECT_DESCRIPTION.search(path.read_text("latin-1"))
    # Double-escaped entities ('&#x2019;' kept as text) test feedparser internals, not decoding: left out.
    return match.group(1) if match and "&" not in match.group(1) else None


@pytest.mark.parametrize("path", [p for p in FEEDPARSER if expected_description(p)], ids=lambda p: p.name)
def test_feedparser_expected_description(path: Path) -> None:
    body = path.read_bytes()
    match = _EXPECT_DESCRIPTION.search(body.decode("latin-1"))
    assert match
    expected = match.group(1).encode("latin-1").decode("unicode_escape")
    # These items have no link (so they are stored from their feed text): check the decoding and cleaning.
    assert expected in normalize_text(html.unescape(decode_bytes(body, header_content_type(body)).text))


def is_html(path: Path) -> bool:
    return b"<html" in path.read_bytes()[:600].lower()


@pytest.mark.parametrize("path", [p for p in CJK_FEEDS if not is_html(p)], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_real_legacy_cjk_feed_yields_clean_entries(path: Path) -> None:
    parsed, _ = parse_feed(path.read_bytes(), f"http://feeds.example/{path.name}")
    assert parsed.error is None, parsed.error
    assert parsed.entries, "a real feed with items must yield entries"
    for entry in parsed.entries:
        assert "\ufffd" not in entry.title + entry.summary + entry.content
        assert entry.canonical_url.startswith(("http://", "https://", "urn:", "tag:"))
        assert entry.link.startswith(("http://", "https://")) or not entry.link


@pytest.mark.parametrize("path", [p for p in CJK_FEEDS if is_html(p)], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_legacy_html_page_served_as_feed_is_a_feed_error(path: Path) -> None:
    parsed, _ = parse_feed(path.read_bytes(), f"http://feeds.example/{path.name}")
    assert parsed.error is not None and "HTML page" in parsed.error


RSS2 = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Demo</title><language>ja</language><ttl>30</ttl>
<item><title>T1</title><link>https://ex.com/a?utm_source=rss&amp;id=1</link>
<description>&lt;p&gt;First&lt;/p&gt;&lt;p&gt;Second&lt;/p&gt;</description>
<pubDate>Tue, 18 Nov 2025 09:00:00 +0900</pubDate></item>
<item><title>No link</title><description>x</description></item>
<item><title>Relative</title><link>/news/2</link></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="zh-TW"><title>A</title><id>urn:a</id>
<updated>2025-01-01T00:00:00Z</updated>
<entry><title>E</title><link rel="alternate" href="https://ex.com/e"/><id>urn:e</id><updated>2025-01-02T03:04:05Z</updated>
<content type="html">&lt;p&gt;Body &lt;b&gt;bold&lt;/b&gt;&lt;/p&gt;</content></entry></feed>"""

RDF = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
<channel rdf:about="https://ex.com/"><title>R</title><link>https://ex.com/</link></channel>
<item rdf:about="https://ex.com/r1"><title>R1</title><link>https://ex.com/r1</link><description>d</description></item>
</rdf:RDF>"""

RSS091 = b"""<?xml version="1.0"?><rss version="0.91"><channel><title>Old</title><link>https://ex.com/</link>
<item><title>Old item</title><link>https://ex.com/old</link></item></channel></rss>"""


def test_rss2_entries_links_dates_and_ttl() -> None:
    parsed, events = parse_feed(RSS2, "https://ex.com/feed.xml", "application/rss+xml", base_url="https://ex.com/f/")
    assert [e.title for e in parsed.entries] == ["T1", "No link", "Relative"]
    first = parsed.entries[0]
    assert first.canonical_url == "https://ex.com/a?id=1"
    assert first.summary == "First\nSecond"
    assert first.published_at is not None and first.published_at.isoformat() == "2025-11-18T00:00:00+00:00"
    assert first.language_hint == "ja"
    assert parsed.entries[2].link == "https://ex.com/news/2"
    assert parsed.entries[1].link == "" and parsed.entries[1].canonical_url.startswith("urn:newsmon:text:")
    assert parsed.ttl_seconds == 1800
    assert events == ()


@pytest.mark.parametrize(("body", "title"), [(ATOM, "E"), (RDF, "R1"), (RSS091, "Old item")])
def test_other_feed_formats(body: bytes, title: str) -> None:
    parsed, _ = parse_feed(body, "https://ex.com/feed")
    assert parsed.error is None
    assert parsed.entries[0].title == title


def test_atom_content_is_text_and_language_comes_from_xml_lang() -> None:
    parsed, _ = parse_feed(ATOM, "https://ex.com/feed")
    entry = parsed.entries[0]
    assert entry.content == "Body bold"
    assert entry.language_hint == "zh-tw"


def test_html_page_given_as_feed_is_a_feed_error() -> None:
    parsed, _ = parse_feed(b"<!DOCTYPE html><html><body><h1>Moved</h1></body></html>", "https://ex.com/feed")
    assert parsed.error is not None and "HTML page" in parsed.error
    assert parsed.entries == ()


@pytest.mark.parametrize("body", [b"", b"   \n", b"\xef\xbb\xbf"])
def test_empty_body_is_a_feed_error(body: bytes) -> None:
    parsed, _ = parse_feed(body, "https://ex.com/feed")
    assert parsed.error is not None and "empty" in parsed.error


def test_entry_limit_is_recorded_not_silent() -> None:
    items = "".join(f"<item><title>{i}</title><link>https://ex.com/{i}</link></item>" for i in range(30))
    body = f"<rss version='2.0'><channel><title>x</title>{items}</channel></rss>".encode()
    parsed, events = parse_feed(body, "https://ex.com/feed", max_entries=10)
    assert len(parsed.entries) == 10
    assert [e.outcome for e in events] == ["over_limit"] and "20 entries" in events[0].reason


def test_billion_laughs_does_not_expand(tmp_path: Path) -> None:
    lol = '<!ENTITY lol0 "lol">' + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    body = f'<?xml version="1.0"?><!DOCTYPE rss [{lol}]><rss><channel><title>&lol9;</title></channel></rss>'
    started = time.monotonic()
    parsed, _ = parse_feed(body.encode(), "https://ex.com/feed")
    assert time.monotonic() - started < 5
    assert len(parsed.title) < 100_000


def test_external_entity_is_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<rss version='2.0'><channel><title>t</title><item><title>&x;</title><link>https://ex.com/1</link></item>"
        "</channel></rss>"
    )
    parsed, _ = parse_feed(body.encode(), "https://ex.com/feed")
    assert all("TOP-SECRET" not in e.title + e.summary for e in parsed.entries)
    assert "TOP-SECRET" not in parsed.title


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_never_raise(body: bytes) -> None:
    parsed, _ = parse_feed(body, "https://ex.com/feed")
    assert parsed.error is not None or isinstance(parsed.entries, tuple)


HARD = DATA / "hard-cases"


def test_press_wire_entries_without_links_keep_their_ids() -> None:
    parsed, events = parse_feed((HARD / "linkless-wire.atom").read_bytes(), "https://feeds.example/wire.atom")
    assert events == ()
    identities = [e.canonical_url for e in parsed.entries]
    assert identities == [
        "tag:wire.example.cn,2026-11-28:flash/88231",
        "urn:uuid:6f1c2a4e-9b3d-4c8e-a1f2-3d5e7b9c0a11",
        "tag:wire.example.cn,2026-11-28:flash/88231",  # listed twice: one article (the pass keeps the first)
        "https://wire.example.cn/flash/88219",
        "urn:uuid:0b9e4d7c-2a61-4f38-9c05-e8d1b6a3f724",
    ]
    assert [bool(e.link) for e in parsed.entries] == [False, False, False, True, False]
    assert "海外仓" in parsed.entries[0].content


def test_press_release_items_get_feed_scoped_or_content_identities() -> None:
    body = (HARD / "linkless-press.rss").read_bytes()
    parsed, events = parse_feed(body, "https://feeds.example/press.rss")
    other_feed, _ = parse_feed(body, "https://feeds.example/other.rss")
    guid, text, same_text, linked = (e.canonical_url for e in parsed.entries)
    assert guid.startswith("urn:newsmon:guid:") and guid != other_feed.entries[0].canonical_url
    assert text.startswith("urn:newsmon:text:") and text == same_text == other_feed.entries[1].canonical_url
    assert linked == "https://press.example.com/releases/2026/investor-conference"
    assert [(e.outcome, e.url) for e in events] == [("refused", "javascript:alert(1)")]


@given(st.text(max_size=40), st.text(max_size=40), st.text(max_size=80))
def test_linkless_identity_is_stable_and_never_a_web_url(entry_id: str, title: str, text: str) -> None:
    first = linkless_identity("https://f.example/feed", entry_id, title, text)
    assert first == linkless_identity("https://f.example/feed", entry_id, title, text)
    assert first is None or not first.startswith(("http://", "https://"))
    assert first is not None or not (entry_id.strip() or title.strip() or text.strip())


def test_entry_source_is_the_configured_feed_name_first() -> None:
    rss = (
        b"<?xml version='1.0'?><rss version='2.0'><channel><title>Feed title</title>"
        b"<item><title>A</title><link>https://news.example/a</link></item></channel></rss>"
    )
    named, _ = parse_feed(rss, "https://news.example/rss", name="Korea desk")
    unnamed, _ = parse_feed(rss, "https://news.example/rss")
    assert named.entries[0].source == "Korea desk"
    assert unnamed.entries[0].source == "Feed title"
