"""Feeds (validators, health, when to poll next) and runs (one row per pass)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from core.records import FeedPoll, FeedState, PassSummary
from storage.connection import Connection
from storage.tables import RUN_SUMMARY_COLUMNS


def feed_states(con: Connection) -> dict[str, FeedState]:
    rows = con.execute(
        "SELECT feed_url, etag, last_modified, body_hash, next_poll_at, consecutive_failures FROM feeds"
    ).fetchall()
    return {row[0]: FeedState(*row) for row in rows}


def start_run(
    con: Connection,
    run_id: str,
    flow_run_id: str | None,
    now: datetime,
    alive: Callable[[Iterable[str]], set[str]],
) -> int:
    """Record a new run; runs left 'running' by a killed pass (nobody holds their pass lock: `alive`) are
    marked 'aborted', runs of passes still running here or elsewhere are left alone. Returns how many."""
    running = [str(row[0]) for row in con.execute("SELECT run_id FROM runs WHERE status = 'running'").fetchall()]
    aborted = sorted(set(running) - alive(running))
    if aborted:
        con.execute(
            "UPDATE runs SET status = 'aborted', finished_at = ?, error = 'pass ended before finishing' "
            "WHERE run_id IN (SELECT unnest(?))",
            [now, aborted],
        )
    con.execute(
        "INSERT INTO runs (run_id, flow_run_id, started_at, status) VALUES (?, ?, ?, 'running')",
        [run_id, flow_run_id, now],
    )
    return len(aborted)


def set_run_snapshot(con: Connection, run_id: str, snapshot: int) -> None:
    """The DuckLake snapshot that holds everything the pass wrote (query the lake AT (VERSION => …) it)."""
    con.execute("UPDATE runs SET snapshot_id = ? WHERE run_id = ?", [snapshot, run_id])


def finish_run(con: Connection, summary: PassSummary, now: datetime, error: str | None) -> None:
    """Store the pass's counters and outcome in its `runs` row (the columns follow PassSummary)."""
    assignments = ", ".join(f"{column} = ?" for column in RUN_SUMMARY_COLUMNS)
    con.execute(
        f"UPDATE runs SET finished_at = ?, {assignments}, error = ? WHERE run_id = ?",
        [now, *(getattr(summary, column) for column in RUN_SUMMARY_COLUMNS), error, summary.run_id],
    )


def record_feed_poll(
    con: Connection,
    poll: FeedPoll,
    now: datetime,
    next_poll_at: datetime | None,
    failures: int,
    title: str | None,
) -> None:
    """Upsert the feed's row: validators and hash only move on success; failures accumulate until one."""
    ok = poll.outcome in ("ok", "unchanged")
    con.execute(
        """MERGE INTO feeds USING (
               SELECT ?::VARCHAR AS feed_url, ?::VARCHAR AS name, ?::VARCHAR AS title, ?::VARCHAR AS etag,
                      ?::VARCHAR AS last_modified, ?::VARCHAR AS body_hash, ?::INTEGER AS last_status,
                      ?::VARCHAR AS last_outcome, ?::VARCHAR AS last_error, ?::VARCHAR AS last_error_kind,
                      ?::TIMESTAMPTZ AS last_polled_at, ?::TIMESTAMPTZ AS last_success_at,
                      ?::TIMESTAMPTZ AS failing_since, ?::INTEGER AS consecutive_failures,
                      ?::TIMESTAMPTZ AS next_poll_at, ?::INTEGER AS entries_last_seen, ?::BOOLEAN AS ok
           ) AS excluded ON feeds.feed_url = excluded.feed_url
           WHEN MATCHED THEN UPDATE SET
               name = excluded.name,
               title = coalesce(excluded.title, feeds.title),
               etag = CASE WHEN excluded.ok THEN excluded.etag ELSE feeds.etag END,
               last_modified = CASE WHEN excluded.ok THEN excluded.last_modified ELSE feeds.last_modified END,
               body_hash = CASE WHEN excluded.ok THEN coalesce(excluded.body_hash, feeds.body_hash)
                                ELSE feeds.body_hash END,
               last_status = excluded.last_status,
               last_outcome = excluded.last_outcome,
               last_error = excluded.last_error,
               last_error_kind = excluded.last_error_kind,
               last_polled_at = excluded.last_polled_at,
               last_success_at = coalesce(excluded.last_success_at, feeds.last_success_at),
               failing_since = CASE WHEN excluded.ok THEN NULL
                                    ELSE coalesce(feeds.failing_since, excluded.failing_since) END,
               consecutive_failures = excluded.consecutive_failures,
               next_poll_at = excluded.next_poll_at,
               entries_last_seen = coalesce(excluded.entries_last_seen, feeds.entries_last_seen)
           WHEN NOT MATCHED THEN INSERT (feed_url, name, title, etag, last_modified, body_hash, last_status,
                                         last_outcome, last_error, last_error_kind, last_polled_at,
                                         last_success_at, failing_since, consecutive_failures, next_poll_at,
                                         entries_last_seen, articles_total)
               VALUES (excluded.feed_url, excluded.name, excluded.title, excluded.etag, excluded.last_modified,
                       excluded.body_hash, excluded.last_status, excluded.last_outcome, excluded.last_error,
                       excluded.last_error_kind, excluded.last_polled_at, excluded.last_success_at,
                       excluded.failing_since, excluded.consecutive_failures, excluded.next_poll_at,
                       excluded.entries_last_seen, 0)""",
        [
            poll.feed_url,
            poll.name,
            title,
            poll.etag,
            poll.last_modified,
            poll.body_hash,
            poll.status,
            poll.outcome,
            poll.error,
            poll.error_kind,
            now,
            now if ok else None,
            None if ok else now,
            failures,
            next_poll_at,
            len(poll.entries) if poll.outcome == "ok" else None,
            ok,
        ],
    )


def mark_feed_skipped(con: Connection, feed_url: str, name: str) -> None:
    con.execute(
        """MERGE INTO feeds USING (SELECT ?::VARCHAR AS feed_url, ?::VARCHAR AS name) AS given
           ON feeds.feed_url = given.feed_url
           WHEN MATCHED AND feeds.name IS DISTINCT FROM given.name THEN UPDATE SET name = given.name
           WHEN NOT MATCHED THEN INSERT (feed_url, name, consecutive_failures, articles_total)
               VALUES (given.feed_url, given.name, 0, 0)""",
        [feed_url, name],
    )
