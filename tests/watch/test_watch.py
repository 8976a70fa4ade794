"""`newsmon watch` end to end: a real watcher process, a real loopback feed server, a real webhook receiver,
a real WebSub hub process; stopped with real SIGTERM and SIGKILL and restarted."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import pytest

from core.errors import WarehouseError
from newsmon.demo import WebhookReceiver, running
from tests.conftest import CLI_PASSES
from tests.helpers import free_port, open_lake, write_config

pytestmark = pytest.mark.integration
NEWSMON = str(Path(sys.executable).parent / "newsmon")
HUB = Path(__file__).with_name("websub_hub.py")


class FeedSite:
    """A folder served over loopback HTTP; the test rewrites its feed."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(exist_ok=True)
        self.folder = folder
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.items: list[tuple[str, str]] = []
        self.hub: str | None = None

    def feed_url(self) -> str:
        return f"{self.base}/feed.xml"

    def publish(self, *titles: str) -> None:
        for title in titles:
            self.items.append((title, f"{self.base}/a/{len(self.items)}"))
        hub = f'<atom:link rel="hub" href="{self.hub}/"/>' if self.hub else ""
        items = "".join(
            f"<item><title>{t}</title><link>{u}</link><pubDate>{format_datetime(datetime.now(UTC))}</pubDate>"
            f"<description>{_story(t)}</description></item>"
            for t, u in reversed(self.items)
        )
        xml = (
            '<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
            f'<title>Watch test</title><atom:link rel="self" href="{self.feed_url()}"/>{hub}{items}</channel></rss>'
        )
        tmp = self.folder / "feed.xml.tmp"
        tmp.write_text(xml, encoding="utf-8")
        tmp.replace(self.folder / "feed.xml")


_WORDS = [
    "sellers",
    "merchants",
    "subsidy",
    "rebate",
    "coupon",
    "warehouse",
    "logistics",
    "courier",
    "livestream",
    "festival",
    "shoppers",
    "regulators",
    "margins",
    "growth",
    "export",
    "tariff",
    "platform",
    "marketplace",
    "brand",
    "factory",
    "supplier",
    "discount",
]


def _story(title: str) -> str:
    """A distinct text per title (not a near duplicate of another story) that mentions Pinduoduo."""
    import random

    pick = random.Random(title)
    words = " ".join(pick.choice(_WORDS) + str(pick.randrange(1000)) for _ in range(40))
    return f"{title}: Pinduoduo {words}."


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def site(tmp_path: Path) -> Iterator[FeedSite]:
    feed = FeedSite(tmp_path / "site")
    feed.publish("First story", "Second story", "Third story")
    with running(feed.server):
        yield feed


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    with running(server):
        yield server


def _config(tmp_path: Path, site: FeedSite, receiver: WebhookReceiver, **extra: Any) -> tuple[Path, int]:
    port = free_port()
    watch = {
        "min_interval_seconds": 1,
        "max_interval_seconds": 2,
        "initial_interval_seconds": 1,
        "jitter": 0,
        "batch_wait_seconds": 0.5,
        "listen": f"127.0.0.1:{port}",
    }
    rule = {"name": "pdd", "platforms": ["pinduoduo"], "notify": [receiver.apprise_url]}
    config = write_config(
        tmp_path,
        [{"url": site.feed_url(), "name": "Watch test"}],
        pipeline={"fetch_pages": False, "extract_workers": 1},
        watch=watch,
        alerts=[rule],
        notifications={"max_attempts": 3, "timeout_seconds": 5},
        **extra,
    )
    return config, port


class WatchProcess:
    def __init__(self, config: Path, port: int, log: Path) -> None:
        env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        env.pop("PREFECT_API_URL", None)
        self.log = log
        self.port = port
        with log.open("a") as out:
            self.process = subprocess.Popen(
                [NEWSMON, "watch", "--config", str(config)], stdout=out, stderr=subprocess.STDOUT, env=env
            )

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def wait_ready(self, seconds: float = 120) -> None:
        _until(lambda: self._ready(), seconds, self)

    def _ready(self) -> bool:
        assert self.process.poll() is None, self.log.read_text()[-3000:]
        try:
            return self.get("/healthz")[0] == 200
        except OSError:
            return False

    def stop(self, sig: int = signal.SIGTERM, seconds: float = 40) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout=seconds)


