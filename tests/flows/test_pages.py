"""Fetch + extract over a real loopback server and the real local worker pool."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pytest
from pytest_httpserver import HTTPServer

from core.records import Article, FeedEntry
from core.settings import HttpPolicy
from extractors.article import TextLimits
from extractors.urls import canonical_url
from flows.extraction import Job, LocalProcesses, Pending, Processed, ProcessSettings, process_job
from flows.http import HttpFetcher
from flows.pages import fetch_and_extract
from newsmon.resources import bundled_taxonomy_file, sample_site_dir

ARTICLES = sample_site_dir() / "articles"
PAGES = sorted(ARTICLES.glob("*.html"))[:8]
SETTINGS = ProcessSettings(
    TextLimits(20, 100_000), ((str(bundled_taxonomy_file()), bundled_taxonomy_file().read_text()),)
)


@dataclass
class Recording:
    """The real local backend, with a record of what was submitted to it."""

    backend: LocalProcesses = field(default_factory=lambda: LocalProcesses(2))
    submitted: list[Job] = field(default_factory=list)

    @property
    def chunk_size(self) -> int:
        return self.backend.chunk_size

    def submit(self, jobs: Sequence[Job], settings: ProcessSettings) -> Pending:
        self.submitted.extend(jobs)
        return self.backend.submit(jobs, settings)

    def close(self) -> None:
        self.backend.close()


@pytest.fixture
def extraction() -> Iterator[Recording]:
    recording = Recording()
    yield recording
    recording.close()


def entry(url: str, title: str) -> FeedEntry:
    return FeedEntry("http://feeds/x.xml", url, canonical_url(url), title, "", "", None, None, "x")


def comparable(article: Article) -> Article:
    return replace(article, fetched_at=datetime(2000, 1, 1, tzinfo=UTC))


def test_identical_pages_are_extracted_once_and_built_per_entry(httpserver: HTTPServer, extraction: Recording) -> None:
    for path in PAGES:
        body = path.read_bytes()
        for route in (f"/{path.stem}", f"/mirror/{path.stem}"):  # the same bytes under two URLs
            httpserver.expect_request(route).respond_with_data(body, content_type="text/html; charset=utf-8")
    entries = [entry(httpserver.url_for(f"/{p.stem}"), f"original {p.stem}") for p in PAGES]
    entries += [entry(httpserver.url_for(f"/mirror/{p.stem}"), f"mirrored {p.stem}") for p in PAGES]
    with HttpFetcher(HttpPolicy(allow_hosts=("127.0.0.1",), retries=0)) as fetcher:
        results = fetch_and_extract(entries, fetcher, extraction, SETTINGS, 1_000_000)
    assert [r.entry for r in results] == entries
    extracted = [job for job in extraction.submitted if job.body is not None]
    reused = [job for job in extraction.submitted if job.body is None]
    assert [job.entry for job in extracted] == entries[: len(PAGES)]
    assert [job.entry for job in reused] == entries[len(PAGES) :] and all(job.page for job in reused)
    for result, path in zip(results[len(PAGES) :], PAGES, strict=True):
        own = process_job(Job(result.entry, path.read_bytes(), "text/html; charset=utf-8", datetime.now(UTC)), SETTINGS)
        assert isinstance(own, Processed) and isinstance(own.outcome, Article) and result.article is not None
        assert comparable(result.article) == comparable(own.outcome), path.name
        assert result.article.title.startswith("mirrored") and "/mirror/" in result.article.url


def test_a_crashed_chunk_keeps_its_entries_from_feed_text(httpserver: HTTPServer) -> None:
    class Crashing(Recording):
        def submit(self, jobs: Sequence[Job], settings: ProcessSettings) -> Pending:
            self.submitted.extend(jobs)
            return self.backend.submit([replace(job, entry=None) for job in jobs], settings)  # type: ignore[arg-type]

    body = PAGES[0].read_bytes()
    for number in range(10):
        httpserver.expect_request(f"/p{number}").respond_with_data(body + f"<!-- {number} -->".encode())
    entries = [replace(entry(httpserver.url_for(f"/p{n}"), f"title {n}"), summary="feed text " * 5) for n in range(10)]
    crashing = Crashing()
    try:
        with HttpFetcher(HttpPolicy(allow_hosts=("127.0.0.1",), retries=0)) as fetcher:
            results = fetch_and_extract(entries, fetcher, crashing, SETTINGS, 1_000_000)
    finally:
        crashing.close()
    assert all(r.article is not None and r.article.text_source == "feed" for r in results)
    assert all(r.events and r.events[-1].reason.startswith("extraction failed: AttributeError") for r in results)
