"""Hostile feed bodies against the parser: no body makes it open a file or a URL (class 1 of issue 16), and
no body makes it raise (class 2): every problem comes back as the feed's recorded error or warning.

The file-system and network checks use a Python audit hook, so they see every `open`, `socket.connect` and
`getaddrinfo` that happens anywhere inside `parse_feed` (feedparser included) — not only the ones we expect.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from extractors.feeds import parse_feed
from extractors.jsonfeed import parse_json_feed

_WATCH = threading.local()
_SOCKET_EVENTS = frozenset({"socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "urllib.Request"})
_CODE_SUFFIXES = (".py", ".pyc", ".so")


def _is_import(path: object) -> bool:
    """A lazily imported module (e.g. a codec looked up by label) is not the body being opened."""
    text = str(path)
    return text.endswith(_CODE_SUFFIXES) and text.startswith((sys.prefix, sys.base_prefix))


def _audit(event: str, args: tuple[Any, ...]) -> None:
    touched = getattr(_WATCH, "touched", None)
    if touched is None:
        return
    if event == "open" and not _is_import(args[0]):
        touched.append(f"open {args[0]!r}")
    elif event in _SOCKET_EVENTS:
        touched.append(f"{event} {args!r}"[:200])


sys.addaudithook(_audit)


@contextmanager
def no_file_or_network_access() -> Iterator[None]:
    _WATCH.touched = []
    try:
        yield
    finally:
        touched, _WATCH.touched = _WATCH.touched, None
    assert not touched, f"parse_feed touched the outside world: {touched[:5]}"


def _feed(title: str) -> bytes:
    return (
        "<?xml version='1.0'?><rss version='2.0'><channel><title>local file</title>"
        f"<item><title>{title}</title><link>https://ex.com/secret</link></item></channel></rss>"
    ).encode()


@pytest.fixture
def local_feed(tmp_path: Path) -> Path:
    path = tmp_path / "local-feed.xml"
    path.write_bytes(_feed("SECRET FROM A LOCAL FILE"))
    return path


def _bodies_naming(path: Path) -> list[bytes]:
    name = str(path)
    return [
        name.encode(),
        f"  {name}\n".encode(),
        f"file://{name}".encode(),
        f"file:{name}".encode(),
        name.encode("utf-16"),
        name.encode("utf-8-sig"),
    ]


def test_a_body_naming_a_local_feed_file_is_not_read(local_feed: Path) -> None:
    for body in _bodies_naming(local_feed):
        with no_file_or_network_access():
            parsed, events = parse_feed(body, "https://ex.com/feed")
        assert parsed.error is not None, body
        assert not parsed.entries and not events, body


@pytest.mark.parametrize(
    "body",
    [b"/dev/zero", b"/dev/urandom", b"/proc/self/environ", b"/etc/passwd", b"file:///etc/passwd", b"."],
)
def test_device_and_system_paths_are_just_text(body: bytes) -> None:
    with no_file_or_network_access():
        parsed, _ = parse_feed(body, "https://ex.com/feed")
    assert parsed.error is not None and not parsed.entries


@pytest.mark.parametrize(
    "body",
    [b"http://127.0.0.1:9/feed.xml", b"https://example.com/rss", b"feed://example.com/rss", b"ftp://ex.com/x"],
)
def test_url_bodies_are_not_fetched(body: bytes) -> None:
    with no_file_or_network_access():
        parsed, _ = parse_feed(body, "https://ex.com/feed")
    assert parsed.error is not None and not parsed.entries


_PATHISH = st.one_of(
    st.sampled_from(["/", "./", "../", "~/", "file://", "file:/", "http://127.0.0.1:1/", "feed://", ""]).flatmap(
        lambda prefix: st.text(st.characters(codec="utf-8"), max_size=60).map(lambda rest: prefix + rest)
    ),
    st.text(max_size=200),
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=300), _PATHISH.map(lambda t: t.encode("utf-8", "surrogatepass"))))
@example(b"/etc/hostname")
@example(b"/dev/null")
@example(b"tests/data/feedparser/wellformed/rss/item_title.xml")
def test_no_body_touches_the_file_system_or_network(body: bytes) -> None:
    with no_file_or_network_access():
        parse_feed(body, "https://ex.com/feed", "application/rss+xml")


# --- class 2: no body makes the parser raise; bad entries are events, the good ones survive -------------

_NASTY = st.sampled_from(
    [
        "&#xD800;",
        "&#55296;",
        "&#x110000;",
        "&#" + "9" * 5000 + ";",
        "&#x" + "f" * 40 + ";",
        "&#0;",
        "&#x0;",
        "&#",
        "&#x;",
        "<![CDATA[",
        "]]>",
        "<",
        "&",
        "&bogus;",
        "<item>",
        "</item>",
        "\x00",
        "\ud800",
        "<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>",
        "&e;",
    ]
)
_FRAGMENT = st.one_of(_NASTY, st.text(max_size=12), st.from_regex(r"&#x?[0-9a-fA-F]{1,12};?", fullmatch=True))
_FIELD = st.lists(_FRAGMENT, max_size=6).map("".join)


def _rss(items: list[tuple[str, str]]) -> bytes:
    body = "".join(f"<item><title>{t}</title><link>{link}</link></item>" for t, link in items)
    return f"<rss version='2.0'><channel><title>x</title>{body}</channel></rss>".encode("utf-8", "surrogatepass")


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_FIELD, _FIELD), max_size=4), st.sampled_from([None, "text/xml", "text/html; charset=x"]))
def test_hostile_markup_never_raises(items: list[tuple[str, str]], content_type: str | None) -> None:
    parsed, events = parse_feed(_rss(items), "https://ex.com/feed", content_type)
    assert parsed.error is None or not parsed.entries
    for entry in parsed.entries:
        (entry.title + entry.summary + entry.link).encode("utf-8")  # storable: no lone surrogates
    assert all(event.reason for event in events)


_GOOD = _rss([("good one", "https://ex.com/1"), ("good two", "https://ex.com/2")])


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(_GOOD) - 1), st.binary(min_size=1, max_size=8)), max_size=6))
def test_mutated_feed_bytes_never_raise(mutations: list[tuple[int, bytes]]) -> None:
    body = bytearray(_GOOD)
    for position, data in mutations:
        body[position : position + len(data)] = data
    parse_feed(bytes(body), "https://ex.com/feed")


@pytest.mark.parametrize("reference", ["&#xD800;", "&#x110000;", "&#" + "9" * 5000 + ";", "&#x" + "f" * 40 + ";"])
def test_a_reference_to_no_character_costs_one_character_not_the_feed(reference: str) -> None:
    """Ill-formed (so feedparser's fallback parser runs) with an impossible character reference in one
    title: the feed still yields both entries."""
    body = _rss([(f"bad {reference} & worse", "https://ex.com/1"), ("fine", "https://ex.com/2")])
    parsed, _ = parse_feed(body, "https://ex.com/feed")
    assert parsed.error is None
    assert [e.title for e in parsed.entries] == ["bad \ufffd & worse", "fine"]


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
_ITEM_KEYS = st.sampled_from(["id", "url", "external_url", "title", "content_html", "content_text", "summary",
                              "date_published", "date_modified", "language", "tags", "authors", "image"])  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_ITEM_KEYS, _JSON, max_size=6))
def test_a_hostile_json_feed_item_never_costs_the_other_items(item: dict[str, object]) -> None:
    good = {"id": "ok", "url": "https://a.example/ok", "content_text": "fine text"}
    doc = {"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": [item, good]}
    parsed, events = parse_json_feed(json.dumps(doc).encode(), "https://a.example/feed.json")
    assert "https://a.example/ok" in [e.link for e in parsed.entries]
    assert len(parsed.entries) + len(events) == 2  # each item ends as an entry or a counted event
