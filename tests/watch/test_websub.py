"""WebSub subscriber against a real hub process on loopback: discovery, subscribe + intent verification,
signed content distribution, bad signatures, size cap, denial, lease expiry and renewal, unsubscribe."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import feedparser
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.settings import HttpPolicy, WebSubSettings
from extractors.hubs import discover, document_links, header_links
from flows.http import HttpFetcher
from flows.subscriber import Push, Subscriptions
from flows.watch_server import WatchServer
from flows.websub import (
    activated,
    due_action,
    is_pushing,
    new_subscription,
    push_verdict,
    sign,
    signature_ok,
    verify_intent,
)

HUB = Path(__file__).with_name("websub_hub.py")
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
RSS = b"""<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
<title>Pushed</title><atom:link rel="hub" href="HUB"/><atom:link rel="self" href="SELF"/>
<item><title>One</title><link>https://example.com/one</link><description>first</description></item>
</channel></rss>"""


# --- pure parts -------------------------------------------------------------------------------------


def test_discovery_from_rss_atom_and_link_header() -> None:
    rss = feedparser.parse(RSS.replace(b"HUB", b"https://hub.example/").replace(b"SELF", b"https://ex.com/feed"))
    found = discover(document_links(rss.feed.get("links", [])), "https://ex.com/feed.xml")
    assert found.hubs == ("https://hub.example/",) and found.self_url == "https://ex.com/feed"
    atom = feedparser.parse(
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><link rel="hub" href="/hub"/>'
        b'<link rel="self" href="https://ex.com/atom"/><link rel="alternate" href="https://ex.com/"/></feed>'
    )
    found = discover(document_links(atom.feed.get("links", [])), "https://ex.com/atom")
    assert found.hubs == ("https://ex.com/hub",) and found.self_url == "https://ex.com/atom"
    header = '<https://h1.example/>; rel="hub", <https://ex.com/t>; rel="self", <ftp://x/>; rel="hub"'
    found = discover(header_links(header), "https://ex.com/")
    assert found.hubs == ("https://h1.example/",) and found.self_url == "https://ex.com/t"


@given(st.text(max_size=300))
def test_link_header_parsing_never_raises(header: str) -> None:
    for url in discover(header_links(header), "https://ex.com/").hubs:
        assert url.startswith(("http://", "https://"))


def test_intent_verification_only_for_what_we_asked() -> None:
    sub = new_subscription("https://ex.com/feed", "https://ex.com/feed", "https://hub.example/", NOW)
    ask = {"hub.mode": "subscribe", "hub.topic": sub.topic, "hub.challenge": "c1", "hub.lease_seconds": "100"}
    assert verify_intent(None, ask, NOW, 0.5).status == 404
    assert verify_intent(sub, {**ask, "hub.topic": "https://evil.example/"}, NOW, 0.5).status == 404
    assert verify_intent(sub, {**ask, "hub.mode": "unsubscribe"}, NOW, 0.5).status == 404
    answer = verify_intent(sub, ask, NOW, 0.5)
    assert answer.status == 200 and answer.body == b"c1"
    active = answer.subscription
    assert active is not None and active.state == "active" and active.expires_at == NOW + timedelta(seconds=100)
    assert active.renew_at == NOW + timedelta(seconds=50)


@given(st.integers(min_value=1, max_value=10**8), st.floats(min_value=0, max_value=0.999999))
def test_renewal_is_at_half_the_lease_with_bounded_jitter(lease: int, unit: float) -> None:
    sub = activated(new_subscription("f", "t", "h", NOW), str(lease), NOW, unit)
    assert sub.renew_at is not None and sub.expires_at is not None
    share = (sub.renew_at - NOW).total_seconds() / lease
    assert 0.4 - 1e-6 <= share <= 0.6 + 1e-6 and sub.renew_at < sub.expires_at


@given(st.binary(max_size=2000), st.sampled_from(["sha1", "sha256", "sha384", "sha512"]))
def test_signatures(body: bytes, method: str) -> None:
    secret = "s3cret"
    header = sign(secret, body, method)
    expected = "weak_signature" if method == "sha1" else None
    assert signature_ok(secret, header, body, allow_sha1=False) == expected
    assert signature_ok(secret, header, body, allow_sha1=True) is None
    assert signature_ok("other", header, body, allow_sha1=True) == "bad_signature"
    assert signature_ok(secret, header, body + b"x", allow_sha1=True) == "bad_signature"
    assert signature_ok(secret, None, body, allow_sha1=True) == "no_signature"
    assert signature_ok(secret, "md5=abc", body, allow_sha1=True) == "bad_signature"


def test_push_verdicts_and_lifecycle() -> None:
    settings = WebSubSettings(max_body_bytes=10, quiet_seconds=3600, retry_seconds=60)
    sub = activated(new_subscription("f", "t", "h", NOW), "1000", NOW, 0.5)
    assert push_verdict(sub, sign(sub.secret, b"x" * 11), b"x" * 11, settings) == "too_large"
    assert push_verdict(None, None, b"", settings) == "unknown_callback"
    assert is_pushing(sub, NOW + timedelta(seconds=10), settings)
    assert not is_pushing(sub, NOW + timedelta(seconds=3601), settings)  # the hub went quiet
    assert not is_pushing(sub, NOW + timedelta(seconds=1000), settings)  # the lease lapsed
    assert due_action(sub, True, NOW + timedelta(seconds=499), settings) is None
    assert due_action(sub, True, NOW + timedelta(seconds=500), settings) == "renew"
    assert due_action(sub, True, NOW + timedelta(seconds=1000), settings) == "expire"
    assert due_action(sub, False, NOW, settings) == "unsubscribe"


# --- against the real hub -----------------------------------------------------------------------------


def _serve_feed(body: Callable[[], bytes]) -> tuple[ThreadingHTTPServer, str]:
    class Feed(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            data = body()
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Feed)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/feed.xml"


@pytest.fixture
def hub_process(request: pytest.FixtureRequest) -> Iterator[str]:
    lease = getattr(request, "param", 86400)
    process = subprocess.Popen([sys.executable, str(HUB), "--max-lease", str(lease)], stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert line.startswith("PORT "), line
        yield f"http://127.0.0.1:{line.split()[1]}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _post(url: str, form: dict[str, str]) -> Any:
    data = urllib.parse.urlencode(form).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=20) as response:
        return json.loads(response.read() or b"null")


def _until(check: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


class _Subscriber:
    """The watcher's WebSub side, assembled as the watcher does: registry + callback server + client."""

    def __init__(self, settings: WebSubSettings) -> None:
        self.subs = Subscriptions(settings)
        self.server = WatchServer("127.0.0.1", 0, self.subs, lambda: (True, True), lambda: (b"", "text/plain"), 4096)
        self.subs.settings = WebSubSettings(
            **{**settings.__dict__, "callback_url": f"http://127.0.0.1:{self.server.port}/websub"}
        )
        self.fetcher = HttpFetcher(HttpPolicy(allow_hosts=("127.0.0.1",), retries=0))
        self.server.start()

    def close(self) -> None:
        self.server.stop()
        self.fetcher.close()


