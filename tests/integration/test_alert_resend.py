"""A composed alert message is re-sent unchanged (class 4 of issue 16): when the receiver processed a
message but its answer came too late (so the outbox row stayed 'failed'), and new matching articles arrived
before the retry, the retry is the same message with the same X-Newsmon-Digest id, and the new articles go
out in a new message of their own."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from newsmon.demo import serve_site
from newsmon.flow import monitor_pass
from tests.helpers import query, write_config

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]


@contextmanager
def slow_receiver() -> Iterator[tuple[str, list[dict[str, Any]], threading.Event]]:
    """A webhook that records every message first and then, while `slow` is set, answers too late."""
    received: list[dict[str, Any]] = []
    slow = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append({"digest": self.headers.get("X-Newsmon-Digest"), **json.loads(body)})
            if slow.is_set():
                time.sleep(3)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"json://127.0.0.1:{server.server_address[1]}/hook", received, slow
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


_STORIES = [
    "Temu cut prices on kitchenware across Europe after a quarter of slower growth in Germany.",
    "Regulators in Brussels asked Temu to explain how its recommendation system ranks sellers.",
    "Temu opened a second warehouse in Poland to shorten delivery times for Baltic customers.",
    "Analysts expect Temu to spend more on television advertising before the holiday season.",
]


def _feed(count: int) -> bytes:
    items = "".join(
        f"<item><title>Temu story {n}</title><link>https://news.example/{n}</link>"
        f"<description>{_STORIES[n]}</description></item>"
        for n in range(count)
    )
    return f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>".encode()


def test_a_retry_is_the_same_message_and_new_matches_go_in_a_new_one(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "feeds").mkdir(parents=True)
    (site / "feeds" / "temu.xml").write_bytes(_feed(2))
    with serve_site(site) as server, slow_receiver() as (hook, received, slow):
        config = write_config(
            tmp_path,
            [{"url": f"{server.base_url}/feeds/temu.xml", "name": "temu"}],
            pipeline={"fetch_pages": False},
            alerts=[{"name": "temu", "keywords": ["Temu"], "notify": [hook]}],
            notifications={"timeout_seconds": 1, "max_attempts": 5},
        )
        slow.set()
        assert monitor_pass(str(config))["notifications_failed"] == 2  # processed, but answered too late
        (site / "feeds" / "temu.xml").write_bytes(_feed(4))  # two more matching stories before the retry
        slow.clear()
        second = monitor_pass(str(config))
    assert second["notifications_sent"] == 4
    first, retry, new = received
    assert retry == first, "the retry is the composed message, unchanged, with its digest id"
    assert new["digest"] != first["digest"] and "story 2" in new["message"] and "story 0" not in new["message"]
    assert query(tmp_path, "SELECT count(*) FROM notifications WHERE status = 'sent'") == [(4,)]
