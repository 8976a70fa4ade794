"""Every request ends within its deadline from the moment it is sent (class 3 of issue 16): a server that
trickles its status line or headers a byte at a time, or sends nothing at all, is cut off — for feed and
page fetches (the shared HTTP client) and for notification delivery (Apprise)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from alerts.messages import digest
from core.errors import FetchError
from core.records import DigestItem
from core.settings import HttpPolicy
from flows.http import HttpFetcher
from flows.notify import send

DEADLINE = 1.5
SLACK = 2.0  # scheduling on a loaded 2-core machine; the bug this guards against never ends at all
RESPONSES = {
    "status-line": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "headers": b"HTTP/1.1 200 OK\r\n" + b"X-Padding: " + b"a" * 400 + b"\r\n\r\n",
}


@contextmanager
def trickle_server(mode: str) -> Iterator[str]:
    """Answers every connection in `mode`: 'silent' (reads the request, sends nothing), 'status-line' (from
    the first byte on, one byte every 0.1 s) or 'headers' (a status line, then headers one byte at a time)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    stop = threading.Event()

    def answer(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            payload = RESPONSES.get(mode, b"")
            if mode == "headers":
                conn.sendall(payload[:17])
                payload = payload[17:]
            for byte in payload:
                if stop.wait(0.1):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return
            stop.wait(30)

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()


@pytest.mark.parametrize("mode", ["silent", "status-line", "headers"])
def test_fetch_ends_within_its_deadline_from_the_request(mode: str) -> None:
    # read_timeout far above the deadline: only the deadline can end these requests in time.
    policy = HttpPolicy(allow_hosts=("127.0.0.1",), retries=0, deadline_seconds=DEADLINE, read_timeout=30)
    with trickle_server(mode) as address, HttpFetcher(policy) as client:
        started = time.monotonic()
        with pytest.raises(FetchError, match="longer than") as info:
            client.get(f"http://{address}/feed.xml", 10_000)
        elapsed = time.monotonic() - started
    assert info.value.kind == "transient"
    assert elapsed < DEADLINE + SLACK, f"{mode}: {elapsed:.1f} s"


def test_each_retry_gets_a_fresh_deadline_and_the_whole_fetch_stays_bounded() -> None:
    policy = HttpPolicy(
        allow_hosts=("127.0.0.1",), retries=1, backoff_seconds=0.05, deadline_seconds=DEADLINE, read_timeout=30
    )
    with trickle_server("status-line") as address, HttpFetcher(policy) as client:
        started = time.monotonic()
        with pytest.raises(FetchError, match="longer than"):
            client.get(f"http://{address}/page.html", 10_000)
        elapsed = time.monotonic() - started
    assert DEADLINE * 2 <= elapsed < DEADLINE * 2 + SLACK


@pytest.mark.parametrize("mode", ["silent", "status-line", "headers"])
def test_notification_delivery_ends_within_its_deadline(mode: str) -> None:
    message = digest("rule", [DigestItem("a1", "Title", "https://ex.com/a", "src", "en", (), ())])
    with trickle_server(mode) as address:
        started = time.monotonic()
        error = send(f"json://{address}/hook", message, DEADLINE)
        elapsed = time.monotonic() - started
    assert error is not None
    if mode != "silent":  # a silent receiver may also hit Apprise's own read timeout first: same bound
        assert "no answer within" in error
    assert elapsed < DEADLINE + SLACK, f"{mode}: {elapsed:.1f} s"
