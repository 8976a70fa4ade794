"""`newsmon watch` benchmarks (issue 15): backlog throughput, push latency under load, idle cost.

    .venv/bin/python bench/watch.py [--scenario backlog|latency|idle|all] [--corpora ../shared/corpora]
                                    [--seconds 60] [--rate 20] [--feeds 200] [--idle-feeds 500]

- backlog: the real pages of ../shared/corpora, each served 4 times with one byte changed (every response
  byte-distinct), in one feed; time from starting `newsmon watch` until every entry is processed, against a
  single-process loop of trafilatura.extract + langdetect over the same bytes (bench/run.py's bare loop).
- latency: `--feeds` loopback feeds with a WebSub hub (the test hub process, tests/watch/websub_hub.py),
  `--rate` new articles per second published through the hub for `--seconds`; publish -> stored from the
  warehouse's commit order and the watcher's histogram, publish -> alert from a local webhook receiver.
- idle: `--idle-feeds` feeds that never change (304 on If-None-Match) polled at 60-120 s intervals; CPU
  time of the watcher and all its child processes over `--seconds`, as a share of one core.
Results are appended to bench/RESULTS.md with the machine and its load average.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import psutil
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HUB = ROOT / "tests" / "watch" / "websub_hub.py"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from bench.run import append_results, bare_loop, build_site, collect_pages, machine  # noqa: E402


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_config(folder: Path, feeds: list[dict[str, str]], **sections: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "warehouse": str(folder / "wh"),
        "network": {"allow_hosts": ["127.0.0.1"], "retries": 0, "per_host_concurrency": 16},
        "feeds": feeds,
        **sections,
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


class Watcher:
    """`newsmon watch` as a user starts it: a fresh process (Prefect's temporary server included)."""

    def __init__(self, config: Path, port: int, log: Path, server_env: dict[str, str] | None = None) -> None:
        env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        env.pop("PREFECT_API_URL", None)
        env.update(server_env or {})  # a Prefect server already running (PREFECT_API_URL), as ops would have
        self.port = port
        self.started = time.perf_counter()
        self.log = log.open("w")
        command = [sys.executable, "-m", "newsmon.cli", "watch", "--config", str(config)]
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)

    def metrics(self) -> dict[str, float]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=10) as response:
            text = response.read().decode()
        values: dict[str, float] = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                values[name] = float(value)
        return values

    def wait_ready(self) -> float:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"watcher exited: see {self.log.name}")
            url = f"http://127.0.0.1:{self.port}/healthz"
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return time.perf_counter() - self.started
            time.sleep(0.2)
        raise SystemExit("watcher not ready within 300 s")

    def cpu_seconds(self) -> float:
        total = 0.0
        with contextlib.suppress(psutil.Error):
            tree = psutil.Process(self.process.pid)
            for member in [tree, *tree.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    times = member.cpu_times()
                    total += times.user + times.system
        return total

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


@contextlib.contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# --- backlog --------------------------------------------------------------------------------------------


def backlog(work: Path, corpora: Path, prefect_server: bool = False) -> list[tuple[str, str]]:
    from newsmon.demo import serve_site
    from newsmon.prefect_server import standalone_server

    pages = collect_pages(corpora)
    copies = 4
    items = build_site(work / "site", pages, copies=copies, distinct=True)
    distinct = [p + f"<!-- copy {c} -->".encode() for p in pages for c in range(copies)]
    bare = bare_loop(distinct)
    port = free_port()
    with contextlib.ExitStack() as stack:
        site = stack.enter_context(serve_site(work / "site"))
        # --prefect-server: a server already running, as under a deployment; else Prefect's temporary one
        server = stack.enter_context(standalone_server(work / "prefect")) if prefect_server else None
        config = write_config(
            work,
            [{"url": f"{site.base_url}/feeds/bench.xml", "name": "bench"}],
            pipeline={"max_entries_per_feed": 100_000, "batch_size": 200},
            watch={"listen": f"127.0.0.1:{port}", "batch_size": 200, "batch_wait_seconds": 2},
        )
        watcher = Watcher(config, port, work / "backlog.log", server)
        try:
            ready = watcher.wait_ready()
            while True:
                m = watcher.metrics()
                if (
                    m.get('newsmon_watch_entries_total{source="poll"}', 0) >= items
                    and not m.get("newsmon_watch_in_cycle")
                    and not m.get("newsmon_watch_queue_depth")
                ):
                    break
                time.sleep(0.25)
            total = time.perf_counter() - watcher.started
            stored = int(m.get("newsmon_watch_articles_total", 0))
        finally:
            watcher.stop()
        run_config = write_config(
            work / "run",
            [{"url": f"{site.base_url}/feeds/bench.xml", "name": "bench"}],
            pipeline={"max_entries_per_feed": 100_000, "batch_size": 200},
        )
        run_started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "newsmon.cli", "run", "--config", str(run_config)],
            check=True,
            capture_output=True,
            cwd=ROOT,
            env=server,
        )
        run_time = time.perf_counter() - run_started
    return [
        ("backlog: byte-distinct pages in one feed", f"{items} ({len(pages)} real pages x {copies}, one byte changed)"),
        (
            "Prefect",
            "a server already running (PREFECT_API_URL)" if server else "the temporary server, started by each",
        ),
        ("bare trafilatura.extract + langdetect, 1 process", f"{bare:.1f} s ({bare / items * 1000:.1f} ms/page)"),
        ("watcher: start -> every entry processed", f"{total:.1f} s ({stored} articles; ready after {ready:.1f} s)"),
        ("**backlog through the watcher / bare loop**", f"**{total / bare:.2f}x** (target <= 0.7)"),
        ("same, net of start-up (from ready)", f"{(total - ready) / bare:.2f}x"),
        ("`newsmon run` over the same feed right after (same load)", f"{run_time:.1f} s, {run_time / bare:.2f}x"),
    ]