@pytest.fixture
def subscriber() -> Iterator[_Subscriber]:
    client = _Subscriber(WebSubSettings(enabled=True, lease_seconds=3600, retry_seconds=1))
    yield client
    client.close()


def _subscribe(subscriber: _Subscriber, hub: str, feed_url: str) -> None:
    subscriber.subs.discovered(feed_url, feed_url, (hub + "/",), datetime.now(UTC))
    lines = subscriber.subs.run_due(subscriber.fetcher, {feed_url}, datetime.now(UTC))
    assert lines and "waiting for the hub" in lines[0], lines
    _until(lambda: subscriber.subs.pushing(feed_url, datetime.now(UTC)))


def test_subscribe_verify_publish_and_bad_signature(hub_process: str, subscriber: _Subscriber) -> None:
    feed_server, feed_url = _serve_feed(lambda: RSS.replace(b"HUB", hub_process.encode()).replace(b"SELF", b"x"))
    try:
        _subscribe(subscriber, hub_process, feed_url)
        [live] = json.loads(urllib.request.urlopen(hub_process + "/subscriptions", timeout=10).read())
        assert live["topic"] == feed_url and live["callback"].startswith(subscriber.subs.settings.callback_url)
        assert _post(hub_process + "/publish", {"topic": feed_url}) == [{"callback": live["callback"], "status": 202}]
        push: Push = subscriber.subs.pushes.get(timeout=5)
        assert push.feed_url == feed_url and b"<title>One</title>" in push.body and 'rel="hub"' in str(push.link_header)
        # a forged signature is acknowledged but never queued
        assert _post(hub_process + "/publish", {"topic": feed_url, "bad_signature": "1"})[0]["status"] == 202
        assert subscriber.subs.pushes.empty() and subscriber.subs.rejected["bad_signature"] == 1
        # sha1 is refused unless allowed
        _post(hub_process + "/publish", {"topic": feed_url, "sign": "sha1"})
        assert subscriber.subs.pushes.empty() and subscriber.subs.rejected["weak_signature"] == 1
        changed = subscriber.subs.take_changed()
        assert [s.state for s in changed] == ["active"] and changed[0].last_push_at is not None
    finally:
        feed_server.shutdown()
        feed_server.server_close()


