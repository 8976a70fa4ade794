"""Pass progress: one line over the whole pass, live on a terminal, periodic log lines elsewhere."""

from __future__ import annotations

import io

from flows.progress import PassProgress, ProgressSnapshot, describe, pass_progress


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_counts_rate_and_eta_span_the_whole_pass() -> None:
    clock = _Clock()
    lines: list[ProgressSnapshot] = []
    progress = PassProgress(lines.append, 5.0, clock)
    progress.feeds_due(2)
    progress.feed_polled()
    progress.feed_polled()
    progress.pages_planned(200)
    for _ in range(100):
        progress.page_fetched()
    clock.now = 10.0
    progress.pages_extracted(100)  # one batch of two: 200 of 600 steps after 10 s
    snap = progress.snapshot()
    assert (snap.pages_fetched, snap.pages_extracted, snap.pages_stored, snap.pages_total) == (100, 100, 0, 200)
    assert snap.rate == 10.0
    assert snap.eta_seconds is not None and abs(snap.eta_seconds - 20.0) < 1e-9
    line = describe(snap)
    assert line == "feeds 2/2 polled · pages 0/200 stored (100 fetched, 100 extracted) · 10.0 pages/s · ETA 0:20"
    assert len(lines) == 1, "rate-limited: one line per interval, not one per page"


def test_no_pages_is_done_once_the_feeds_are_polled() -> None:
    snap = ProgressSnapshot(3, 3, 0, 0, 0, 0, 0.0)
    assert snap.work_done == 1.0 and snap.eta_seconds is None
    assert describe(snap) == "feeds 3/3 polled"


def test_not_a_terminal_logs_plain_lines() -> None:
    logged: list[str] = []
    with pass_progress(io.StringIO(), logged.append, interval=3600) as progress:
        progress.feeds_due(1)
        progress.feed_polled()
    assert logged == ["progress: feeds 1/1 polled"], "only the final line within the interval"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_one_live_line() -> None:
    stream = _Terminal()
    logged: list[str] = []
    with pass_progress(stream, logged.append) as progress:
        progress.feeds_due(1)
        progress.feed_polled()
        progress.pages_planned(2)
        progress.page_fetched()
    shown = stream.getvalue()
    assert logged == []
    assert "pages 0/2 stored (1 fetched, 0 extracted)" in shown
    assert "\x1b[" in shown, "redrawn in place with terminal control codes"


def test_the_final_line_is_not_repeated() -> None:
    logged: list[str] = []
    with pass_progress(io.StringIO(), logged.append, interval=0) as progress:
        progress.feeds_due(1)
        progress.feed_polled()
    assert logged == ["progress: feeds 0/1 polled", "progress: feeds 1/1 polled"]