# --- latency ----------------------------------------------------------------------------------------------

# Letters only: a token like "w123" is no word, and text of such tokens is no prose (extractors.substance).
_WORDS = ["".join(chr(97 + (n // 26**i) % 26) for i in range(4)) for n in range(5000)]


class Site:
    """Feeds (each naming the hub) and article pages, generated in memory and changed by the publisher."""

    def __init__(self, feeds: int, hub: str) -> None:
        self.hub = hub
        self.lock = threading.Lock()
        self.entries: dict[int, list[tuple[str, str]]] = {n: [] for n in range(feeds)}
        self.base = ""

    def add(self, feed: int, title: str) -> None:
        with self.lock:
            self.entries[feed].append((title, f"{self.base}/a/{feed}/{len(self.entries[feed])}.html"))

    def feed_xml(self, feed: int) -> bytes:
        with self.lock:
            items = self.entries[feed][-20:]
        body = "".join(f"<item><title>{t}</title><link>{u}</link></item>" for t, u in reversed(items))
        return (
            '<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
            f'<title>Feed {feed}</title><atom:link rel="hub" href="{self.hub}/"/>'
            f'<atom:link rel="self" href="{self.base}/f/{feed}.xml"/>{body}</channel></rss>'
        ).encode()

    def page(self, feed: int, number: int) -> bytes:
        pick = random.Random(f"{feed}/{number}")
        paragraphs = "".join("<p>" + " ".join(pick.choice(_WORDS) for _ in range(60)) + ".</p>" for _ in range(5))
        title = f"Feed {feed} story {number}"
        return (
            f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            f"<p>Pinduoduo and Temu: story {feed}-{number}.</p>{paragraphs}</article></body></html>"
        ).encode()


def site_handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            feed = re.fullmatch(r"/f/(\d+)\.xml", self.path)
            page = re.fullmatch(r"/a/(\d+)/(\d+)\.html", self.path)
            if feed:
                body, kind = site.feed_xml(int(feed.group(1))), "application/rss+xml"
            elif page:
                body, kind = site.page(int(page.group(1)), int(page.group(2))), "text/html; charset=utf-8"
            else:
                body, kind = b"", "text/plain"
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def site_config(
    work: Path, base: str, feeds: int, port: int, interval: tuple[float, float], wait: float, **sections: Any
) -> Path:
    """A watcher config over the Site's `feeds` at `base`, polled every `interval` (min, max) seconds; a cycle
    starts when its first entry has waited `wait` seconds (or at 100 entries)."""
    return write_config(
        work,
        [{"url": f"{base}/f/{n}.xml", "name": f"feed {n}"} for n in range(feeds)],
        pipeline={"batch_size": 100},
        watch={
            "listen": f"127.0.0.1:{port}",
            "min_interval_seconds": interval[0],
            "max_interval_seconds": interval[1],
            "initial_interval_seconds": interval[0],
            "batch_wait_seconds": wait,
            "batch_size": 100,
        },
        **sections,
    )


class Receiver(BaseHTTPRequestHandler):
    arrivals: ClassVar[dict[str, float]] = {}

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        payload = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        now = time.perf_counter()
        for line in str(payload.get("message", "")).splitlines():
            if line.startswith("• "):
                Receiver.arrivals.setdefault(line[2:].strip(), now)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def latency(work: Path, feeds: int, rate: float, seconds: float, wait: float) -> list[tuple[str, str]]:
    hub_process = subprocess.Popen([sys.executable, str(HUB)], stdout=subprocess.PIPE, text=True)
    hub = f"http://127.0.0.1:{(hub_process.stdout.readline() if hub_process.stdout else '').split()[1]}"
    site = Site(feeds, hub)
    port = free_port()
    try:
        with serving(site_handler(site)) as base, serving(Receiver) as receiver:
            site.base = base
            rule = {"name": "pdd", "platforms": ["pinduoduo"], "notify": [f"json://{receiver[7:]}/hook"]}
            config = site_config(
                work,
                base,
                feeds,
                port,
                (3600, 7200),
                wait,
                websub={"enabled": True, "callback_url": f"http://127.0.0.1:{port}/websub"},
                alerts=[rule],
                notifications={"timeout_seconds": 10},
            )
            watcher = Watcher(config, port, work / "latency.log")
            try:
                watcher.wait_ready()
                _wait_subscribed(hub, feeds)
                published = _publish(site, hub, feeds, rate, seconds)
                deadline = time.monotonic() + 120
                while len(Receiver.arrivals) < len(published) and time.monotonic() < deadline:
                    time.sleep(0.5)
                metrics = watcher.metrics()
            finally:
                watcher.stop()
        stored = _stored_latencies(work, published, metrics)
    finally:
        hub_process.terminate()
        hub_process.wait(timeout=10)
    alerted = [Receiver.arrivals[t] - at for t, at in published.items() if t in Receiver.arrivals]
    return [
        (
            "latency: feeds / publish rate / duration",
            f"{feeds} feeds, {rate:g} articles/s pushed, {seconds:g} s; batch_wait_seconds {wait:g}",
        ),
        ("articles published through the hub", f"{len(published)}"),
        ("**pushed -> stored, p50 / p95**", f"**{stored[0]:.2f} s / {stored[1]:.2f} s** (target p95 <= 3 s)"),
        (
            "**pushed -> alert delivered, p50 / p95**",
            f"**{percentile(alerted, 0.5):.2f} s / {percentile(alerted, 0.95):.2f} s** "
            f"({len(alerted)} of {len(published)} alerted; target p95 <= 5 s)",
        ),
    ]


def _wait_subscribed(hub: str, feeds: int) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        with urllib.request.urlopen(hub + "/subscriptions", timeout=10) as answer:
            if len(json.loads(answer.read())) >= feeds:
                return
        time.sleep(1)
    raise SystemExit("the watcher did not subscribe to every feed within 300 s")


def _publish(site: Site, hub: str, feeds: int, rate: float, seconds: float) -> dict[str, float]:
    """Add an entry to a feed and ask the hub to publish it, `rate` times per second (threads keep the pace
    when the hub is slow); returns title -> time of publishing."""
    from concurrent.futures import ThreadPoolExecutor

    published: dict[str, float] = {}
    counts = [0] * feeds

    def one(feed: int, title: str) -> None:
        published[title] = time.perf_counter()
        site.add(feed, title)
        data = urllib.parse.urlencode({"topic": f"{site.base}/f/{feed}.xml"}).encode()
        with contextlib.suppress(OSError):
            urllib.request.urlopen(urllib.request.Request(hub + "/publish", data=data), timeout=30).read()

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=32) as pool:
        for number in range(int(rate * seconds)):
            feed = number % feeds
            title = f"Feed {feed} story {counts[feed]}"
            counts[feed] += 1
            time.sleep(max(0.0, start + number / rate - time.perf_counter()))
            pool.submit(one, feed, title)
    return published


def _stored_latencies(work: Path, published: dict[str, float], metrics: dict[str, float]) -> tuple[float, float]:
    """p50/p95 of publish -> stored from the watcher's histogram (push arrival -> commit; the hub delivers
    within milliseconds of publishing on loopback)."""
    prefix = 'newsmon_watch_publish_to_stored_seconds_bucket{le="'
    buckets = sorted(
        (float(name[len(prefix) :].split('"')[0]), count)
        for name, count in metrics.items()
        if name.startswith(prefix) and 'source="push"' in name and "+Inf" not in name
    )
    total = metrics.get('newsmon_watch_publish_to_stored_seconds_count{source="push"}', 0.0)

    def quantile(share: float) -> float:
        for bound, count in buckets:
            if total and count >= share * total:
                return bound
        return float("inf")

    return quantile(0.5), quantile(0.95)


# --- polled -----------------------------------------------------------------------------------------------


def polled(work: Path, feeds: int, rate: float, seconds: float, interval: float, wait: float) -> list[tuple[str, str]]:
    """Feeds without a hub, polled every `interval` s (min = max = initial, jitter 10 %): publish -> visible
    to an analyst (a read-only lake connection held open, looked at every 0.25 s)."""
    from core.settings import WarehouseSettings
    from storage.lake import attach

    site = Site(feeds, hub="http://127.0.0.1:9")  # the hub link is ignored: websub is off
    port = free_port()
    with serving(site_handler(site)) as base:
        site.base = base
        config = site_config(work, base, feeds, port, (interval, interval), wait)
        watcher = Watcher(config, port, work / "polled.log")
        try:
            watcher.wait_ready()
            time.sleep(interval * 1.2)  # every feed polled once: what follows is steady state
            reader = attach(WarehouseSettings.embedded(work / "wh"), read_only=True)
            visible: dict[str, float] = {}
            published: dict[str, float] = {}
            publisher = threading.Thread(target=_publish_only, args=(site, feeds, rate, seconds, published))
            publisher.start()
            deadline = time.perf_counter() + seconds + interval * 3 + 30
            while time.perf_counter() < deadline and (publisher.is_alive() or len(visible) < len(published)):
                now = time.perf_counter()
                for (title,) in reader.execute("SELECT title FROM articles").fetchall():
                    visible.setdefault(title, now)
                time.sleep(0.25)
            reader.close()
        finally:
            watcher.stop()
    delays = [visible[t] - at for t, at in published.items() if t in visible]
    bound = interval * 1.1 + 3
    within = sum(1 for d in delays if d <= bound)
    return [
        (
            "polled: feeds / interval / publish rate",
            f"{feeds} feeds every {interval:g} s (+/-10 %), {rate:g}/s for {seconds:g} s; batch_wait_seconds {wait:g}",
        ),
        ("articles published / visible to a reader", f"{len(published)} / {len(delays)}"),
        (
            "**published -> visible, p50 / p95 / max**",
            f"**{percentile(delays, 0.5):.1f} s / {percentile(delays, 0.95):.1f} s / "
            f"{max(delays, default=float('nan')):.1f} s** "
            f"(target: <= interval + 3 s = {bound:.1f} s; {within} of {len(delays)} within)",
        ),
    ]


def _publish_only(site: Site, feeds: int, rate: float, seconds: float, published: dict[str, float]) -> None:
    """Add an entry to a feed `rate` times per second (no hub: the watcher must find it by polling); records
    title -> time of publishing in `published`."""
    start = time.perf_counter()
    counts = [0] * feeds
    for number in range(int(rate * seconds)):
        feed = number % feeds
        title = f"Feed {feed} story {counts[feed]}"  # the page's own title (Site.page) too
        counts[feed] += 1
        time.sleep(max(0.0, start + number / rate - time.perf_counter()))
        published[title] = time.perf_counter()
        site.add(feed, title)


# --- idle -------------------------------------------------------------------------------------------------


class Unchanged(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>idle</title></channel></rss>'

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.headers.get("If-None-Match") == '"v1"':
            self.send_response(304)
            self.send_header("ETag", '"v1"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("ETag", '"v1"')
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)


def idle(work: Path, feeds: int, seconds: float) -> list[tuple[str, str]]:
    port = free_port()
    with serving(Unchanged) as base:
        config = write_config(
            work,
            [{"url": f"{base}/{n}.xml", "name": f"idle {n}"} for n in range(feeds)],
            watch={
                "listen": f"127.0.0.1:{port}",
                "min_interval_seconds": 60,
                "max_interval_seconds": 120,
                "initial_interval_seconds": 60,
            },
        )
        watcher = Watcher(config, port, work / "idle.log")
        try:
            watcher.wait_ready()
            time.sleep(20)  # the first round of polls and the first writes
            cpu_before, polls_before, wall_before = watcher.cpu_seconds(), _polls(watcher), time.perf_counter()
            time.sleep(seconds)
            cpu = watcher.cpu_seconds() - cpu_before
            wall = time.perf_counter() - wall_before
            polls = _polls(watcher) - polls_before
        finally:
            watcher.stop()
    return [
        ("idle: unchanged feeds, interval 60-120 s", f"{feeds} feeds, {polls:.0f} polls in {wall:.0f} s"),
        ("**idle CPU (watcher + its children) / one core**", f"**{cpu / wall * 100:.1f} %** (target < 5 %)"),
    ]


def _polls(watcher: Watcher) -> float:
    return sum(v for k, v in watcher.metrics().items() if k.startswith("newsmon_watch_polls_total"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=["backlog", "latency", "polled", "idle", "all"], default="all")
    parser.add_argument("--corpora", default=str(ROOT.parent / "shared" / "corpora"))
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--idle-feeds", type=int, default=500)
    parser.add_argument("--batch-wait", type=float, default=0.5, help="latency, polled: watch.batch_wait_seconds")
    parser.add_argument("--interval", type=float, default=10, help="polled: every feed's poll interval (s)")
    parser.add_argument("--prefect-server", action="store_true", help="backlog: against a running Prefect server")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, warehouses)")
    args = parser.parse_args()
    load = os.getloadavg()
    rows: list[tuple[str, str]] = []
    work = Path(tempfile.mkdtemp(prefix="newsmon-watch-bench-"))
    try:
        for scenario in ("idle", "latency", "polled", "backlog"):
            if args.scenario in (scenario, "all"):
                folder = work / scenario
                folder.mkdir()
                if scenario == "idle":
                    rows += idle(folder, args.idle_feeds, args.seconds)
                elif scenario == "latency":
                    rows += latency(folder, args.feeds, args.rate, args.seconds, args.batch_wait)
                elif scenario == "polled":
                    rows += polled(folder, args.feeds, args.rate, args.seconds, args.interval, args.batch_wait)
                else:
                    rows += backlog(folder, Path(args.corpora), args.prefect_server)
    finally:
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    after = os.getloadavg()
    report = "\n".join(f"| {name} | {value} |" for name, value in rows)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = (
        f"\n## {stamp} — newsmon watch ({args.scenario}) — {machine()} · {platform.system()}\n\n"
        f"Load average (1/5/15 min) before: {load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f}, "
        f"after: {after[0]:.2f}/{after[1]:.2f}/{after[2]:.2f} (a shared machine: other work ran meanwhile).\n\n"
        f"| measure | result |\n|---|---|\n{report}\n"
    )
    append_results(text)


if __name__ == "__main__":
    main()
