"""The monitoring pass, run by the Prefect flow `newsmon-pass` (newsmon/flow.py): poll due feeds, fetch and
extract new entries, store in batches.

Tasks wrap the steps (one `poll-feed` task run per feed, so the Prefect UI shows each feed's health; one
`store-batch` task run per batch, never one per article; `extract-pages` task runs when extraction runs
on a Dask cluster). Transient HTTP errors are retried inside the shared client, honouring Retry-After;
permanent ones are recorded and skipped.
Only the `store-batch` task writes, one transaction per batch, so a killed pass loses at most the batch in
flight and the next pass picks those entries up again (they are not stored yet).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import sys
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import get_run_context

from core.errors import NoFeedRead, WarehouseError, describe
from core.records import ARTICLE_PREFIX, Article, FeedEntry, FeedPoll, FeedState, LinkEvent, PassSummary, SeedDocument
from core.settings import AlertRule, Config, FeedConfig, PipelineSettings, StoryPolicy
from core.words import count_of
from extractors.article import TextLimits
from extractors.classify import classifier_for
from extractors.embedding import warm_up
from extractors.seeds import SEED_SKIP_STEMS, parse_seed
from flows.backlog import deferred_events, hold_back, within_budget
from flows.dedupe import catch_up, mark_duplicates, open_caught_up
from flows.extraction import Extraction, ProcessSettings, extraction_for
from flows.feeds import poll_feed
from flows.http import HttpFetcher
from flows.notify import DeliveryReport, deliver_pending, fault_point, queue_matches, queue_spikes
from flows.pages import EntryResult, fetch_and_extract, unaccounted
from flows.polling import failure_weight, is_due, next_poll_after_failure, next_poll_after_success
from flows.progress import PassProgress, pass_progress
from flows.sources import poll_sitemap
from flows.stories import assign_stories, store_stories
from storage import warehouse as wh
from storage.lsh import LshIndex
from storage.warehouse import Warehouse

LOCK_WAIT_SECONDS = 30 * 60
Logger = logging.Logger | logging.LoggerAdapter[logging.Logger]  # ours, or a Prefect run logger


def read_seed_folder(folder: Path) -> list[SeedDocument]:
    files = sorted(p for p in folder.glob("*.txt") if p.stem.upper() not in SEED_SKIP_STEMS)
    return [parse_seed(path.stem, path.read_bytes()) for path in files]


@dataclass
class Tally:
    feeds_total: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    entries_seen: int = 0
    entries_known: int = 0
    new: list[Article] = field(default_factory=list)
    events: list[LinkEvent] = field(default_factory=list)
    failed_feeds: list[tuple[str, str]] = field(default_factory=list)
    notifications_sent: int = 0
    notifications_failed: int = 0

    def summary(self, run_id: str, status: Any) -> PassSummary:
        kinds = Counter(e.outcome for e in self.events)
        originals = [a for a in self.new if a.duplicate_of is None]
        languages = Counter(a.language for a in originals)
        platforms = Counter(p for a in originals for p in a.platforms)
        topics = Counter(t for a in originals for t in a.topics)
        return PassSummary(
            run_id=run_id,
            status=status,
            feeds_total=self.feeds_total,
            feeds_ok=self.outcomes["ok"],
            feeds_unchanged=self.outcomes["unchanged"],
            feeds_failed=self.outcomes["failed"],
            feeds_skipped=self.outcomes["skipped"],
            entries_seen=self.entries_seen,
            entries_known=self.entries_known,
            articles_new=sum(1 for a in self.new if a.duplicate_of is None),
            articles_duplicate=sum(1 for a in self.new if a.duplicate_of is not None),
            links_refused=kinds["refused"],
            pages_failed=kinds["page_failed"],
            entries_dropped=kinds["too_short"] + kinds["invalid_url"] + kinds["lost"] + kinds["entry_failed"],
            notifications_sent=self.notifications_sent,
            notifications_failed=self.notifications_failed,
            new_by_language=_ranked(languages),
            new_by_platform=_ranked(platforms),
            new_by_topic=_ranked(topics),
            failed_feeds=tuple(self.failed_feeds),
            refused_links=tuple((e.url, e.reason) for e in self.events if e.outcome == "refused")[:20],
        )


def _ranked(counts: Counter[str]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def poll_source(
    fetcher: HttpFetcher, feed: FeedConfig, state: FeedState | None, pipeline: PipelineSettings
) -> tuple[FeedPoll, str | None, tuple[LinkEvent, ...]]:
    """A feed or a sitemap, with every entry (bodies are size-capped): a pass budgets new entries per source
    itself (flows.backlog); the watcher batches them."""
    if feed.kind != "sitemap":
        return poll_feed(fetcher, feed, state)
    validators = (
        {"etag": state.etag, "last_modified": state.last_modified, "body_hash": state.body_hash} if state else {}
    )
    return poll_sitemap(fetcher, feed.url, feed.name, validators, None, pipeline.max_sitemap_children)


@task(name="poll-feed", cache_policy=NO_CACHE, task_run_name="poll-feed [{feed.name}]")
def poll_feed_task(
    fetcher: HttpFetcher, feed: FeedConfig, state: FeedState | None, pipeline: PipelineSettings
) -> tuple[FeedPoll, str | None, tuple[LinkEvent, ...]]:
    poll, title, events = poll_source(fetcher, feed, state, pipeline)
    logger = get_run_logger()
    if poll.outcome == "failed":
        logger.warning("feed %s failed (%s): %s", feed.url, poll.error_kind, poll.error)
    else:
        logger.info("feed %s: %s, %d entries", feed.url, poll.outcome, len(poll.entries))
    return poll, title, events


def _fetch_extract(
    entries: Sequence[FeedEntry],
    fetcher: HttpFetcher,
    extraction: Extraction,
    settings: ProcessSettings,
    config: Config,
    progress: PassProgress,
) -> list[EntryResult]:
    """Not a task of its own: a chunk sent to Dask becomes an `extract-pages` task run of the flow, and
    prefect-dask would have to serialise an enclosing task's parameters (the HTTP client) with it."""
    page_fetcher = fetcher if config.pipeline.fetch_pages else None
    results = fetch_and_extract(
        entries, page_fetcher, extraction, settings, config.network.max_page_bytes, lambda _: progress.page_fetched()
    )
    progress.pages_extracted(len(results))
    return results


