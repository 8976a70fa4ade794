"""`newsmon watch`: one long-lived process that keeps every feed on its own schedule, accepts WebSub pushes
and turns new entries into stored, deduplicated, alerted articles within seconds.

Threads: the watch loop (this module; the process's only warehouse writer), a pool polling due feeds, and the HTTP
server (WebSub callbacks, /healthz, /metrics) whose threads only queue pushes. New entries wait in memory
until the batch is full (`watch.batch_size`) or its first entry has waited `watch.batch_wait_seconds`;
then one processing cycle runs as a Prefect flow run (`newsmon-watch-cycle`) through the same steps as
`newsmon run` (flows.monitor): fetch pages, extract, classify, dedup, store (one transaction per batch with
its outbox rows), update the feeds, deliver alerts. Unchanged and failed polls are written without a flow
run (no cycle when there is no work). SIGTERM: the server stops taking pushes, the entries in hand are
processed as a last cycle, the outbox is delivered, and the process exits.

The watcher is one writer of the lake among others (`newsmon run` passes, other watchers): it holds no lock
for its life, and each cycle commits under the writers' lock (storage.coordination). One `Warehouse` (one
attachment of the lake) serves the whole process and is closed when the watcher stops.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from core.errors import describe
from core.records import FeedEntry, FeedPoll, LinkEvent
from core.settings import Config, FeedConfig
from extractors.article import TextLimits
from extractors.feeds import parse_feed
from flows.extraction import Extraction, Job, ProcessSettings, extraction_for
from flows.http import HttpFetcher
from flows.monitor import new_entries, open_dedup_index, poll_source, prepare_warehouse
from flows.subscriber import Push, Subscriptions
from flows.watch_book import WEEK, FeedBook, Planned
from flows.watch_cycle import Cycle, Work, run_cycle
from flows.watch_metrics import WatchMetrics
from flows.watch_server import WatchServer
from storage import warehouse as wh
from storage.warehouse import Warehouse

log = logging.getLogger("newsmon.watch")
LOCK_WAIT_SECONDS = 30 * 60
_IDLE_WAKE_SECONDS = 1.0
_SUBSCRIPTION_CHECK_SECONDS = 5.0
_QUIET_WRITE_SECONDS = 5.0


class Watcher:
    """`run()` blocks until `stop` is set (SIGTERM), then finishes the work in hand and returns."""

    def __init__(self, config: Config, stop: threading.Event) -> None:
        self.config = config
        self.stop = stop
        self.wake = threading.Event()
        self.metrics = WatchMetrics()
        self.warehouse = Warehouse(config.warehouse, LOCK_WAIT_SECONDS, log.warning)
        self.ready = False
        self.heartbeat = time.monotonic()
        self.port: int | None = None
        # Polls that found nothing new, written in one transaction every few seconds (an idle watcher
        # should not open the warehouse for each 304); losing them in a crash only means polling again.
        self._quiet: list[Planned] = []
        self._quiet_written = time.monotonic()

    def health(self) -> tuple[bool, bool]:
        live = time.monotonic() - self.heartbeat < 60
        return live, self.ready and live and not self.stop.is_set()

    def run(self, on_ready: Callable[[int], None] | None = None) -> None:
        try:
            self._run_watching(on_ready)
        finally:
            self.warehouse.close()

    def _run_watching(self, on_ready: Callable[[int], None] | None) -> None:
        config = self.config
        book, subs = self._load()
        extraction = extraction_for(config.pipeline.extract_workers, config.pipeline.dask_address, log.warning)
        index = open_dedup_index(self.warehouse, log)
        if config.pipeline.fetch_pages and not config.pipeline.dask_address:
            _warm_up(extraction, config)
        server = WatchServer(
            config.watch.bind_host,
            config.watch.bind_port,
            subs,
            self.health,
            self.metrics.render,
            config.websub.max_body_bytes,
        )
        try:
            with HttpFetcher(config.network) as fetcher:
                cycle = Cycle(config, self.warehouse, fetcher, extraction, index, book, self.metrics, subs)
                server.start()
                self.port = server.port
                self.ready = True
                if on_ready:
                    on_ready(server.port)
                self._loop(cycle, server)
        finally:
            self.ready = False
            server.stop()
            extraction.close()
            index.close()

    def _load(self) -> tuple[FeedBook, Subscriptions | None]:
        config = self.config
        now = datetime.now(UTC)
        with self.warehouse.session() as con:
            schedules = wh.load_schedules(con)
            weekly = wh.entries_last_week(con, now - WEEK)
            stored_subs = wh.load_subscriptions(con)
        states = prepare_warehouse(self.warehouse, config, now, log)
        book = FeedBook(config.feeds, states, schedules, weekly, config.watch.schedule)
        subs = Subscriptions(config.websub, stored_subs) if config.websub.enabled else None
        if subs is not None:
            subs.on_push = self.wake.set
            for sub in subs.all():
                if sub.state == "active":  # pushed before a restart but maybe not stored: poll once now
                    book.poll_now(sub.feed_url, now)
        return book, subs

    def _loop(self, cycle: Cycle, server: WatchServer) -> None:
        config = self.config
        work = Work()
        polls: dict[str, Future[tuple[FeedPoll, str | None, tuple[LinkEvent, ...]]]] = {}
        last_subscription_check = last_gauges = 0.0
        workers = config.watch.poll_concurrency
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="newsmon-poll") as pool:
            while True:
                self.heartbeat = time.monotonic()
                stopping = self.stop.is_set()
                if stopping:
                    server.stop()  # no more pushes; what is queued is processed below
                now = datetime.now(UTC)
                if not stopping:
                    self._launch_polls(cycle, pool, polls, now)
                self._harvest(cycle, polls, work, stopping)
                self._take_pushes(cycle, work)
                if work.ready(config.watch.batch_size, config.watch.batch_wait_seconds) or (stopping and work.first_at):
                    self._cycle(cycle, work)
                    work = Work()
                if cycle.subscriptions is not None and time.monotonic() - last_subscription_check >= (
                    _SUBSCRIPTION_CHECK_SECONDS
                ):
                    last_subscription_check = time.monotonic()
                    self._subscriptions(cycle, now)
                self._write_quiet(stopping)
                if time.monotonic() - last_gauges >= 1.0:
                    last_gauges = time.monotonic()
                    self._gauges(cycle, work, now)
                if stopping and not polls:
                    break
                self.wake.wait(self._sleep_seconds(cycle, work, now, stopping))
                self.wake.clear()
        if cycle.subscriptions is not None:
            self._save_subscriptions(cycle.subscriptions)

    def _launch_polls(
        self,
        cycle: Cycle,
        pool: ThreadPoolExecutor,
        polls: dict[str, Future[tuple[FeedPoll, str | None, tuple[LinkEvent, ...]]]],
        now: datetime,
    ) -> None:
        for feed in cycle.book.due(now):
            cycle.book.in_flight.add(feed.url)
            future = pool.submit(_poll, cycle, feed)
            future.add_done_callback(lambda _: self.wake.set())
            polls[feed.url] = future

    def _harvest(
        self,
        cycle: Cycle,
        polls: dict[str, Future[tuple[FeedPoll, str | None, tuple[LinkEvent, ...]]]],
        work: Work,
        stopping: bool,
    ) -> None:
        done = [url for url, future in polls.items() if future.done()]
        if stopping:  # in-flight polls are abandoned: their feeds keep their validators and are polled again
            done = list(polls)
        results = []
        for url in done:
            future = polls.pop(url)
            cycle.book.in_flight.discard(url)
            if not future.done():
                continue
            error = future.exception()
            if error is None:
                results.append(future.result())
            else:  # never expected (poll_feed answers every failure with a failed poll): back off all the same
                log.error("polling %s raised %s: %s", url, type(error).__name__, error)
                name = cycle.book.feeds[url].name if url in cycle.book.feeds else url
                reason = f"internal error: {describe(error)}"[:300]
                failed = FeedPoll(url, name, "failed", None, None, None, None, reason, "transient")
                results.append((failed, None, ()))
        if results:
            self._sort_polls(cycle, results, work)

    def _sort_polls(
        self, cycle: Cycle, results: list[tuple[FeedPoll, str | None, tuple[LinkEvent, ...]]], work: Work
    ) -> None:
        """Polls with new entries (or link events) wait for the next cycle; the rest are written now."""
        now = datetime.now(UTC)
        changed = [poll for poll, _, _ in results if poll.outcome == "ok"]
        fresh, _, _ = new_entries(self.warehouse, changed) if changed else ([], 0, 0)
        fresh_urls = {e.canonical_url for e in fresh}
        quiet: list[Planned] = []
        for poll, title, events in results:
            cycle.metrics.polls.labels(poll.outcome).inc()
            subs = cycle.subscriptions
            if subs is not None and poll.outcome == "ok" and poll.hubs:
                subs.discovered(poll.feed_url, poll.self_url, poll.hubs, now)
            new = [e for e in poll.entries if e.canonical_url in fresh_urls and e.canonical_url not in work.entries]
            if new or events:
                if subs is not None and new and subs.pushing(poll.feed_url, now):
                    subs.missed(poll.feed_url, now)
                work.polls.append((poll, title))
                work.events.extend(events)
                cycle.metrics.entries.labels("poll").inc(work.add(new, "poll"))
            else:
                pushing = subs is not None and subs.pushing(poll.feed_url, now)
                failures, stored = cycle.book.plan(poll, 0, pushing, now)
                quiet.append((poll, title, failures, stored, now))
                if poll.outcome == "failed":
                    log.warning("feed %s failed (%s): %s", poll.feed_url, poll.error_kind, poll.error)
        cycle.book.remember(quiet)
        self._quiet.extend(quiet)

    def _write_quiet(self, now_please: bool) -> None:
        due = time.monotonic() - self._quiet_written >= _QUIET_WRITE_SECONDS or len(self._quiet) >= 200
        if self._quiet and (due or now_please):
            with self.warehouse.transaction() as con:
                FeedBook.write(con, self._quiet)
            self._quiet = []
            self._quiet_written = time.monotonic()

    def _take_pushes(self, cycle: Cycle, work: Work) -> None:
        """Parse every queued push and keep its new entries; one warehouse look-up for all of them."""
        subs = cycle.subscriptions
        if subs is None:
            return
        pushed: list[FeedPoll] = []
        while not subs.pushes.empty():
            push = subs.pushes.get_nowait()
            pushed.append(_pushed_entries(cycle, push))
            cycle.metrics.pushes.labels("accepted").inc()
            work.pushed_feeds.add(push.feed_url)
        with_entries = [poll for poll in pushed if poll.entries]
        if with_entries:
            fresh, _, _ = new_entries(self.warehouse, with_entries)
            cycle.metrics.entries.labels("push").inc(work.add(fresh, "push"))
        for reason, count in subs.rejected.items():
            if count:
                cycle.metrics.pushes.labels(f"rejected_{reason}").inc(count)
                subs.rejected[reason] = 0

    def _cycle(self, cycle: Cycle, work: Work) -> None:
        self._write_quiet(True)  # earlier polls of the same feeds first: the cycle's rows must be the last word
        try:
            run_cycle(cycle, work)
        except Exception as exc:  # recorded as a failed run; its feeds keep their validators
            retry = self.config.watch.schedule.min_interval_seconds
            log.error(
                "processing cycle failed: %s: %s; its feeds are polled again in %g s", type(exc).__name__, exc, retry
            )
            cycle.book.defer([poll.feed_url for poll, _ in work.polls], datetime.now(UTC) + timedelta(seconds=retry))

    def _subscriptions(self, cycle: Cycle, now: datetime) -> None:
        subs = cycle.subscriptions
        assert subs is not None
        for line in subs.run_due(cycle.fetcher, set(cycle.book.feeds), now):
            log.info("websub: %s", line)
        self._save_subscriptions(subs)

    def _save_subscriptions(self, subs: Subscriptions) -> None:
        changed = subs.take_changed()
        if changed:
            with self.warehouse.transaction() as con:
                wh.save_subscriptions(con, changed)

    def _gauges(self, cycle: Cycle, work: Work, now: datetime) -> None:
        m = cycle.metrics
        m.feeds.labels("total").set(len(cycle.book.feeds))
        m.feeds.labels("due").set(len(cycle.book.due(now)) + len(cycle.book.in_flight))
        m.feeds.labels("failing").set(cycle.book.failing())
        subs = cycle.subscriptions
        pushing = sum(1 for u in cycle.book.feeds if subs is not None and subs.pushing(u, now))
        m.feeds.labels("pushed").set(pushing)
        m.poll_lag.set(cycle.book.lag_seconds(now))
        m.queue_depth.set(len(work.entries) + (subs.pushes.qsize() if subs is not None else 0))

    def _sleep_seconds(self, cycle: Cycle, work: Work, now: datetime, stopping: bool) -> float:
        if stopping:
            return 0.05
        wait = _IDLE_WAKE_SECONDS
        if work.first_at is not None:
            wait = min(wait, max(0.0, work.first_at + self.config.watch.batch_wait_seconds - time.monotonic()))
        soonest = cycle.book.soonest()
        if soonest is not None:
            wait = min(wait, max(0.0, (soonest - now).total_seconds()))
        return max(wait, 0.01)


def _poll(cycle: Cycle, feed: FeedConfig) -> tuple[FeedPoll, str | None, tuple[LinkEvent, ...]]:
    state = cycle.book.states.get(feed.url)
    return poll_source(cycle.fetcher, feed, state, cycle.config.pipeline)


def _pushed_entries(cycle: Cycle, push: Push) -> FeedPoll:
    """A pushed feed document goes through the same parser as a polled one (and is trusted no more)."""
    name = cycle.book.feeds[push.feed_url].name if push.feed_url in cycle.book.feeds else push.feed_url
    parsed, _ = parse_feed(push.body, push.feed_url, push.content_type, cycle.config.pipeline.max_entries_per_feed)
    return FeedPoll(push.feed_url, name, "ok", 200, None, None, None, entries=parsed.entries)


def _warm_up(extraction: Extraction, config: Config) -> None:
    """Start the extraction workers and their imports now, not in the first cycle (a long-lived process can
    afford what `newsmon run` must not pay on every pass)."""
    limits = TextLimits(config.pipeline.min_text_chars, config.pipeline.max_text_chars)
    settings = ProcessSettings(limits, config.taxonomy_sources)
    url = "http://127.0.0.1/newsmon-warm-up"
    entry = FeedEntry(url, url, url, "warm-up", "", "", None, None, "warm-up")
    page = (
        b"<html><body><article><h1>warm-up</h1><p>A page to start the extraction workers.</p></article></body></html>"
    )
    job = Job(entry, page, "text/html", datetime.now(UTC))
    pending = [
        extraction.submit([job], settings) for _ in range(config.pipeline.extract_workers or os.cpu_count() or 1)
    ]
    for one in pending:
        one.result()