def _until(check: Callable[[], bool], seconds: float, watcher: WatchProcess | None = None) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            tail = watcher.log.read_text()[-4000:] if watcher else ""
            raise AssertionError(f"condition not reached within {seconds} s\n{tail}")
        time.sleep(0.2)


def _rows(folder: Path, sql: str) -> list[tuple[Any, ...]] | None:
    """Read-only query; None while the lake does not exist yet or cannot be read right now (try again)."""
    try:
        con = open_lake(folder)
    except (duckdb.Error, WarehouseError):
        return None
    try:
        return con.execute(sql).fetchall()
    except duckdb.Error:
        return None
    finally:
        con.close()


def _count(folder: Path, sql: str) -> int:
    rows = None
    while rows is None:
        rows = _rows(folder, sql)
        if rows is None:
            time.sleep(0.1)
    return int(rows[0][0])


@pytest.fixture
def watchers() -> Iterator[list[WatchProcess]]:
    started: list[WatchProcess] = []
    yield started
    for watcher in started:
        if watcher.process.poll() is None:
            watcher.process.kill()
            watcher.process.wait(timeout=30)


def test_watch_polls_stores_alerts_and_restarts_without_loss_or_repeats(
    tmp_path: Path, site: FeedSite, receiver: WebhookReceiver, watchers: list[WatchProcess]
) -> None:
    config, port = _config(tmp_path, site, receiver)
    log = tmp_path / "watch.log"
    watcher = WatchProcess(config, port, log)
    watchers.append(watcher)
    watcher.wait_ready()
    articles = "SELECT count(*) FROM articles"
    _until(lambda: _count(tmp_path, articles) == 3, 60, watcher)
    # a feed update is picked up by the next adaptive poll (interval 1-2 s here) within seconds
    site.publish("Fourth story")
    _until(lambda: _count(tmp_path, articles) == 4, 30, watcher)
    _until(lambda: sum(len(_listed(m)) for m in receiver.received) == 4, 30, watcher)
    status, metrics = watcher.get("/metrics")
    assert status == 200 and "newsmon_watch_articles_total 4.0" in metrics
    assert 'newsmon_watch_polls_total{outcome="ok"}' in metrics and "newsmon_watch_queue_depth" in metrics
    # SIGTERM: clean exit within the bound
    assert watcher.stop() == 0
    assert "stopped cleanly" in log.read_text()
    # restart: nothing repeated (no new articles, no new messages), new entries still arrive
    messages = len(receiver.received)
    second = WatchProcess(config, port, log)
    watchers.append(second)
    second.wait_ready()
    site.publish("Fifth story")
    _until(lambda: _count(tmp_path, articles) == 5, 30, second)
    # SIGKILL in the middle of the next updates: a restart picks up whatever was not stored
    site.publish("Sixth story", "Seventh story")
    time.sleep(1.0)
    second.stop(signal.SIGKILL)
    third = WatchProcess(config, port, log)
    watchers.append(third)
    third.wait_ready()
    _until(lambda: _count(tmp_path, articles) == 7, 60, third)
    _until(lambda: sum(len(_listed(m)) for m in receiver.received[messages:]) >= 3, 30, third)
    assert third.stop() == 0
    assert _count(tmp_path, "SELECT count(DISTINCT canonical_url) FROM articles") == 7
    listed = [title for m in receiver.received for title in _listed(m)]
    assert sorted(listed) == sorted(set(listed)), "an alert was repeated"
    assert len(set(listed)) == 7
    # status shows the adaptive schedule and why
    out = subprocess.run([NEWSMON, "status", "--config", str(config)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "every " in out.stdout and "next poll" in out.stdout


@CLI_PASSES
def test_a_scheduled_run_beside_the_watcher_stores_and_alerts_each_entry_once(
    tmp_path: Path, site: FeedSite, receiver: WebhookReceiver, watchers: list[WatchProcess]
) -> None:
    """Teams keep their daily `newsmon run` while the watcher runs on the same warehouse: the run completes
    (no lock held by the watcher stops it), both poll the same feed after each update, and whichever stores
    an entry first makes it known to the other: each article and each alert happens once. (Two writers
    racing for the same keys at the same instant: tests/storage/test_lake.py.)"""
    config, port = _config(tmp_path, site, receiver)
    watcher = WatchProcess(config, port, tmp_path / "watch.log")
    watchers.append(watcher)
    watcher.wait_ready()
    articles = "SELECT count(*) FROM articles"
    _until(lambda: _count(tmp_path, articles) == 3, 60, watcher)
    for titles in (("Fourth story", "Fifth story"), ("Sixth story",)):
        site.publish(*titles)  # the watcher's next poll (1-2 s) and this run race for the same entries
        run = subprocess.run(
            [NEWSMON, "run", "--config", str(config), "--all"], capture_output=True, text=True, timeout=300
        )
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    _until(lambda: _count(tmp_path, articles) == 6, 60, watcher)
    _until(lambda: sum(len(_listed(m)) for m in receiver.received) >= 6, 60, watcher)
    time.sleep(3)  # a repeat would come with the next cycles
    assert watcher.stop() == 0
    assert _count(tmp_path, "SELECT count(DISTINCT canonical_url) FROM articles") == 6
    listed = [title for m in receiver.received for title in _listed(m)]
    assert len(listed) == len(set(listed)) == 6, f"alerts repeated or lost: {sorted(listed)}"


def _listed(message: dict[str, Any]) -> list[str]:
    return [line[2:] for line in str(message.get("message", "")).splitlines() if line.startswith("• ")]


@pytest.fixture
def hub() -> Iterator[str]:
    process = subprocess.Popen([sys.executable, str(HUB)], stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline() if process.stdout else ""
        yield f"http://127.0.0.1:{line.split()[1]}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_watch_subscribes_and_stores_pushed_entries(
    tmp_path: Path, site: FeedSite, receiver: WebhookReceiver, hub: str, watchers: list[WatchProcess]
) -> None:
    site.hub = hub
    site.publish()
    port = free_port()
    config, port = _config(tmp_path, site, receiver)
    text = config.read_text()
    # polling every 10 minutes at least: what arrives within seconds came by push
    text = text.replace("max_interval_seconds: 2", "max_interval_seconds: 600").replace(
        "min_interval_seconds: 1", "min_interval_seconds: 600"
    )
    text += f"websub:\n  enabled: true\n  callback_url: http://127.0.0.1:{port}/websub\n"
    config.write_text(text)
    watcher = WatchProcess(config, port, tmp_path / "watch.log")
    watchers.append(watcher)
    watcher.wait_ready()
    _until(lambda: _count(tmp_path, "SELECT count(*) FROM articles") == 3, 60, watcher)
    live: list[Any] = []

    def subscribed() -> bool:
        live[:] = json.loads(urllib.request.urlopen(hub + "/subscriptions", timeout=5).read())
        return len(live) == 1

    _until(subscribed, 30, watcher)
    # the feed is polled every 10 minutes at most: what arrives here within seconds came by push
    site.publish("Pushed story")
    assert _publish(hub, site.feed_url()) == [202]
    _until(lambda: _count(tmp_path, "SELECT count(*) FROM articles") == 4, 20, watcher)
    _, metrics = watcher.get("/metrics")
    assert 'newsmon_watch_pushes_total{result="accepted"} 1.0' in metrics
    assert 'newsmon_watch_entries_total{source="push"} 1.0' in metrics
    # SIGTERM right after a push was accepted: the entry in hand is processed before the watcher exits
    site.publish("Pushed just before SIGTERM")
    assert _publish(hub, site.feed_url()) == [202]
    assert watcher.stop() == 0
    assert _count(tmp_path, "SELECT count(*) FROM articles WHERE title = 'Pushed just before SIGTERM'") == 1
    rows = _rows(tmp_path, "SELECT state, topic FROM websub_subscriptions")
    assert rows == [("active", site.feed_url())]


def _publish(hub: str, topic: str) -> list[int]:
    """Ask the hub to publish `topic`; the callbacks' HTTP statuses."""
    data = urllib.parse.urlencode({"topic": topic}).encode()
    with urllib.request.urlopen(urllib.request.Request(hub + "/publish", data=data), timeout=20) as answer:
        return [int(r["status"]) for r in json.loads(answer.read())]
