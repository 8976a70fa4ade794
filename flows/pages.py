"""Fetch entry pages and extract them: network waits in threads, CPU work in a process pool, overlapped.

Each entry is fetched (at most `max_connections` at once, per-host limits in the fetcher); as soon as a
page arrives its bytes go to a worker process that extracts, cleans and language-tags it. Entries whose page
cannot be fetched or holds no article are built from their feed content.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from extractors.article import TextLimits, build_article
from extractors.classify import classifier_for
from extractors.pages import extract_page
from flows.http import FetchError, HttpFetcher
from newsmon.records import Article, FeedEntry, LinkEvent, LinkOutcome

_INLINE_BELOW = 8  # batches smaller than this are extracted in-process: a worker pool would cost more


@dataclass(frozen=True)
class EntryResult:
    entry: FeedEntry
    article: Article | None
    events: tuple[LinkEvent, ...]


@dataclass(frozen=True)
class ProcessSettings:
    """What a worker needs besides the entry: text limits and the taxonomy documents to classify with."""

    limits: TextLimits
    taxonomy: tuple[tuple[str, str], ...]


def process_entry(
    entry: FeedEntry, body: bytes | None, content_type: str | None, fetched_at: datetime, settings: ProcessSettings
) -> Article | LinkEvent:
    """Extract (when there is a page), clean, detect language, classify: the CPU-bound part, in a worker."""
    page = extract_page(body, entry.link, content_type) if body else None
    return build_article(entry, page, fetched_at, settings.limits, classifier_for(settings.taxonomy))


_WATCH_SECONDS = 1.0


def _exit_when_gone(pass_pid: int) -> None:
    while True:
        time.sleep(_WATCH_SECONDS)
        try:
            os.kill(pass_pid, 0)
        except ProcessLookupError:
            os._exit(0)


def _watch_pass(pass_pid: int) -> None:
    """Worker initializer: a worker blocks on its task queue forever if the pass is SIGKILLed (the queue's
    write end lives in the worker too), so each worker exits by itself once the pass process is gone."""
    threading.Thread(target=_exit_when_gone, args=(pass_pid,), name="newsmon-watch-pass", daemon=True).start()


def make_pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes started by a fork server that has the extractors imported once."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["extractors.article", "extractors.pages", "flows.pages"])
    return ProcessPoolExecutor(
        max_workers=workers or os.cpu_count() or 1, mp_context=context, initializer=_watch_pass, initargs=(os.getpid(),)
    )


def _failure_event(entry: FeedEntry, error: FetchError) -> LinkEvent:
    outcome: LinkOutcome = "refused" if error.kind == "refused" else "page_failed"
    return LinkEvent(entry.feed_url, entry.link, outcome, error.reason)


def fetch_and_extract(
    entries: Sequence[FeedEntry],
    fetcher: HttpFetcher | None,
    pool_factory: Callable[[], Executor],
    settings: ProcessSettings,
    max_page_bytes: int,
    on_done: Callable[[int], None] | None = None,
) -> list[EntryResult]:
    """Results in the order of `entries`; never raises for a single bad page. Without a fetcher, entries are
    built from their feed text."""
    inline = len(entries) < _INLINE_BELOW
    cpu: Executor | None = None if inline else pool_factory()
    fetch_threads = max(1, min(len(entries), fetcher.policy.max_connections if fetcher else 1))
    pending: list[tuple[FeedEntry, Future[Article | LinkEvent] | Article | LinkEvent, LinkEvent | None]] = []

    def fetch(entry: FeedEntry) -> tuple[bytes | None, str | None, LinkEvent | None]:
        if fetcher is None:
            return None, None, None
        try:
            response = fetcher.get(entry.link, max_page_bytes, {"Accept": "text/html,application/xhtml+xml"})
        except FetchError as error:
            return None, None, _failure_event(entry, error)
        return response.body, response.header("content-type"), None

    with ThreadPoolExecutor(max_workers=fetch_threads, thread_name_prefix="newsmon-fetch") as io:
        fetches = [(entry, io.submit(fetch, entry)) for entry in entries]
        for done, (entry, future) in enumerate(fetches, start=1):
            body, content_type, event = future.result()
            fetched_at = datetime.now(UTC)
            if cpu is None:
                pending.append((entry, process_entry(entry, body, content_type, fetched_at, settings), event))
            else:
                job = cpu.submit(process_entry, entry, body, content_type, fetched_at, settings)
                pending.append((entry, job, event))
            if on_done:
                on_done(done)
    return [_collect(entry, outcome, event, settings) for entry, outcome, event in pending]


def _collect(
    entry: FeedEntry,
    outcome: Future[Article | LinkEvent] | Article | LinkEvent,
    fetch_event: LinkEvent | None,
    settings: ProcessSettings,
) -> EntryResult:
    events: tuple[LinkEvent, ...] = (fetch_event,) if fetch_event else ()
    try:
        result = outcome.result() if isinstance(outcome, Future) else outcome
    except Exception as exc:  # a worker died or extraction raised: keep the entry, from its feed text
        crash = LinkEvent(
            entry.feed_url, entry.link, "page_failed", f"extraction failed: {type(exc).__name__}: {exc}"[:300]
        )
        events = (*events, crash)
        result = build_article(entry, None, datetime.now(UTC), settings.limits, classifier_for(settings.taxonomy))
    if isinstance(result, LinkEvent):
        return EntryResult(entry, None, (*events, result))
    return EntryResult(entry, result, events)
