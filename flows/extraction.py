"""Where the CPU-bound part of a batch runs: local worker processes, or a Dask cluster through prefect-dask.

Both take chunks of fetched pages (`Job`s) and return, per job and in order, the extracted page and the
`Article` (or the `LinkEvent` saying why there is none). The
local backend is a fork-server process pool on this machine; the Dask backend submits an `extract-pages`
Prefect task run per chunk through `prefect_dask.DaskTaskRunner`, so each chunk is visible in the Prefect UI
and runs on whichever Dask worker is free. If the Dask scheduler cannot be reached the pass says so and
extracts locally instead: a scale-out problem never stops the monitoring.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from prefect import task
from prefect.cache_policies import NO_CACHE

from core.errors import describe
from core.records import Article, ExtractedPage, FeedEntry, LinkEvent
from extractors.article import TextLimits, build_article
from extractors.classify import classifier_for
from extractors.pages import extract_page

Outcome = Article | LinkEvent


@dataclass(frozen=True)
class ProcessSettings:
    """What a worker needs besides the entry: text limits and the taxonomy documents to classify with."""

    limits: TextLimits
    taxonomy: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Job:
    """One fetched entry to turn into an article. `page` is set instead of `body` when the same page bytes
    were already extracted in this batch (the page is extracted once, the article built per entry)."""

    entry: FeedEntry
    body: bytes | None
    content_type: str | None
    fetched_at: datetime
    page: ExtractedPage | None = None


@dataclass(frozen=True)
class Processed:
    page: ExtractedPage | None
    outcome: Outcome
    error: str | None = None  # why the page could not be used (the outcome then comes from the feed text)


def _outcome(job: Job, page: ExtractedPage | None, settings: ProcessSettings) -> tuple[Outcome, str | None]:
    """The article from the page (falling back to the feed text if the page's text breaks a step), or an
    `entry_failed` event when even the feed text cannot be processed. Never raises."""
    try:
        classifier = classifier_for(settings.taxonomy)
        return build_article(job.entry, page, job.fetched_at, settings.limits, classifier), None
    except Exception as exc:  # one hostile entry must not fail its batch
        if page is not None:
            return _outcome(job, None, settings)[0], f"page could not be processed: {describe(exc)}"
        reason = f"entry could not be processed: {describe(exc)}"
        return LinkEvent(job.entry.feed_url, job.entry.link, "entry_failed", reason), None


def process_job(job: Job, settings: ProcessSettings) -> Processed:
    """Extract (when there is a page), clean, detect language, classify: the CPU-bound part, in a worker.
    Never raises: a failure is the job's `error` or an `entry_failed` outcome."""
    page, error = job.page, None
    if page is None and job.body:
        try:
            page = extract_page(job.body, job.entry.link, job.content_type)
        except Exception as exc:  # the entry is kept from its feed text
            error = f"extraction failed: {describe(exc)}"
    outcome, article_error = _outcome(job, page, settings)
    return Processed(page, outcome, error or article_error)


def process_jobs(jobs: Sequence[Job], settings: ProcessSettings) -> list[Processed]:
    return [process_job(job, settings) for job in jobs]


@task(name="extract-pages", cache_policy=NO_CACHE)
def extract_pages_task(jobs: Sequence[Job], settings: ProcessSettings) -> list[Processed]:
    """One chunk of fetched pages, on a Dask worker."""
    return process_jobs(jobs, settings)


class Pending(Protocol):
    def result(self) -> list[Processed]: ...


class Extraction(Protocol):
    """A place to run chunks of jobs. `chunk_size` is how many jobs one submission should carry."""

    @property
    def chunk_size(self) -> int: ...

    def submit(self, jobs: Sequence[Job], settings: ProcessSettings) -> Pending: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Done:
    """A chunk processed in this process (batches too small to be worth a worker)."""

    outcomes: list[Processed]

    def result(self) -> list[Processed]:
        return self.outcomes


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


_PRELOAD = ["extractors.article", "extractors.pages", "flows.extraction"]


def make_pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes started by a fork server that has the extractors imported once."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return ProcessPoolExecutor(
        max_workers=workers or os.cpu_count() or 1, mp_context=context, initializer=_watch_pass, initargs=(os.getpid(),)
    )


class LocalProcesses:
    """The extraction process pool, started on first need and restarted if a worker died."""

    chunk_size = 1  # pages arrive one by one: hand each to a free worker at once

    def __init__(self, workers: int) -> None:
        self._workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, jobs: Sequence[Job], settings: ProcessSettings) -> Pending:
        if self._pool is None or getattr(self._pool, "_broken", False):
            self._pool = make_pool(self._workers)
        return self._pool.submit(process_jobs, list(jobs), settings)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)


class DaskCluster:
    """Chunks as `extract-pages` task runs on the Dask cluster at `address` (prefect-dask's task runner).

    Connects on first use. If the scheduler does not answer, it warns once and extracts in local processes
    for the rest of the pass. Dask workers must have newsmon installed and reach the Prefect API the pass
    uses (PREFECT_API_URL), since they report their task runs there.
    """

    def __init__(
        self, address: str, workers: int, warn: Callable[[str], None], connect_timeout_seconds: float = 10.0
    ) -> None:
        self.address = address
        self._timeout = connect_timeout_seconds
        self._warn = warn
        self._stack = ExitStack()
        self._runner: Any = None
        self._local: LocalProcesses | None = None
        self._workers = workers

    @property
    def chunk_size(self) -> int:
        # One Prefect task run per 8 pages keeps its bookkeeping (~5 ms) small next to the extraction.
        return self._local.chunk_size if self._local else 8

    def _connect(self) -> None:
        from prefect_dask.task_runners import DaskTaskRunner

        runner = DaskTaskRunner(address=self.address, client_kwargs={"timeout": f"{self._timeout}s"})
        self._stack.enter_context(runner)
        try:
            runner.client  # noqa: B018 — the client connects when first asked for
        except (OSError, TimeoutError) as exc:
            self._stack.close()
            self._local = LocalProcesses(self._workers)
            self._warn(
                f"Dask scheduler {self.address} did not answer ({exc}); "
                "extracting pages in local processes for this pass instead"
            )
            return
        self._runner = runner

    def submit(self, jobs: Sequence[Job], settings: ProcessSettings) -> Pending:
        if self._runner is None and self._local is None:
            self._connect()
        if self._local is not None:
            return self._local.submit(jobs, settings)
        future = self._runner.submit(extract_pages_task, parameters={"jobs": list(jobs), "settings": settings})
        return _DaskPending(future)

    def close(self) -> None:
        self._runner = None
        self._stack.close()
        if self._local is not None:
            self._local.close()


@dataclass(frozen=True)
class _DaskPending:
    future: Any  # prefect_dask.PrefectDaskFuture

    def result(self) -> list[Processed]:
        return list(self.future.result())


def extraction_for(workers: int, dask_address: str | None, warn: Callable[[str], None]) -> Extraction:
    """Local worker processes, or the Dask cluster at `dask_address` (pipeline.dask_address)."""
    return DaskCluster(dask_address, workers, warn) if dask_address else LocalProcesses(workers)
