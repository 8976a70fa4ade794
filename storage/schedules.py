"""`newsmon watch` state: each feed's adaptive schedule and the WebSub subscriptions (both survive restarts)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, fields
from datetime import datetime

from core.records import FeedHistory, Schedule, StoredSchedule, Subscription
from storage.connection import Connection, insert_rows

_SUBSCRIPTION_COLUMNS = tuple(f.name for f in fields(Subscription))
_SCHEDULE_COLUMNS = (
    "feed_url", "interval_seconds", "next_poll_at", "why", "polls", "yield_ratio", "unchanged_ratio", "updated_at",
)  # fmt: skip


def load_schedules(con: Connection) -> dict[str, StoredSchedule]:
    rows = con.execute(
        "SELECT feed_url, interval_seconds, next_poll_at, why, polls, yield_ratio, unchanged_ratio FROM feed_schedule"
    ).fetchall()
    return {
        url: StoredSchedule(url, FeedHistory(polls, yield_ratio, unchanged, interval), Schedule(next_at, interval, why))
        for url, interval, next_at, why, polls, yield_ratio, unchanged in rows
    }


def save_schedules(con: Connection, schedules: Sequence[StoredSchedule], now: datetime) -> None:
    """Upsert each feed's schedule (the last one given per feed wins)."""
    latest = {s.feed_url: s for s in schedules}
    rows = [
        (
            s.feed_url,
            s.schedule.interval_seconds,
            s.schedule.next_poll_at,
            s.schedule.why,
            s.history.polls,
            s.history.yield_ratio,
            s.history.unchanged_ratio,
            now,
        )
        for s in latest.values()
    ]
    if rows:  # a DuckLake has no ON CONFLICT: replace the rows (the caller holds the writers' lock)
        con.execute("DELETE FROM feed_schedule WHERE feed_url IN (SELECT unnest(?::VARCHAR[]))", [list(latest)])
        insert_rows(con, "feed_schedule", _SCHEDULE_COLUMNS, rows)


def entries_last_week(con: Connection, since: datetime) -> dict[str, int]:
    """Articles per feed published (or, without a date, fetched) since `since`: Miniflux's weekly count."""
    rows = con.execute(
        "SELECT feed_url, count(*) FROM articles WHERE coalesce(published_at, fetched_at) >= ? GROUP BY feed_url",
        [since],
    ).fetchall()
    return {url: int(count) for url, count in rows}


def load_subscriptions(con: Connection) -> list[Subscription]:
    rows = con.execute(f"SELECT {', '.join(_SUBSCRIPTION_COLUMNS)} FROM websub_subscriptions").fetchall()
    return [Subscription(*row) for row in rows]


def save_subscriptions(con: Connection, subscriptions: Sequence[Subscription]) -> None:
    if not subscriptions:
        return
    ids = [s.callback_id for s in subscriptions]
    con.execute("DELETE FROM websub_subscriptions WHERE callback_id IN (SELECT unnest(?::VARCHAR[]))", [ids])
    insert_rows(con, "websub_subscriptions", _SUBSCRIPTION_COLUMNS, [astuple(s) for s in subscriptions])


def schedule_rows(con: Connection) -> dict[str, tuple[datetime, str]]:
    """(next poll, why) per feed as `newsmon status` shows them; empty until `newsmon watch` has run."""
    rows = con.execute("SELECT feed_url, next_poll_at, why FROM feed_schedule").fetchall()
    return {url: (next_at, why) for url, next_at, why in rows}