def test_callback_refuses_oversized_bodies_and_unknown_callbacks(subscriber: _Subscriber) -> None:
    base = subscriber.subs.settings.callback_url
    big = urllib.request.Request(base + "/nope", data=b"x" * 5000, method="POST")
    with pytest.raises(urllib.error.HTTPError) as too_large:
        urllib.request.urlopen(big, timeout=10)
    assert too_large.value.code == 413
    with pytest.raises(urllib.error.HTTPError) as unknown:
        urllib.request.urlopen(urllib.request.Request(base + "/nope", data=b"<rss/>", method="POST"), timeout=10)
    assert unknown.value.code == 410
    with pytest.raises(urllib.error.HTTPError) as verify:
        urllib.request.urlopen(base + "/nope?hub.mode=subscribe&hub.topic=x&hub.challenge=y", timeout=10)
    assert verify.value.code == 404


def test_denied_subscription_falls_back_to_polling(hub_process: str, subscriber: _Subscriber) -> None:
    feed_url = "http://127.0.0.1:9/feed.xml"
    _subscribe(subscriber, hub_process, feed_url)
    sub = subscriber.subs.for_feed(feed_url)
    assert sub is not None
    callback = f"{subscriber.subs.settings.callback_url}/{sub.callback_id}"
    _post(hub_process + "/deny", {"topic": feed_url, "callback": callback})
    denied = subscriber.subs.for_feed(feed_url)
    assert denied is not None and denied.state == "denied" and "denied" in str(denied.error)
    assert not subscriber.subs.pushing(feed_url, datetime.now(UTC))


@pytest.mark.parametrize("hub_process", [2], indirect=True)
def test_lease_expiry_renewal_and_unsubscribe(hub_process: str, subscriber: _Subscriber) -> None:
    feed_server, feed_url = _serve_feed(lambda: RSS.replace(b"HUB", hub_process.encode()).replace(b"SELF", b"x"))
    try:
        _subscribe(subscriber, hub_process, feed_url)
        sub = subscriber.subs.for_feed(feed_url)
        assert sub is not None and sub.lease_seconds == 2 and sub.expires_at is not None
        # nobody renews: the lease lapses at the hub (publish reaches no one) and here (back to polling)
        time.sleep(2.2)
        assert _post(hub_process + "/publish", {"topic": feed_url}) == []
        assert not subscriber.subs.pushing(feed_url, datetime.now(UTC))
        assert any("lapsed" in line for line in subscriber.subs.run_due(subscriber.fetcher, {feed_url}, sub.expires_at))
        # the lapsed subscription is asked for again after retry_seconds
        time.sleep(1.0)
        lines = subscriber.subs.run_due(subscriber.fetcher, {feed_url}, datetime.now(UTC))
        assert any(line.startswith("subscribe") for line in lines), lines
        # renewal at half the lease keeps it alive
        _until(lambda: subscriber.subs.pushing(feed_url, datetime.now(UTC)))
        for _ in range(3):
            before = subscriber.subs.all()[0]
            verified = before.verified_at
            assert before.renew_at is not None and verified is not None
            time.sleep(max(0.0, (before.renew_at - datetime.now(UTC)).total_seconds()) + 0.05)
            assert any(
                line.startswith("subscribe")
                for line in subscriber.subs.run_due(subscriber.fetcher, {feed_url}, datetime.now(UTC))
            )
            _until(lambda: (subscriber.subs.all()[0].verified_at or NOW) > verified)  # noqa: B023
        time.sleep(0.3)
        assert len(_post(hub_process + "/publish", {"topic": feed_url})) == 1
        # the feed leaves the config: unsubscribe, verified by the hub
        lines = subscriber.subs.run_due(subscriber.fetcher, set(), datetime.now(UTC))
        assert any(line.startswith("unsubscribe") for line in lines), lines
        _until(lambda: json.loads(urllib.request.urlopen(hub_process + "/subscriptions", timeout=10).read()) == [])
    finally:
        feed_server.shutdown()
        feed_server.server_close()
