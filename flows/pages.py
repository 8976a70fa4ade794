"""Fetch entry pages and extract them: network waits in threads, CPU work elsewhere, overlapped.

Each entry is fetched (at most `max_connections` at once, per-host limits in the fetcher); as soon as
pages arrive they go, in chunks of the backend's size, to where extraction runs (local worker processes or
a Dask cluster, see flows.extraction), which extracts, cleans, language-tags and classifies them. Entries
whose page cannot be fetched or holds no article are built from their feed content.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from extractors.article import build_article
from extractors.classify import classifier_for
from flows.extraction import Done, Extraction, Job, Pending, ProcessSettings, process_jobs
from flows.http import FetchError, HttpFetcher
from newsmon.records import Article, FeedEntry, LinkEvent, LinkOutcome

_INLINE_BELOW = 8  # batches smaller than this are extracted in-process: a worker would cost more


@dataclass(frozen=True)
class EntryResult:
    entry: FeedEntry
    article: Article | None
    events: tuple[LinkEvent, ...]


def _failure_event(entry: FeedEntry, error: FetchError) -> LinkEvent:
    outcome: LinkOutcome = "refused" if error.kind == "refused" else "page_failed"
    return LinkEvent(entry.feed_url, entry.link, outcome, error.reason)


@dataclass(frozen=True)
class _Chunk:
    jobs: list[Job]
    fetch_events: list[LinkEvent | None]
    pending: Pending


def fetch_and_extract(
    entries: Sequence[FeedEntry],
    fetcher: HttpFetcher | None,
    extraction: Extraction,
    settings: ProcessSettings,
    max_page_bytes: int,
    on_done: Callable[[int], None] | None = None,
) -> list[EntryResult]:
    """Results in the order of `entries`; never raises for a single bad page. Without a fetcher, entries are
    built from their feed text."""
    inline = len(entries) < _INLINE_BELOW
    fetch_threads = max(1, min(len(entries), fetcher.policy.max_connections if fetcher else 1))
    chunks: list[_Chunk] = []
    jobs: list[Job] = []
    fetch_events: list[LinkEvent | None] = []

    def fetch(entry: FeedEntry) -> tuple[bytes | None, str | None, LinkEvent | None]:
        if fetcher is None:
            return None, None, None
        try:
            response = fetcher.get(entry.link, max_page_bytes, {"Accept": "text/html,application/xhtml+xml"})
        except FetchError as error:
            return None, None, _failure_event(entry, error)
        return response.body, response.header("content-type"), None

    def submit() -> None:
        pending = Done(process_jobs(jobs, settings)) if inline else extraction.submit(jobs, settings)
        chunks.append(_Chunk(list(jobs), list(fetch_events), pending))
        jobs.clear()
        fetch_events.clear()

    with ThreadPoolExecutor(max_workers=fetch_threads, thread_name_prefix="newsmon-fetch") as io:
        fetches = [(entry, io.submit(fetch, entry)) for entry in entries]
        for done, (entry, future) in enumerate(fetches, start=1):
            body, content_type, event = future.result()
            jobs.append((entry, body, content_type, datetime.now(UTC)))
            fetch_events.append(event)
            if len(jobs) >= extraction.chunk_size:
                submit()
            if on_done:
                on_done(done)
        if jobs:
            submit()
    return [result for chunk in chunks for result in _collect(chunk, settings)]


def _collect(chunk: _Chunk, settings: ProcessSettings) -> list[EntryResult]:
    try:
        outcomes: list[Article | LinkEvent | None] = list(chunk.pending.result())
        crash: str | None = None
    except Exception as exc:  # a worker died or extraction raised: keep the entries, from their feed text
        outcomes = [None] * len(chunk.jobs)
        crash = f"extraction failed: {type(exc).__name__}: {exc}"[:300]
    results = []
    for (entry, *_), fetch_event, outcome in zip(chunk.jobs, chunk.fetch_events, outcomes, strict=True):
        events: tuple[LinkEvent, ...] = (fetch_event,) if fetch_event else ()
        if outcome is None:
            events = (*events, LinkEvent(entry.feed_url, entry.link, "page_failed", crash or "no result"))
            outcome = build_article(entry, None, datetime.now(UTC), settings.limits, classifier_for(settings.taxonomy))
        if isinstance(outcome, LinkEvent):
            results.append(EntryResult(entry, None, (*events, outcome)))
        else:
            results.append(EntryResult(entry, outcome, events))
    return results
