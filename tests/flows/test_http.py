"""The shared HTTP client against real loopback servers: bounds, retries, politeness, the address guard."""

from __future__ import annotations

import gzip
import random
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from core.errors import FetchError
from core.settings import HttpPolicy
from flows.http import HttpFetcher, parse_retry_after
from tests.helpers import free_port

LOCAL = HttpPolicy(allow_hosts=("127.0.0.1",), retries=2, backoff_seconds=0.05, deadline_seconds=3, read_timeout=2)


@pytest.fixture
def fetcher() -> Iterator[HttpFetcher]:
    with HttpFetcher(LOCAL) as client:
        yield client


def test_plain_get_and_304(httpserver: HTTPServer, fetcher: HttpFetcher) -> None:
    httpserver.expect_request("/feed", headers={"If-None-Match": '"v1"'}).respond_with_data("", status=304)
    httpserver.expect_request("/feed").respond_with_data("<rss/>", headers={"ETag": '"v1"'})
    first = fetcher.get(httpserver.url_for("/feed"), 1000)
    assert first.status == 200 and first.body == b"<rss/>" and first.header("etag") == '"v1"'
    second = fetcher.get(httpserver.url_for("/feed"), 1000, {"If-None-Match": '"v1"'})
    assert second.status == 304


def test_user_agent_is_sent(httpserver: HTTPServer, fetcher: HttpFetcher) -> None:
    httpserver.expect_request("/ua", headers={"User-Agent": LOCAL.user_agent}).respond_with_data("ok")
    assert fetcher.get(httpserver.url_for("/ua"), 100).body == b"ok"


def test_body_over_the_cap_is_refused(httpserver: HTTPServer, fetcher: HttpFetcher) -> None:
    httpserver.expect_request("/big").respond_with_data(b"x" * 200_000)
    with pytest.raises(FetchError, match="too large") as info:
        fetcher.get(httpserver.url_for("/big"), 100_000)
    assert info.value.kind == "permanent"


def test_gzip_bomb_stops_at_the_decompressed_cap(httpserver: HTTPServer, fetcher: HttpFetcher) -> None:
    bomb = gzip.compress(b"\0" * 50_000_000)
    assert len(bomb) < 100_000
    httpserver.expect_request("/bomb").respond_with_data(bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchError, match="decompressed"):
        fetcher.get(httpserver.url_for("/bomb"), 1_000_000)


