"""Fetch entry pages and extract them: network waits in threads, CPU work elsewhere, overlapped.

Each entry is fetched (at most `max_connections` at once, per-host limits in the fetcher); as soon as
pages arrive they go, in chunks of the backend's size, to where extraction runs (local worker processes or
a Dask cluster, see flows.extraction), which extracts, cleans, language-tags and classifies them. Entries
whose page cannot be fetched or holds no article are built from their feed content.

Identical page bytes in one batch (the same article listed under several URLs: tracking variants, mirrors,
a feed listing it twice) are extracted once; each entry still gets its own article (own URL and title).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from core.errors import FetchError, describe
from core.records import Article, FeedEntry, LinkEvent, LinkOutcome
from flows.extraction import Done, Extraction, Job, Pending, Processed, ProcessSettings, process_job, process_jobs
from flows.http import HttpFetcher

_INLINE_BELOW = 8  # batches smaller than this are extracted in-process: a worker would cost more


@dataclass(frozen=True)
class EntryResult:
    entry: FeedEntry
    article: Article | None
    events: tuple[LinkEvent, ...]


def _failure_event(entry: FeedEntry, error: FetchError) -> LinkEvent:
    outcome: LinkOutcome = "refused" if error.kind == "refused" else "page_failed"
    return LinkEvent(entry.feed_url, entry.link, outcome, error.reason)


def _page_key(body: bytes | None, content_type: str | None) -> bytes | None:
    if not body:
        return None
    return hashlib.blake2b(body + b"\0" + (content_type or "").encode(), digest_size=16).digest()


@dataclass
class _Chunk:
    pending: Pending
    outcome: list[Processed] | str | None = None  # str: why the whole chunk failed

    def results(self) -> list[Processed] | str:
        if self.outcome is None:
            try:
                self.outcome = list(self.pending.result())
            except Exception as exc:  # a worker died or extraction raised: the caller keeps the entries
                self.outcome = f"extraction failed: {describe(exc)}"[:300]
        return self.outcome


@dataclass
class _Submitter:
    """Groups jobs into chunks for the backend and remembers where each entry's result will be."""

    extraction: Extraction
    settings: ProcessSettings
    inline: bool
    chunks: list[_Chunk] = field(default_factory=list)
    slots: dict[int, tuple[int, int]] = field(default_factory=dict)  # entry index -> (chunk, position)
    _open: list[tuple[int, Job]] = field(default_factory=list)

    def add(self, index: int, job: Job) -> None:
        self._open.append((index, job))
        if len(self._open) >= self.extraction.chunk_size:
            self.flush()

    def flush(self) -> None:
        if not self._open:
            return
        jobs = [job for _, job in self._open]
        if self.inline:
            pending: Pending = Done(process_jobs(jobs, self.settings))
        else:
            pending = self.extraction.submit(jobs, self.settings)
        for position, (index, _) in enumerate(self._open):
            self.slots[index] = (len(self.chunks), position)
        self.chunks.append(_Chunk(pending))
        self._open.clear()

    def result(self, index: int) -> Processed | str:
        chunk, position = self.slots[index]
        results = self.chunks[chunk].results()
        return results if isinstance(results, str) else results[position]


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
    submitter = _Submitter(extraction, settings, inline=len(entries) < _INLINE_BELOW)
    fetch_events: list[LinkEvent | None] = []
    first_with_page: dict[bytes, int] = {}  # page bytes' key -> index of the first entry that had them
    repeats: list[tuple[int, Job, int]] = []  # (index, job, index of the first entry with the same page)

    def fetch(entry: FeedEntry) -> tuple[bytes | None, str | None, LinkEvent | None]:
        if fetcher is None or not entry.link:  # no link (a press-wire item): built from its feed content
            return None, None, None
        try:
            response = fetcher.get(entry.link, max_page_bytes, {"Accept": "text/html,application/xhtml+xml"})
        except FetchError as error:
            return None, None, _failure_event(entry, error)
        return response.body, response.header("content-type"), None

    fetch_threads = max(1, min(len(entries), fetcher.policy.max_connections if fetcher else 1))
    with ThreadPoolExecutor(max_workers=fetch_threads, thread_name_prefix="newsmon-fetch") as io:
        fetches = [io.submit(fetch, entry) for entry in entries]
        for index, (entry, future) in enumerate(zip(entries, fetches, strict=True)):
            body, content_type, event = future.result()
            fetch_events.append(event)
            job = Job(entry, body, content_type, datetime.now(UTC))
            key = _page_key(body, content_type)
            if key is not None and key in first_with_page:
                repeats.append((index, job, first_with_page[key]))
            else:
                if key is not None:
                    first_with_page[key] = index
                submitter.add(index, job)
            if on_done:
                on_done(index + 1)
    submitter.flush()
    for index, job, first in repeats:
        submitter.add(index, _reuse_page(job, submitter.result(first)))
    submitter.flush()
    return [_entry_result(entry, fetch_events[i], submitter.result(i), settings) for i, entry in enumerate(entries)]


def _reuse_page(job: Job, first: Processed | str) -> Job:
    """The job for a repeated page: the first entry's extracted page (or its lack of one) instead of the
    bytes. If the first extraction crashed, the repeat tries its own bytes."""
    return job if isinstance(first, str) else replace(job, body=None, page=first.page)


def _entry_result(
    entry: FeedEntry, fetch_event: LinkEvent | None, processed: Processed | str, settings: ProcessSettings
) -> EntryResult:
    events: tuple[LinkEvent, ...] = (fetch_event,) if fetch_event else ()
    if isinstance(processed, str):  # keep the entry, from its feed text, and say why
        events = (*events, LinkEvent(entry.feed_url, entry.link, "page_failed", processed))
        processed = process_job(Job(entry, None, None, datetime.now(UTC)), settings)
    elif processed.error:
        events = (*events, LinkEvent(entry.feed_url, entry.link, "page_failed", processed.error))
    outcome = processed.outcome
    if isinstance(outcome, LinkEvent):
        return EntryResult(entry, None, (*events, outcome))
    return EntryResult(entry, outcome, events)


def unaccounted(
    entries: Sequence[FeedEntry], stored: Sequence[Article], events: Sequence[LinkEvent]
) -> list[LinkEvent]:
    """The end-of-pass invariant: every new entry ended as a stored article or a link event (by its
    canonical URL or identity, or its link). A `lost` event for each one that did not."""
    accounted = {a.canonical_url for a in stored} | {e.url for e in events}
    return [
        LinkEvent(entry.feed_url, entry.link or entry.canonical_url, "lost", "neither stored nor recorded (a bug)")
        for entry in entries
        if entry.canonical_url not in accounted and (not entry.link or entry.link not in accounted)
    ]
