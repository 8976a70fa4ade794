"""The watcher's feed book against a real DuckDB warehouse: schedules and validators survive a restart,
failures back off, a failed cycle defers its feeds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.records import FeedPoll
from core.settings import FeedConfig, ScheduleSettings
from flows.watch_book import WEEK, FeedBook
from storage import warehouse as wh
from storage.warehouse import Warehouse

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
FEED = FeedConfig("http://127.0.0.1:9/feed.xml", "test feed")
SETTINGS = ScheduleSettings(jitter=0.0, min_interval_seconds=60, backoff_step_seconds=600)


def _book(warehouse: Warehouse) -> FeedBook:
    with warehouse.session() as con:
        return FeedBook(
            [FEED], wh.feed_states(con), wh.load_schedules(con), wh.entries_last_week(con, NOW - WEEK), SETTINGS
        )


def test_schedules_and_validators_survive_a_restart(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "wh.duckdb")
    book = _book(warehouse)
    assert [f.url for f in book.due(NOW)] == [FEED.url]  # never polled: due at once
    ok = FeedPoll(FEED.url, FEED.name, "ok", 200, '"v1"', None, "hash1", ttl_seconds=1800)
    failures, planned = book.plan(ok, 0, False, NOW)
    with warehouse.transaction() as con:
        book.record(con, [(ok, "Title", failures, planned, NOW)])
    assert failures == 0 and planned.schedule.interval_seconds >= 1800 and "ttl asks 30m" in planned.schedule.why
    again = _book(warehouse)
    assert again.next_poll_at(FEED.url) == planned.schedule.next_poll_at
    assert again.states[FEED.url].etag == '"v1"' and again.states[FEED.url].body_hash == "hash1"
    assert again.due(NOW + timedelta(seconds=1799)) == [] and again.due(planned.schedule.next_poll_at) == [FEED]
    with warehouse.reader() as con:
        assert wh.schedule_rows(con)[FEED.url][1] == planned.schedule.why


def test_failures_back_off_keep_validators_and_a_failed_cycle_defers(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "wh.duckdb")
    book = _book(warehouse)
    ok = FeedPoll(FEED.url, FEED.name, "ok", 200, '"v1"', None, "hash1")
    with warehouse.transaction() as con:
        book.record(con, [(ok, None, *book.plan(ok, 0, False, NOW), NOW)])
    for number in (1, 2, 3):
        failed = FeedPoll(FEED.url, FEED.name, "failed", 503, None, None, None, "HTTP 503", "transient")
        failures, planned = book.plan(failed, 0, False, NOW)
        with warehouse.transaction() as con:
            book.record(con, [(failed, None, failures, planned, NOW)])
        assert failures == number and "failing" in planned.schedule.why
    assert planned.schedule.interval_seconds == 2 * 600  # step x (failures - 1)
    reloaded = _book(warehouse)
    assert reloaded.states[FEED.url].etag == '"v1"' and reloaded.states[FEED.url].consecutive_failures == 3
    assert reloaded.failing() == 1
    reloaded.defer([FEED.url], NOW + timedelta(hours=5))
    assert reloaded.due(NOW + timedelta(hours=4)) == []


def test_several_polls_of_one_feed_in_one_write_keep_the_last(tmp_path: Path) -> None:
    warehouse = Warehouse(tmp_path / "wh.duckdb")
    book = _book(warehouse)
    first = FeedPoll(FEED.url, FEED.name, "ok", 200, '"v1"', None, "hash1")
    second = FeedPoll(FEED.url, FEED.name, "unchanged", 304, '"v1"', None, None)
    later = NOW + timedelta(minutes=10)
    planned = [
        (first, None, *book.plan(first, 0, False, NOW), NOW),
        (second, None, *book.plan(second, 0, False, later), later),
    ]
    with warehouse.transaction() as con:
        book.record(con, planned)
    assert _book(warehouse).next_poll_at(FEED.url) == planned[1][3].schedule.next_poll_at
