"""A pass against a loopback fault server: every broken page is recorded with a clear reason, the good
ones are stored, and the pass completes within its time budget."""

from __future__ import annotations

import gzip
import random
import socket
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import NoFeedRead
from newsmon.flow import monitor_pass
from tests.helpers import free_port, open_lake, write_config

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]

ARTICLE = (
    "<html><head><title>Good page</title></head><body><article><h1>Good page</h1>"
    + "".join(
        f"<p>拼多多は第{n}四半期に出店者向けの手数料を引き下げると発表した。値下げ競争を抑える狙いがある。</p>"
        for n in range(1, 6)
    )
    + "</article></body></html>"
).encode()
FAULTS = {  # path -> the words the recorded reason must contain
    "/reset": "Connection reset by peer",
    "/short": "RemoteProtocolError",
    "/stall": "timed out",
    "/drip": "longer than",
    "/e500": "HTTP 500",
    "/e429": "HTTP 429",
    "/gzip": "truncated compressed body",
    "/loop": "redirect loop",
    "/bomb": "too large",
}


class FaultServer:
    """A raw-socket HTTP server that misbehaves in one specific way per path."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.stop = threading.Event()

    def serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn: socket.socket) -> None:
        try:
            request = conn.recv(65536).decode("latin-1")
            path = request.split(" ", 2)[1].split("?")[0]
            self.respond(conn, path)
        except OSError:
            pass
        finally:
            conn.close()

    def respond(self, conn: socket.socket, path: str) -> None:
        def head(status: str, headers: str = "", length: int | None = None) -> bytes:
            size = f"Content-Length: {length}\r\n" if length is not None else ""
            return f"HTTP/1.1 {status}\r\n{headers}{size}Connection: close\r\n\r\n".encode()

        if path == "/feed.xml":
            items = "".join(
                f"<item><title>{p}</title><link>{self.base}{p}</link>"
                f"<description>The feed carries this summary text for {p}, so the entry survives.</description></item>"
                for p in [*FAULTS, "/good"]
            )
            body = f"<rss version='2.0'><channel><title>faults</title>{items}</channel></rss>".encode()
            conn.sendall(head("200 OK", "Content-Type: application/rss+xml\r\n", len(body)) + body)
        elif path == "/good":
            conn.sendall(head("200 OK", "Content-Type: text/html; charset=utf-8\r\n", len(ARTICLE)) + ARTICLE)
        elif path == "/reset":
            conn.sendall(head("200 OK", "", 100_000) + ARTICLE[:200])
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST on close
        elif path == "/short":
            conn.sendall(head("200 OK", "", len(ARTICLE) + 500) + ARTICLE)  # wrong Content-Length
        elif path == "/stall":
            conn.sendall(head("200 OK", "", 1000))
            self.stop.wait(5)
        elif path == "/drip":
            conn.sendall(head("200 OK", "", 100_000))
            for _ in range(40):
                if self.stop.wait(0.2):
                    break
                conn.sendall(b"x")
        elif path in ("/e500", "/e429"):
            status = "500 Internal Server Error" if path == "/e500" else "429 Too Many Requests"
            conn.sendall(head(status, "Retry-After: 1\r\n", 0))
        elif path == "/gzip":
            full = gzip.compress(random.Random(1).randbytes(20_000))
            conn.sendall(head("200 OK", "Content-Encoding: gzip\r\n", len(full) // 2) + full[: len(full) // 2])
        elif path == "/loop":
            conn.sendall(head("302 Found", "Location: /loop2\r\n", 0))
        elif path == "/loop2":
            conn.sendall(head("302 Found", "Location: /loop\r\n", 0))
        elif path == "/bomb":
            bomb = gzip.compress(b"\0" * 30_000_000)
            conn.sendall(head("200 OK", "Content-Encoding: gzip\r\n", len(bomb)) + bomb)


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    server = FaultServer()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    yield server
    server.stop.set()
    thread.join(timeout=5)
    server.sock.close()


def test_every_fault_is_recorded_with_a_reason(tmp_path: Path, fault_server: FaultServer) -> None:
    network = {
        "read_timeout": 1,
        "deadline_seconds": 3,
        "retries": 1,
        "backoff_seconds": 0.05,
        "retry_after_cap_seconds": 2,
        "max_page_bytes": 5_000_000,
    }
    config = write_config(tmp_path, [{"url": f"{fault_server.base}/feed.xml", "name": "faults"}], network)
    started = time.monotonic()
    summary = monitor_pass(str(config))
    assert time.monotonic() - started < 60
    assert summary["status"] == "completed" and summary["pages_failed"] == len(FAULTS)
    con = open_lake(tmp_path)
    reasons = dict(con.execute("SELECT url, reason FROM link_events WHERE outcome = 'page_failed'").fetchall())
    sources = dict(con.execute("SELECT url, text_source FROM articles").fetchall())
    con.close()
    for path, words in FAULTS.items():
        assert words in reasons[f"{fault_server.base}{path}"], (path, reasons[f"{fault_server.base}{path}"])
        assert sources[f"{fault_server.base}{path}"] == "feed", "a failed page keeps its entry from the feed"
    assert sources[f"{fault_server.base}/good"] == "page"


def test_connection_refused_feed_is_a_transient_feed_failure(tmp_path: Path) -> None:
    config = write_config(tmp_path, [{"url": f"http://127.0.0.1:{free_port()}/feed.xml", "name": "down"}])
    with pytest.raises(NoFeedRead) as outage:  # its only feed failed: a total outage (exit 3)
        monitor_pass(str(config))
    assert outage.value.summary.status == "failed" and outage.value.summary.feeds_failed == 1
    con = open_lake(tmp_path)
    row = con.execute("SELECT last_error_kind, last_error, consecutive_failures FROM feeds").fetchone()
    con.close()
    assert row is not None and row[0] == "transient" and "ConnectError" in row[1] and row[2] == 1
