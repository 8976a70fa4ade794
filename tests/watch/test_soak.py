"""Soak: a real watcher over 60 loopback feeds, 12 of them gaining an entry every 2 s, for about 30 s.
Memory (RSS of the watcher process) and open file descriptors must stay flat after warm-up."""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from newsmon.demo import running
from tests.helpers import free_port, write_config
from tests.watch.test_watch import WatchProcess, _count, _until

pytestmark = pytest.mark.integration
FEEDS = 60
BUSY_EVERY = 5  # every 5th feed gains entries
SOAK_SECONDS = 30.0
START = time.time()


def _feed(number: int) -> bytes:
    entries = int((time.time() - START) / 2) + 1 if number % BUSY_EVERY == 0 else 1
    items = []
    for k in range(max(0, entries - 20), entries):
        pick = random.Random(f"{number}-{k}")
        # letters only: "w123" is no word, and text of such tokens is no prose (extractors.substance)
        words = " ".join("".join(pick.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(6)) for _ in range(30))
        items.append(
            f"<item><title>Feed {number} story {k}</title><link>http://127.0.0.1/f{number}/{k}</link>"
            f"<pubDate>{format_datetime(datetime.now(UTC))}</pubDate><description>{words}</description></item>"
        )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Soak {number}</title>{"".join(items)}</channel></rss>'
    ).encode()


class _Feeds(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        body = _feed(int(self.path.strip("/").split(".")[0]))
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the watcher closing a kept-alive connection at exit is not an error here


@pytest.fixture
def feeds() -> Iterator[str]:
    server = _Server(("127.0.0.1", 0), _Feeds)
    server.daemon_threads = True
    with running(server):
        yield f"http://127.0.0.1:{server.server_address[1]}"


def _resources(pid: int) -> tuple[int, int]:
    """(resident memory in kB, open file descriptors) of one process."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_memory_and_file_handles_stay_flat(tmp_path: Path, feeds: str) -> None:
    port = free_port()
    config = write_config(
        tmp_path,
        [{"url": f"{feeds}/{n}.xml", "name": f"soak {n}"} for n in range(FEEDS)],
        pipeline={"fetch_pages": False, "extract_workers": 1},
        watch={
            "min_interval_seconds": 1,
            "max_interval_seconds": 3,
            "initial_interval_seconds": 1,
            "jitter": 0.1,
            "batch_wait_seconds": 1,
            "listen": f"127.0.0.1:{port}",
        },
    )
    watcher = WatchProcess(config, port, tmp_path / "watch.log")
    try:
        watcher.wait_ready()
        _until(lambda: _count(tmp_path, "SELECT count(*) FROM articles") >= FEEDS, 90, watcher)
        time.sleep(10)  # warm-up: imports, first cycles, Prefect client caches
        samples = [_resources(watcher.process.pid)]
        stored = _count(tmp_path, "SELECT count(*) FROM articles")
        deadline = time.monotonic() + SOAK_SECONDS
        while time.monotonic() < deadline:
            time.sleep(5)
            samples.append(_resources(watcher.process.pid))
        grown = _count(tmp_path, "SELECT count(*) FROM articles") - stored
        # busy feeds gain an entry every 2 s: at least 40 % of that must be stored during the soak
        assert grown >= (FEEDS // BUSY_EVERY) * SOAK_SECONDS / 5, f"only {grown} new articles during the soak"
        first_rss, first_fds = samples[0]
        last_rss, last_fds = samples[-1]
        print(f"soak: {grown} articles; RSS {first_rss} -> {last_rss} kB; fds {first_fds} -> {last_fds}; {samples}")
        assert last_rss < first_rss * 1.15 + 20_000, samples
        assert last_fds <= first_fds + 8, samples
        assert watcher.stop(signal.SIGTERM) == 0
    finally:
        if watcher.process.poll() is None:
            watcher.process.kill()
            watcher.process.wait(timeout=30)
