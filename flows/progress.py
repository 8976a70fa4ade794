"""Progress over a whole pass: feeds polled, pages fetched, extracted and stored, with rate and ETA.

On a terminal it is one live line (rich), redrawn a few times a second, with Prefect's log lines printed
above it; elsewhere (cron, a worker, a pipe) it is a plain log line every `interval` seconds. The counters
are updated from the flow and from the thread that fetches the next batch, so every update takes a lock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TextIO

from prefect.logging.handlers import PrefectConsoleHandler
from rich.console import Console
from rich.live import Live
from rich.text import Text


@dataclass(frozen=True)
class ProgressSnapshot:
    """The counters at one moment, and how long the page work has been going."""

    feeds_due: int
    feeds_polled: int
    pages_total: int
    pages_fetched: int
    pages_extracted: int
    pages_stored: int
    page_seconds: float

    @property
    def work_done(self) -> float:
        """Share of the page work done: fetching, extracting and storing count one third each."""
        if self.pages_total == 0:
            return 1.0 if self.feeds_polled >= self.feeds_due else 0.0
        steps = self.pages_fetched + self.pages_extracted + self.pages_stored
        return min(1.0, steps / (3 * self.pages_total))

    @property
    def rate(self) -> float | None:
        """Pages finished (extracted) per second since the first page was asked for."""
        if self.page_seconds <= 0 or self.pages_extracted == 0:
            return None
        return self.pages_extracted / self.page_seconds

    @property
    def eta_seconds(self) -> float | None:
        done = self.work_done
        if self.page_seconds <= 0 or done <= 0 or done >= 1:
            return None
        return self.page_seconds * (1 - done) / done


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def describe(snap: ProgressSnapshot) -> str:
    """One line: `feeds 3/5 polled · pages 120/800: 120 fetched, 100 extracted, 0 stored · 9.5 pages/s · ETA 1:12`."""
    parts = [f"feeds {snap.feeds_polled}/{snap.feeds_due} polled"]
    if snap.pages_total:
        parts.append(
            f"pages {snap.pages_stored}/{snap.pages_total} stored "
            f"({snap.pages_fetched} fetched, {snap.pages_extracted} extracted)"
        )
    if snap.rate is not None:
        parts.append(f"{snap.rate:.1f} pages/s")
    if snap.eta_seconds is not None:
        parts.append(f"ETA {_clock(snap.eta_seconds)}")
    return " · ".join(parts)


class PassProgress:
    """Thread-safe counters of one pass; `emit` is called (rate-limited) with the new line."""

    def __init__(self, emit: Callable[[ProgressSnapshot], None], interval: float, clock: Callable[[], float]) -> None:
        self._emit = emit
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._counts = {"feeds_due": 0, "feeds_polled": 0, "total": 0, "fetched": 0, "extracted": 0, "stored": 0}
        self._pages_started: float | None = None
        self._last_emit = clock()
        self._last_counts: tuple[int, ...] | None = None

    def feeds_due(self, count: int) -> None:
        self._add("feeds_due", count)

    def feed_polled(self) -> None:
        self._add("feeds_polled", 1)

    def pages_planned(self, count: int) -> None:
        with self._lock:
            self._pages_started = self._clock()
        self._add("total", count)

    def page_fetched(self) -> None:
        self._add("fetched", 1)

    def pages_extracted(self, count: int) -> None:
        self._add("extracted", count)

    def pages_stored(self, count: int) -> None:
        self._add("stored", count)

    def snapshot(self) -> ProgressSnapshot:
        with self._lock:
            c = self._counts
            started = self._pages_started
            seconds = self._clock() - started if started is not None else 0.0
            return ProgressSnapshot(
                c["feeds_due"], c["feeds_polled"], c["total"], c["fetched"], c["extracted"], c["stored"], seconds
            )

    def flush(self) -> None:
        """Emit the current line now (at the end of the pass), unless it was the last one emitted."""
        snap = self.snapshot()
        if self._last_counts != self._counts_of(snap):
            self._send(snap)

    @staticmethod
    def _counts_of(snap: ProgressSnapshot) -> tuple[int, ...]:
        return (snap.feeds_due, snap.feeds_polled, snap.pages_total, snap.pages_fetched, snap.pages_extracted,
                snap.pages_stored)  # fmt: skip

    def _send(self, snap: ProgressSnapshot) -> None:
        self._last_counts = self._counts_of(snap)
        self._last_emit = self._clock()
        self._emit(snap)

    def _add(self, key: str, count: int) -> None:
        with self._lock:
            self._counts[key] += count
            due = self._clock() - self._last_emit >= self._interval
            if due:
                self._last_emit = self._clock()
        if due:
            self._send(self.snapshot())


def _prefect_console_handlers() -> list[PrefectConsoleHandler]:
    named = [v for v in list(logging.root.manager.loggerDict.values()) if isinstance(v, logging.Logger)]
    loggers = [logging.getLogger(), *named]
    found: list[PrefectConsoleHandler] = []
    for logger in loggers:
        found += [h for h in getattr(logger, "handlers", []) if isinstance(h, PrefectConsoleHandler)]
    return list(dict.fromkeys(found))


@contextmanager
def _live_line(stream: TextIO) -> Iterator[PassProgress]:
    """A rich live line on `stream`; Prefect's console log lines are printed above it while it is shown."""
    console = Console(file=stream, force_terminal=True)
    live = Live(Text(""), console=console, refresh_per_second=4, transient=False)
    progress = PassProgress(lambda snap: live.update(Text(describe(snap))), 0.0, time.monotonic)
    handlers = _prefect_console_handlers()
    saved = [(h, h.console) for h in handlers]
    with live:
        for handler, _ in saved:
            handler.console = console
        try:
            yield progress
            progress.flush()
        finally:
            for handler, original in saved:
                handler.console = original


def quiet_progress() -> PassProgress:
    """Counters that show nothing (`newsmon watch`: its cycles report through logs and /metrics)."""
    return PassProgress(lambda _: None, float("inf"), time.monotonic)


@contextmanager
def pass_progress(stream: TextIO, log: Callable[[str], None], interval: float = 10.0) -> Iterator[PassProgress]:
    """Live line when `stream` is a terminal, else `log(line)` at most every `interval` seconds and at the end."""
    if stream.isatty():
        with _live_line(stream) as progress:
            yield progress
        return
    progress = PassProgress(lambda snap: log(f"progress: {describe(snap)}"), interval, time.monotonic)
    yield progress
    progress.flush()