def test_truncated_gzip_is_a_transient_error(httpserver: HTTPServer, fetcher: HttpFetcher) -> None:
    full = gzip.compress(random.Random(7).randbytes(50_000))
    body = full[: len(full) // 2]
    httpserver.expect_request("/trunc").respond_with_data(body, headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchError) as info:
        fetcher.get(httpserver.url_for("/trunc"), 1_000_000)
    assert info.value.kind == "transient"


def test_redirect_loop_is_permanent(httpserver: HTTPServer, fetcher: HttpFetcher) -> None:
    httpserver.expect_request("/a").respond_with_data("", status=302, headers={"Location": "/b"})
    httpserver.expect_request("/b").respond_with_data("", status=301, headers={"Location": "/a"})
    with pytest.raises(FetchError, match="redirect loop"):
        fetcher.get(httpserver.url_for("/a"), 1000)


def test_redirect_is_followed_and_final_url_kept(httpserver: HTTPServer, fetcher: HttpFetcher) -> None:
    httpserver.expect_request("/old").respond_with_data("", status=301, headers={"Location": "/new"})
    httpserver.expect_request("/new").respond_with_data("here")
    response = fetcher.get(httpserver.url_for("/old"), 1000)
    assert response.final_url == httpserver.url_for("/new") and response.body == b"here"


def test_redirect_to_a_private_address_is_refused_per_hop(httpserver: HTTPServer, fetcher: HttpFetcher) -> None:
    httpserver.expect_request("/hop").respond_with_data(
        "", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )
    with pytest.raises(FetchError, match=r"non-public address 169\.254\.169\.254") as info:
        fetcher.get(httpserver.url_for("/hop"), 1000)
    assert info.value.kind == "refused"


def test_429_with_retry_after_is_honoured(httpserver: HTTPServer, fetcher: HttpFetcher) -> None:
    httpserver.expect_ordered_request("/limited").respond_with_data("", status=429, headers={"Retry-After": "1"})
    httpserver.expect_ordered_request("/limited").respond_with_data("finally")
    started = time.monotonic()
    assert fetcher.get(httpserver.url_for("/limited"), 1000).body == b"finally"
    assert time.monotonic() - started >= 0.9


def test_retry_after_beyond_the_cap_gives_up_with_the_delay(httpserver: HTTPServer, fetcher: HttpFetcher) -> None:
    httpserver.expect_request("/later").respond_with_data("", status=503, headers={"Retry-After": "3600"})
    with pytest.raises(FetchError) as info:
        fetcher.get(httpserver.url_for("/later"), 1000)
    assert info.value.kind == "transient" and info.value.retry_after == 3600
    assert len(httpserver.log) == 1


def test_5xx_is_retried_then_reported(httpserver: HTTPServer, fetcher: HttpFetcher) -> None:
    httpserver.expect_request("/down").respond_with_data("", status=502)
    with pytest.raises(FetchError, match="HTTP 502") as info:
        fetcher.get(httpserver.url_for("/down"), 1000)
    assert info.value.kind == "transient" and len(httpserver.log) == 1 + LOCAL.retries


def test_404_is_permanent_and_not_retried(httpserver: HTTPServer, fetcher: HttpFetcher) -> None:
    httpserver.expect_request("/gone").respond_with_data("", status=404)
    with pytest.raises(FetchError, match="HTTP 404") as info:
        fetcher.get(httpserver.url_for("/gone"), 1000)
    assert info.value.kind == "permanent" and len(httpserver.log) == 1


def test_connection_refused_is_transient(fetcher: HttpFetcher) -> None:
    with pytest.raises(FetchError) as info:
        fetcher.get(f"http://127.0.0.1:{free_port()}/", 1000)
    assert info.value.kind == "transient"


def test_slow_drip_server_hits_the_deadline() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def drip() -> None:
        conn, _ = server.accept()
        conn.recv(4096)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        while not stop.is_set():
            try:
                conn.sendall(b"x")
            except OSError:
                break
            time.sleep(0.2)
        conn.close()

    threading.Thread(target=drip, daemon=True).start()
    policy = HttpPolicy(allow_hosts=("127.0.0.1",), retries=0, deadline_seconds=1.5, read_timeout=1)
    started = time.monotonic()
    with HttpFetcher(policy) as client, pytest.raises(FetchError, match="longer than") as info:
        client.get(f"http://127.0.0.1:{server.getsockname()[1]}/", 10_000)
    stop.set()
    server.close()
    assert info.value.kind == "transient" and time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "scheme 'file'"),
        ("ftp://ex.com/x", "scheme 'ftp'"),
        ("gopher://ex.com/", "scheme 'gopher'"),
        ("data:text/plain,hi", "scheme 'data'"),
        ("http://10.1.2.3/", "non-public address 10.1.2.3"),
        ("http://192.168.0.1/", "non-public address"),
        ("http://172.16.5.4/", "non-public address"),
        ("http://[::1]:9/", "non-public address ::1"),
        ("http://[fd00::1]/", "non-public address"),
        ("http://[::ffff:127.0.0.1]/", "non-public address"),
        ("http://0.0.0.0/", "non-public address"),
        ("http://100.64.0.1/", "non-public address"),
        ("http://224.0.0.1/", "non-public address"),
        ("http://localhost:9/", "non-public address"),
    ],
)
def test_guard_refuses_without_connecting(url: str, reason: str) -> None:
    with HttpFetcher(HttpPolicy(retries=3)) as client, pytest.raises(FetchError, match=reason) as info:
        client.get(url, 1000)
    assert info.value.kind == "refused"


def test_loopback_is_refused_unless_allow_listed(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/x").respond_with_data("ok")
    with HttpFetcher(HttpPolicy()) as strict, pytest.raises(FetchError, match="non-public"):
        strict.get(httpserver.url_for("/x"), 100)
    assert len(httpserver.log) == 0
    with HttpFetcher(HttpPolicy(allow_hosts=("127.0.0.0/8",))) as allowed:
        assert allowed.get(httpserver.url_for("/x"), 100).body == b"ok"


def test_per_host_concurrency_limit() -> None:
    lock = threading.Lock()
    state = {"now": 0, "peak": 0}

    def handler(request: Request) -> Response:
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.1)
        with lock:
            state["now"] -= 1
        return Response("ok")

    server = HTTPServer(threaded=True)
    server.start()
    try:
        server.expect_request("/slow").respond_with_handler(handler)
        policy = HttpPolicy(allow_hosts=("127.0.0.1",), per_host_concurrency=2)
        with HttpFetcher(policy) as client, ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: client.get(server.url_for("/slow"), 100), range(8)))
    finally:
        server.stop()
    assert state["peak"] == 2


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after("120") == 120
    assert parse_retry_after("garbage") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
