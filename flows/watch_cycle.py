"""One processing cycle of `newsmon watch`, as a task run `watch-cycle` of the watcher's flow run: the
entries in hand go through the steps of `newsmon run` (flows.monitor: fetch pages, extract, classify,
dedup, store with the outbox, deliver alerts), then the polls that found them are written (validators,
schedules) and the latency histograms observed.

The task's parameters only describe the work (counts, for the UI); the watcher's objects (HTTP client,
extraction workers, index, the entries) are handed over in `_IN_HAND`, since Prefect would try to
serialise real parameters for its API.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext

from core.errors import describe
from core.records import FeedEntry, FeedPoll, LinkEvent
from core.settings import Config
from flows.extraction import Extraction
from flows.http import HttpFetcher
from flows.monitor import BatchWriter, Tally, account_for, finish_run, notify, process_batches
from flows.progress import quiet_progress
from flows.subscriber import Subscriptions
from flows.watch_book import FeedBook, Planned
from flows.watch_metrics import WatchMetrics
from storage import warehouse as wh
from storage.lsh import LshIndex
from storage.warehouse import Warehouse


@dataclass
class Work:
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
class Cycle:
    """Everything a processing cycle needs; one per watcher."""

    config: Config
    warehouse: Warehouse
    fetcher: HttpFetcher
    extraction: Extraction
    index: LshIndex
    book: FeedBook
    metrics: WatchMetrics
    subscriptions: Subscriptions | None


_IN_HAND: dict[str, tuple[Cycle, Work]] = {}


def run_cycle(cycle: Cycle, work: Work) -> None:
    """Process `work` as one flow run (blocks until done; raises what the cycle raised)."""
    key = uuid.uuid4().hex
    _IN_HAND[key] = (cycle, work)
    pushed = sum(1 for source, _ in work.found_at.values() if source == "push")
    cycle.metrics.in_cycle.set(1)
    try:
        watch_cycle(key, entries=len(work.entries), pushed=pushed, polls=len(work.polls))
    finally:
        _IN_HAND.pop(key, None)
        cycle.metrics.in_cycle.set(0)


@task(
    name="watch-cycle",
    cache_policy=NO_CACHE,
    task_run_name="watch-cycle [{entries} entries, {pushed} pushed, {polls} feeds]",
)
def watch_cycle(key: str, entries: int, pushed: int, polls: int) -> dict[str, int]:
    """One processing cycle of `newsmon watch` (the counts only describe the work, for the UI)."""
    cycle, work = _IN_HAND[key]
    return _process(cycle, work)


def _process(cycle: Cycle, work: Work) -> dict[str, int]:
    """The cycle is a run of its own (a `runs` row), seen alive by other writers while it works."""
    run_id = uuid.uuid4().hex[:12]
    with cycle.warehouse.pass_running(run_id):
        return _process_run(cycle, work, run_id)


def _process_run(cycle: Cycle, work: Work, run_id: str) -> dict[str, int]:
    now = datetime.now(UTC)
    with cycle.warehouse.transaction() as con:
        wh.start_run(con, run_id, _flow_run_id(), now, cycle.warehouse.alive)
    tally = Tally(feeds_total=len(work.polls))
    tally.events.extend(work.events)
    for poll, _ in work.polls:
        tally.outcomes[poll.outcome] += 1
    entries = list(work.entries.values())
    tally.entries_seen = len(entries)
    tags = {f.url: f.tags for f in cycle.config.feeds}
    writer = BatchWriter(cycle.warehouse, cycle.index, run_id, cycle.config.alerts, cycle.config.stories, tags)
    try:
        process_batches(cycle.config, writer, cycle.fetcher, entries, tally, cycle.extraction, quiet_progress())
        account_for(writer, entries, tally)
        _observe_stored(cycle, work, tally, time.monotonic())
        _record_work_polls(cycle, work)
        notify(cycle.warehouse, cycle.config, run_id, tally)
        _observe_alerts(cycle, work, tally)
    except BaseException as exc:
        finish_run(cycle.warehouse, tally.summary(run_id, "failed"), describe(exc, 1000))
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


def _record_work_polls(cycle: Cycle, work: Work) -> None:
    now = datetime.now(UTC)
    subs = cycle.subscriptions
    planned: list[Planned] = []
    for poll, title in work.polls:
        new = sum(1 for e in poll.entries if e.canonical_url in work.entries)
        pushing = subs is not None and subs.pushing(poll.feed_url, now)
        failures, stored = cycle.book.plan(poll, new, pushing, now)
        planned.append((poll, title, failures, stored, now))
    with cycle.warehouse.transaction() as con:
        cycle.book.record(con, planned)


def _observe_stored(cycle: Cycle, work: Work, tally: Tally, stored_at: float) -> None:
    per_feed: dict[str, int] = {}
    for article in tally.new:
        per_feed[article.feed_url] = per_feed.get(article.feed_url, 0) + 1
        source, found = work.found_at.get(article.canonical_url, ("poll", stored_at))
        cycle.metrics.stored_latency.labels(source).observe(stored_at - found)
    for feed_url, count in per_feed.items():
        cycle.book.stored(feed_url, count)
    cycle.metrics.articles.inc(len(tally.new))


def _observe_alerts(cycle: Cycle, work: Work, tally: Tally) -> None:
    if not tally.notifications_sent:
        return
    delivered = time.monotonic()
    cycle.metrics.alerts.inc(tally.notifications_sent)
    for article in tally.new:
        source, found = work.found_at.get(article.canonical_url, ("poll", delivered))
        if article.platforms or article.topics:
            cycle.metrics.alert_latency.labels(source).observe(delivered - found)


def _flow_run_id() -> str | None:
    """The watcher's flow run (a cycle is a task run of it), for the `runs` row."""
    context = FlowRunContext.get()
    return str(context.flow_run.id) if context is not None and context.flow_run is not None else None
