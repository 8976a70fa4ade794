"""`newsmon watch`: one long-lived process that keeps every feed on its own schedule, accepts WebSub pushes
and turns new entries into stored, deduplicated, alerted articles within seconds.

Threads: the watch loop (this module; the only warehouse writer), a pool polling due feeds, and the HTTP
server (WebSub callbacks, /healthz, /metrics) whose threads only queue pushes. New entries wait in memory
until the batch is full (`watch.batch_size`) or its first entry has waited `watch.batch_wait_seconds`;
then one processing cycle runs as a Prefect flow run (`newsmon-watch-cycle`) through the same steps as
`newsmon run` (flows.monitor): fetch pages, extract, classify, dedup, store (one transaction per batch with
its outbox rows), update the feeds, deliver alerts. Unchanged and failed polls are written without a flow
run (no cycle when there is no work). SIGTERM: the server stops taking pushes, the entries in hand are
processed as a last cycle, the outbox is delivered, and the process exits.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from prefect import flow, get_run_logger

from core.records import FeedEntry, FeedPoll, LinkEvent
from core.settings import Config, FeedConfig
from extractors.feeds import parse_feed
from flows.extraction import Extraction, extraction_for
from flows.feeds import poll_feed
from flows.http import HttpFetcher
from flows.monitor import (
    BatchWriter,
    Tally,
    finish_run,
    flow_run_id,
    new_entries,
    notify,
    open_dedup_index,
    prepare_warehouse,
    process_batches,
)
from flows.subscriber import Push, Subscriptions
from flows.watch_book import WEEK, FeedBook
from flows.watch_metrics import WatchMetrics
from flows.watch_server import WatchServer
from storage import warehouse as wh
from storage.lock import pass_lock
from storage.lsh import LshIndex
from storage.warehouse import Warehouse

log = logging.getLogger("newsmon.watch")
LOCK_WAIT_SECONDS = 30 * 60
_IDLE_WAKE_SECONDS = 1.0
_SUBSCRIPTION_CHECK_SECONDS = 5.0


@dataclass
class _Work:
    """What the next cycle processes: polls whose entries are new, pushed entries, link events."""

    polls: list[tuple[FeedPoll, str | None]] = field(default_factory=list)
    entries: dict[str, FeedEntry] = field(default_factory=dict)
    found_at: dict[str, tuple[str, float]] = field(default_factory=dict)  # url -> (push|poll, monotonic)
    pushed_feeds: set[str] = field(default_factory=set)
    events: list[LinkEvent] = field(default_factory=list)
    first_at: float | None = None

    def add(self, entries: list[FeedEntry], source: str) -> int:
        now = time.monotonic()
        added = 0
        for entry in entries:
            if entry.canonical_url not in self.entries:
                self.entries[entry.canonical_url] = entry
                self.found_at[entry.canonical_url] = (source, now)
                added += 1
        if (added or self.events or self.polls) and self.first_at is None:
            self.first_at = now
        return added

    def ready(self, size: int, wait: float) -> bool:
        return self.first_at is not None and (len(self.entries) >= size or time.monotonic() - self.first_at >= wait)


@dataclass
class _Cycle:
    """Everything a processing cycle needs; one per watcher."""

    config: Config
    warehouse: Warehouse
    fetcher: HttpFetcher
    extraction: Extraction
    index: LshIndex
    book: FeedBook
    metrics: WatchMetrics
    subscriptions: Subscriptions | None


_ACTIVE: dict[str, _Cycle] = {}  # the flow below takes small parameters; the watcher's objects are here


@flow(name="newsmon-watch-cycle", log_prints=True, validate_parameters=False)
def watch_cycle(entries: int, pushed: int, polls: int) -> dict[str, int]:
    """One processing cycle of `newsmon watch` (its parameters only describe the work, for the UI)."""
    return _run_cycle(_ACTIVE["cycle"], _ACTIVE_WORK.pop("work"))


_ACTIVE_WORK: dict[str, _Work] = {}


def _run_cycle(cycle: _Cycle, work: _Work) -> dict[str, int]:
    run_id = uuid.uuid4().hex[:12]
    now = datetime.now(UTC)
    with cycle.warehouse.transaction() as con:
        wh.start_run(con, run_id, flow_run_id(), now)
    tally = Tally(feeds_total=len(work.polls))
    tally.events.extend(work.events)
    for poll, _ in work.polls:
        tally.outcomes[poll.outcome] += 1
    entries = list(work.entries.values())
    tally.entries_seen = len(entries)
    writer = BatchWriter(cycle.warehouse, cycle.index, run_id, cycle.config.alerts)
    try:
        process_batches(cycle.config, writer, cycle.fetcher, entries, tally, cycle.extraction)
        _observe_stored(cycle, work, tally, time.monotonic())
        _record_work_polls(cycle, work)
        notify(cycle.warehouse, cycle.config, run_id, tally)
        _observe_alerts(cycle, work, tally)
    except BaseException as exc:
        finish_run(cycle.warehouse, tally.summary(run_id, "failed"), f"{type(exc).__name__}: {exc}"[:1000])
        cycle.metrics.cycles.labels("failed").inc()
        raise
    summary = tally.summary(run_id, "completed")
    finish_run(cycle.warehouse, summary, None)
    cycle.metrics.cycles.labels("completed").inc()
    get_run_logger().info(
        "cycle: %d entries (%d pushed), %d new articles, %d duplicates, %d notifications sent",
        len(entries),
        sum(1 for s, _ in work.found_at.values() if s == "push"),
        summary.articles_new,
        summary.articles_duplicate,
        summary.notifications_sent,
    )
    return {"articles_new": summary.articles_new, "articles_duplicate": summary.articles_duplicate}


def _record_work_polls(cycle: _Cycle, work: _Work) -> None:
    now = datetime.now(UTC)
    subs = cycle.subscriptions
    planned = []
    for poll, title in work.polls:
        new = sum(1 for e in poll.entries if e.canonical_url in work.entries)
        pushing = subs is not None and subs.pushing(poll.feed_url, now)
        failures, stored = cycle.book.plan(poll, new, pushing, now)
        planned.append((poll, title, failures, stored))
    with cycle.warehouse.transaction() as con:
        cycle.book.record(con, planned, now)


def _observe_stored(cycle: _Cycle, work: _Work, tally: Tally, stored_at: float) -> None:
    per_feed: dict[str, int] = {}
    for article in tally.new:
        per_feed[article.feed_url] = per_feed.get(article.feed_url, 0) + 1
        source, found = work.found_at.get(article.canonical_url, ("poll", stored_at))
        cycle.metrics.stored_latency.labels(source).observe(stored_at - found)
    for feed_url, count in per_feed.items():
        cycle.book.stored(feed_url, count)
    cycle.metrics.articles.inc(len(tally.new))


def _observe_alerts(cycle: _Cycle, work: _Work, tally: Tally) -> None:
    if not tally.notifications_sent:
        return
    delivered = time.monotonic()
    cycle.metrics.alerts.inc(tally.notifications_sent)
    for article in tally.new:
        source, found = work.found_at.get(article.canonical_url, ("poll", delivered))
        if article.platforms or article.topics:
            cycle.metrics.alert_latency.labels(source).observe(delivered - found)


class Watcher:
    """`run()` blocks until `stop` is set (SIGTERM), then finishes the work in hand and returns."""

    def __init__(self, config: Config, stop: threading.Event) -> None:
        self.config = config
        self.stop = stop
        self.wake = threading.Event()
        self.metrics = WatchMetrics()
        self.warehouse = Warehouse(config.warehouse)
        self.ready = False
        self.heartbeat = time.monotonic()
        self.port: int | None = None

    def health(self) -> tuple[bool, bool]:
        live = time.monotonic() - self.heartbeat < 60
        return live, self.ready and live and not self.stop.is_set()

    def run(self, on_ready: Callable[[int], None] | None = None) -> None:
        with pass_lock(self.config.warehouse, LOCK_WAIT_SECONDS, log.warning):
            self._run_locked(on_ready)

    def _run_locked(self, on_ready: Callable[[int], None] | None) -> None:
        config = self.config
        book, subs = self._load()
        extraction = extraction_for(config.pipeline.extract_workers, config.pipeline.dask_address, log.warning)
        index = open_dedup_index(self.warehouse, log)
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
                cycle = _Cycle(config, self.warehouse, fetcher, extraction, index, book, self.metrics, subs)
                _ACTIVE["cycle"] = cycle
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
            _ACTIVE.pop("cycle", None)

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

    def _loop(self, cycle: _Cycle, server: WatchServer) -> None:
        config = self.config
        work = _Work()
        polls: dict[str, Future[tuple[FeedPoll, str | None, tuple[LinkEvent, ...]]]] = {}
        last_subscription_check = 0.0
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
                    self._cycle(work)
                    work = _Work()
                if cycle.subscriptions is not None and time.monotonic() - last_subscription_check >= (
                    _SUBSCRIPTION_CHECK_SECONDS
                ):
                    last_subscription_check = time.monotonic()
                    self._subscriptions(cycle, now)
                self._gauges(cycle, work, now)
                if stopping and not polls:
                    break
                self.wake.wait(self._sleep_seconds(cycle, work, now, stopping))
                self.wake.clear()
        if cycle.subscriptions is not None:
            self._save_subscriptions(cycle.subscriptions)

    def _launch_polls(
        self,
        cycle: _Cycle,
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
        cycle: _Cycle,
        polls: dict[str, Future[tuple[FeedPoll, str | None, tuple[LinkEvent, ...]]]],
        work: _Work,
        stopping: bool,
    ) -> None:
        done = [url for url, future in polls.items() if future.done()]
        if stopping:  # in-flight polls are abandoned: their feeds keep their validators and are polled again
            done = list(polls)
        results = []
        for url in done:
            future = polls.pop(url)
            cycle.book.in_flight.discard(url)
            if future.done() and future.exception() is None:
                results.append(future.result())
        if results:
            self._sort_polls(cycle, results, work)

    def _sort_polls(
        self, cycle: _Cycle, results: list[tuple[FeedPoll, str | None, tuple[LinkEvent, ...]]], work: _Work
    ) -> None:
        """Polls with new entries (or link events) wait for the next cycle; the rest are written now."""
        now = datetime.now(UTC)
        changed = [poll for poll, _, _ in results if poll.outcome == "ok"]
        fresh, _, _ = new_entries(self.warehouse, changed) if changed else ([], 0, 0)
        fresh_urls = {e.canonical_url for e in fresh}
        quiet = []
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
                quiet.append((poll, title, failures, stored))
                if poll.outcome == "failed":
                    log.warning("feed %s failed (%s): %s", poll.feed_url, poll.error_kind, poll.error)
        if quiet:
            with self.warehouse.transaction() as con:
                cycle.book.record(con, quiet, now)

    def _take_pushes(self, cycle: _Cycle, work: _Work) -> None:
        subs = cycle.subscriptions
        if subs is None:
            return
        while not subs.pushes.empty():
            push = subs.pushes.get_nowait()
            entries = _pushed_entries(cycle, push)
            fresh, _, _ = new_entries(self.warehouse, [entries]) if entries.entries else ([], 0, 0)
            cycle.metrics.pushes.labels("accepted").inc()
            cycle.metrics.entries.labels("push").inc(work.add(fresh, "push"))
            work.pushed_feeds.add(push.feed_url)
        for reason, count in subs.rejected.items():
            if count:
                cycle.metrics.pushes.labels(f"rejected_{reason}").inc(count)
                subs.rejected[reason] = 0

    def _cycle(self, work: _Work) -> None:
        _ACTIVE_WORK["work"] = work
        pushed = sum(1 for s, _ in work.found_at.values() if s == "push")
        try:
            watch_cycle(entries=len(work.entries), pushed=pushed, polls=len(work.polls))
        except Exception as exc:  # a failed cycle is recorded; its feeds are polled again on schedule
            log.error("processing cycle failed: %s: %s", type(exc).__name__, exc)
        finally:
            _ACTIVE_WORK.pop("work", None)

    def _subscriptions(self, cycle: _Cycle, now: datetime) -> None:
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

    def _gauges(self, cycle: _Cycle, work: _Work, now: datetime) -> None:
        m = cycle.metrics
        m.feeds.labels("total").set(len(cycle.book.feeds))
        m.feeds.labels("due").set(len(cycle.book.due(now)) + len(cycle.book.in_flight))
        m.feeds.labels("failing").set(cycle.book.failing())
        subs = cycle.subscriptions
        pushing = sum(1 for u in cycle.book.feeds if subs is not None and subs.pushing(u, now))
        m.feeds.labels("pushed").set(pushing)
        m.poll_lag.set(cycle.book.lag_seconds(now))
        m.queue_depth.set(len(work.entries) + (subs.pushes.qsize() if subs is not None else 0))

    def _sleep_seconds(self, cycle: _Cycle, work: _Work, now: datetime, stopping: bool) -> float:
        if stopping:
            return 0.05
        wait = _IDLE_WAKE_SECONDS
        if work.first_at is not None:
            wait = min(wait, max(0.0, work.first_at + self.config.watch.batch_wait_seconds - time.monotonic()))
        soonest = cycle.book.soonest()
        if soonest is not None:
            wait = min(wait, max(0.0, (soonest - now).total_seconds()))
        return max(wait, 0.01)


def _poll(cycle: _Cycle, feed: FeedConfig) -> tuple[FeedPoll, str | None, tuple[LinkEvent, ...]]:
    state = cycle.book.states.get(feed.url)
    return poll_feed(cycle.fetcher, feed, state, cycle.config.pipeline.max_entries_per_feed)


def _pushed_entries(cycle: _Cycle, push: Push) -> FeedPoll:
    """A pushed feed document goes through the same parser as a polled one (and is trusted no more)."""
    name = cycle.book.feeds[push.feed_url].name if push.feed_url in cycle.book.feeds else push.feed_url
    parsed, _ = parse_feed(push.body, push.feed_url, push.content_type, cycle.config.pipeline.max_entries_per_feed)
    return FeedPoll(push.feed_url, name, "ok", 200, None, None, None, entries=parsed.entries)