@dataclass(frozen=True)
class BatchWriter:
    """Everything a batch write needs: the warehouse, the near-duplicate index, the run and the rules."""

    warehouse: Warehouse
    index: LshIndex
    run_id: str
    rules: tuple[AlertRule, ...]
    stories: StoryPolicy
    tags: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # feed URL -> the feed's tags


@task(name="store-batch", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def store_batch_task(writer: BatchWriter, articles: Sequence[Article], events: Sequence[LinkEvent]) -> list[Article]:
    """One transaction: keep articles with new canonical URLs, mark duplicates, insert them and queue their
    alert notifications (the outbox). Then add them to the near-duplicate index. Safe to retry.

    All of it under the writers' lock: the index first catches up with what other writers stored since
    (so their articles count as earlier documents), and the checks for stored URLs and story state see
    every commit."""
    articles = [replace(a, tags=writer.tags[a.feed_url]) if writer.tags.get(a.feed_url) else a for a in articles]
    with writer.warehouse.write_lock():
        with writer.warehouse.session() as con:
            catch_up(writer.index, con)
        with writer.warehouse.transaction() as con:
            fresh = wh.new_articles(con, articles)
            marked = mark_duplicates(fresh, writer.index, lambda ids: wh.document_texts(con, ids))
            storied = assign_stories(con, marked, writer.stories)
            marked = storied.articles
            high_water = wh.insert_articles(con, writer.run_id, marked, events, datetime.now(UTC))
            store_stories(con, storied, datetime.now(UTC))
            queued = queue_matches(con, writer.rules, marked, writer.run_id)
            fault_point("in-store-transaction")
        fault_point("after-store")
        prints = [(ARTICLE_PREFIX + a.article_id, a.fingerprint) for a in marked if a.fingerprint]
        writer.index.add(prints, high_water)
    get_run_logger().info(store_message(marked, len(events), queued))
    return marked


def store_message(stored: Sequence[Article], link_events: int, queued: int) -> str:
    """`stored 12 articles (9 originals, 3 copies of known stories), 1 link event, 2 notifications queued`."""
    copies = sum(1 for a in stored if a.duplicate_of)
    return (
        f"stored {count_of(len(stored), 'article')} ({count_of(len(stored) - copies, 'original')}, "
        f"{count_of(copies, 'copy', 'copies')} of known stories), {count_of(link_events, 'link event')}, "
        f"{count_of(queued, 'notification')} queued"
    )


def _feed_failures(poll: FeedPoll, state: FeedState | None) -> int:
    previous = state.consecutive_failures if state else 0
    return previous + failure_weight(poll.error_kind) if poll.outcome == "failed" else 0


def _record_polls(
    warehouse: Warehouse,
    config: Config,
    polls: Sequence[tuple[FeedPoll, str | None]],
    states: dict[str, FeedState],
    now: datetime,
) -> None:
    outcomes: list[wh.PollOutcome] = []
    for poll, title in polls:
        failures = _feed_failures(poll, states.get(poll.feed_url))
        next_at: datetime | None = (
            next_poll_after_failure(now, config.polling, failures, poll.retry_after_seconds)
            if poll.outcome == "failed"
            else next_poll_after_success(now, config.polling, poll.ttl_seconds)
        )
        outcomes.append(wh.PollOutcome(poll, now, next_at, failures, title))
    if outcomes:
        with warehouse.transaction() as con:
            wh.record_feed_polls(con, outcomes)


def new_entries(warehouse: Warehouse, polls: Sequence[FeedPoll]) -> tuple[list[FeedEntry], int, int]:
    """Entries of this pass not stored before (first occurrence of each canonical URL), seen, known. The
    per-feed budget is applied afterwards (flows.backlog)."""
    unique: dict[str, FeedEntry] = {}
    seen = 0
    for poll in polls:
        for entry in poll.entries:
            seen += 1
            unique.setdefault(entry.canonical_url, entry)
    with warehouse.session() as con:
        known = wh.known_urls(con, list(unique))
    fresh = [entry for url, entry in unique.items() if url not in known]
    return fresh, seen, seen - len(fresh)


def _poll_due_feeds(
    config: Config,
    fetcher: HttpFetcher,
    states: dict[str, FeedState],
    poll_all: bool,
    tally: Tally,
    now: datetime,
    progress: PassProgress,
) -> list[tuple[FeedPoll, str | None]]:
    due = [f for f in config.feeds if poll_all or is_due(states[f.url].next_poll_at if f.url in states else None, now)]
    # Feeds before sitemaps: an article both list is attributed to the feed (richer entry, the feed's tags).
    due.sort(key=lambda f: f.kind == "sitemap")
    tally.outcomes["skipped"] = len(config.feeds) - len(due)
    progress.feeds_due(len(due))
    futures = [poll_feed_task.submit(fetcher, feed, states.get(feed.url), config.pipeline) for feed in due]
    polls: list[tuple[FeedPoll, str | None]] = []
    for future in futures:
        poll, title, events = future.result()
        progress.feed_polled()
        polls.append((poll, title))
        tally.outcomes[poll.outcome] += 1
        tally.events.extend(events)
        if poll.outcome == "failed":
            tally.failed_feeds.append((poll.feed_url, poll.error or "unknown error"))
    return polls


def process_batches(
    config: Config,
    writer: BatchWriter,
    fetcher: HttpFetcher,
    entries: Sequence[FeedEntry],
    tally: Tally,
    extraction: Extraction,
    progress: PassProgress,
) -> None:
    """Batch after batch, one ahead: while a batch is being stored, the next one is already fetched and
    extracted (in a thread that carries the flow's context), so the workers never wait for the writer."""
    size = config.pipeline.batch_size
    batches = [entries[start : start + size] for start in range(0, len(entries), size)]
    if entries and writer.stories.enabled:
        warm_up()  # the story model loads while the first batch is fetched and extracted
    limits = TextLimits(config.pipeline.min_text_chars, config.pipeline.max_text_chars)
    settings = ProcessSettings(limits, config.taxonomy_sources)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsmon-next-batch") as ahead:

        def prepare(batch: Sequence[FeedEntry]) -> Future[list[EntryResult]]:
            context = contextvars.copy_context()
            return ahead.submit(context.run, _fetch_extract, batch, fetcher, extraction, settings, config, progress)

        upcoming = [prepare(batches[0])] if batches else []
        for number in range(len(batches)):
            results = upcoming.pop().result()
            if number + 1 < len(batches):
                upcoming.append(prepare(batches[number + 1]))
            articles = [r.article for r in results if r.article is not None]
            events = [e for r in results for e in r.events]
            if number == 0:
                events = [*tally.events, *events]  # feed-level link events go with the first batch
                tally.events.clear()
            stored = store_batch_task(writer, articles, events)
            progress.pages_stored(len(results))
            tally.new.extend(stored)
            tally.events.extend(events)
    if not entries and tally.events:
        store_batch_task(writer, [], tally.events)


def account_for(writer: BatchWriter, entries: Sequence[FeedEntry], tally: Tally) -> None:
    """Every new entry must have ended as an article or a counted link event; one that did not is recorded
    as `lost` (counted as dropped, retried next pass) and logged, never silently gone."""
    lost = unaccounted(entries, tally.new, tally.events)
    if lost:
        get_run_logger().error("%d new entries were neither stored nor recorded: %s", len(lost), lost[0].url)
        store_batch_task(writer, [], lost)
        tally.events.extend(lost)


def prepare_warehouse(warehouse: Warehouse, config: Config, now: datetime, logger: Logger) -> dict[str, FeedState]:
    """Seeds loaded and labelled, a row per configured feed; returns every feed's stored state (the first
    step of a pass, and of `newsmon watch`)."""
    seeds = read_seed_folder(config.seeds)
    classifier = classifier_for(config.taxonomy_sources)
    labels = {s.seed_id: classifier.classify(s.title, s.text) for s in seeds}
    with warehouse.transaction() as con:
        added = wh.load_seeds(con, seeds, now)
        wh.label_seeds(con, {seed: (c.platforms, c.topics) for seed, c in labels.items()})
        wh.mark_feeds(con, [(feed.url, feed.name, feed.kind, feed.tags) for feed in config.feeds])
        states = wh.feed_states(con)
    if added:
        logger.info("loaded %d seed documents from %s", added, config.seeds)
    for note in config.source_notes:
        logger.warning("OPML import: %s", note)
    return states


def _prepare(warehouse: Warehouse, config: Config, run_id: str, now: datetime) -> dict[str, FeedState]:
    logger = get_run_logger()
    with warehouse.transaction() as con:
        aborted = wh.start_run(con, run_id, flow_run_id(), now, warehouse.alive)
    if aborted:
        logger.warning("%d earlier pass(es) had been killed before finishing; marked 'aborted'", aborted)
    return prepare_warehouse(warehouse, config, now, logger)


def open_dedup_index(warehouse: Warehouse, logger: Logger) -> LshIndex:
    """The near-duplicate index, caught up with the warehouse."""
    with warehouse.session() as con:
        index, added, rebuilt = open_caught_up(warehouse.settings, con, logger.warning)
    if rebuilt:
        logger.warning("the near-duplicate index was ahead of the warehouse (a restored backup?): rebuilt it")
    if added:
        logger.info("near-duplicate index: %d documents added to catch up (%d indexed)", added, index.size())
    return index


def flow_run_id() -> str | None:
    try:
        context = get_run_context()
    except RuntimeError:
        return None
    flow_run = getattr(context, "flow_run", None)
    return str(flow_run.id) if flow_run is not None else None


def execute_pass(config: Config, poll_all: bool = False) -> PassSummary:
    """One pass, inside the caller's flow run. Other passes may run at the same time (on this machine or,
    with a PostgreSQL catalog, others): each batch commits under the writers' lock."""
    logger = get_run_logger()
    warehouse = Warehouse(config.warehouse, LOCK_WAIT_SECONDS, logger.warning)
    run_id = uuid.uuid4().hex[:12]
    tally = Tally(feeds_total=len(config.feeds))
    with contextlib.closing(warehouse), warehouse.pass_running(run_id):
        now = datetime.now(UTC)
        states = _prepare(warehouse, config, run_id, now)
        extraction = extraction_for(config.pipeline.extract_workers, config.pipeline.dask_address, logger.warning)
        index = open_dedup_index(warehouse, logger)
        try:
            with HttpFetcher(config.network) as fetcher, pass_progress(sys.stderr, logger.info) as progress:
                polls = _poll_due_feeds(config, fetcher, states, poll_all, tally, now, progress)
                # Failures are recorded at once (ops see them even if the pass dies later). A feed's new
                # validators and body hash are recorded only after its entries are stored: a pass killed in
                # between re-reads the feed next time instead of taking it for unchanged and losing entries.
                failed = [p for p in polls if p[0].outcome == "failed"]
                _record_polls(warehouse, config, failed, states, datetime.now(UTC))
                fresh, tally.entries_seen, tally.entries_known = new_entries(warehouse, [p for p, _ in polls])
                budget = config.pipeline.max_entries_per_feed
                entries, deferred = within_budget(fresh, budget)
                tally.events.extend(deferred_events(deferred, budget))
                planned = count_of(len(entries), "new entry", "new entries")
                logger.info("%s to fetch (%d already stored or listed twice)", planned, tally.entries_known)
                progress.pages_planned(len(entries))
                writer = BatchWriter(
                    warehouse, index, run_id, config.alerts, config.stories, {f.url: f.tags for f in config.feeds}
                )
                process_batches(config, writer, fetcher, entries, tally, extraction, progress)
                account_for(writer, entries, tally)
                succeeded = [(hold_back(p, deferred), title) for p, title in polls if p.outcome != "failed"]
                _record_polls(warehouse, config, succeeded, states, datetime.now(UTC))
            notify(warehouse, config, run_id, tally)
        except BaseException as exc:
            try:
                finish_run(warehouse, tally.summary(run_id, "failed"), describe(exc, 1000))
            except WarehouseError as unrecorded:  # e.g. the disk is full: report the first error, not this
                logger.error("could not record the failed run either: %s", unrecorded)
            raise
        finally:
            extraction.close()
            index.close()
        summary = tally.summary(run_id, "completed")
        outage = _total_outage(summary)
        finish_run(warehouse, replace(summary, status="failed") if outage else summary, outage)
    if outage:
        raise NoFeedRead(outage, replace(summary, status="failed"))
    return summary


def _total_outage(summary: PassSummary) -> str | None:
    """Why the pass failed although it ran to the end: feeds were polled and not one could be read."""
    polled = summary.feeds_ok + summary.feeds_unchanged + summary.feeds_failed
    if polled == 0 or summary.feeds_failed < polled:
        return None
    return f"no feed could be read: all {polled} polled feeds failed (see `newsmon status` for each error)"


@task(name="deliver-alerts", cache_policy=NO_CACHE)
def deliver_alerts_task(warehouse: Warehouse, config: Config) -> DeliveryReport:
    report = deliver_pending(warehouse, config)
    if report.messages:
        messages, sent = count_of(report.messages, "message"), count_of(report.sent, "notification")
        get_run_logger().info("alerts: %s, %s sent, %d failed", messages, sent, report.failed)
    return report


def notify(warehouse: Warehouse, config: Config, run_id: str, tally: Tally) -> None:
    if not config.alerts:
        return
    with warehouse.transaction() as con:
        queue_spikes(con, config.alerts, run_id, datetime.now(UTC))
    fault_point("before-delivery")
    report = deliver_alerts_task(warehouse, config)
    tally.notifications_sent, tally.notifications_failed = report.sent, report.failed


def finish_run(warehouse: Warehouse, summary: PassSummary, error: str | None) -> None:
    """Store the summary; then record in the run's row the snapshot that holds everything the pass wrote."""
    with warehouse.write_lock():
        with warehouse.transaction() as con:
            wh.finish_run(con, summary, datetime.now(UTC), error)
        snapshot = warehouse.last_snapshot
        if snapshot is not None:
            with warehouse.transaction() as con:
                wh.set_run_snapshot(con, summary.run_id, snapshot)


def summary_to_dict(summary: PassSummary) -> dict[str, Any]:
    return asdict(summary)


def summary_from_dict(data: dict[str, Any]) -> PassSummary:
    tuples = ("new_by_language", "new_by_platform", "new_by_topic", "failed_feeds", "refused_links")
    values: dict[str, Any] = {k: (tuple(tuple(x) for x in v) if k in tuples else v) for k, v in data.items()}
    return PassSummary(**values)
