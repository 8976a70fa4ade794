"""Feeds (validators, health, when to poll next) and runs (one row per pass)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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


_POLL_COLUMNS = (
    ("feed_url", "VARCHAR"),
    ("name", "VARCHAR"),
    ("title", "VARCHAR"),
    ("etag", "VARCHAR"),
    ("last_modified", "VARCHAR"),
    ("body_hash", "VARCHAR"),
    ("last_status", "INTEGER"),
    ("last_outcome", "VARCHAR"),
    ("last_error", "VARCHAR"),
    ("last_error_kind", "VARCHAR"),
    ("last_polled_at", "TIMESTAMPTZ"),
    ("last_success_at", "TIMESTAMPTZ"),
    ("failing_since", "TIMESTAMPTZ"),
    ("consecutive_failures", "INTEGER"),
    ("next_poll_at", "TIMESTAMPTZ"),
    ("entries_last_seen", "INTEGER"),
    ("ok", "BOOLEAN"),
)
_INSERTED = [name for name, _ in _POLL_COLUMNS if name != "ok"]
_MERGE_POLLS = f"""
MERGE INTO feeds USING (
    SELECT {", ".join(f"CAST(c{i} AS {kind}) AS {name}" for i, (name, kind) in enumerate(_POLL_COLUMNS))}
    FROM (VALUES {{rows}}) AS v({", ".join(f"c{i}" for i in range(len(_POLL_COLUMNS)))})
) AS excluded ON feeds.feed_url = excluded.feed_url
WHEN MATCHED THEN UPDATE SET
    name = excluded.name,
    title = coalesce(excluded.title, feeds.title),
    etag = CASE WHEN excluded.ok THEN excluded.etag ELSE feeds.etag END,
    last_modified = CASE WHEN excluded.ok THEN excluded.last_modified ELSE feeds.last_modified END,
    body_hash = CASE WHEN excluded.ok THEN coalesce(excluded.body_hash, feeds.body_hash) ELSE feeds.body_hash END,
    last_status = excluded.last_status,
    last_outcome = excluded.last_outcome,
    last_error = excluded.last_error,
    last_error_kind = excluded.last_error_kind,
    last_polled_at = excluded.last_polled_at,
    last_success_at = coalesce(excluded.last_success_at, feeds.last_success_at),
    failing_since = CASE WHEN excluded.ok THEN NULL ELSE coalesce(feeds.failing_since, excluded.failing_since) END,
    consecutive_failures = excluded.consecutive_failures,
    next_poll_at = excluded.next_poll_at,
    entries_last_seen = coalesce(excluded.entries_last_seen, feeds.entries_last_seen)
WHEN NOT MATCHED THEN INSERT ({", ".join(_INSERTED)}, articles_total)
    VALUES ({", ".join(f"excluded.{name}" for name in _INSERTED)}, 0)
"""


@dataclass(frozen=True)
class PollOutcome:
    """What one feed poll changes in its `feeds` row."""

    poll: FeedPoll
    now: datetime
    next_poll_at: datetime | None
    failures: int
    title: str | None


def record_feed_polls(con: Connection, outcomes: Sequence[PollOutcome]) -> None:
    """Upsert the feeds' rows, all in one statement: validators and hash only move on success; failures
    accumulate until one."""
    if not outcomes:
        return
    rows = [_poll_row(o) for o in outcomes]
    placeholders = ", ".join(["(" + ", ".join("?" * len(_POLL_COLUMNS)) + ")"] * len(rows))
    con.execute(_MERGE_POLLS.format(rows=placeholders), [value for row in rows for value in row])


def record_feed_poll(
    con: Connection,
    poll: FeedPoll,
    now: datetime,
    next_poll_at: datetime | None,
    failures: int,
    title: str | None,
) -> None:
    record_feed_polls(con, [PollOutcome(poll, now, next_poll_at, failures, title)])


def _poll_row(outcome: PollOutcome) -> tuple[Any, ...]:
    poll, now = outcome.poll, outcome.now
    ok = poll.outcome in ("ok", "unchanged")
    return (
        poll.feed_url,
        poll.name,
        outcome.title,
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
        outcome.failures,
        outcome.next_poll_at,
        len(poll.entries) if poll.outcome == "ok" else None,
        ok,
    )


def mark_feeds(con: Connection, feeds: Sequence[tuple[str, str, str, Sequence[str]]]) -> None:
    """Make sure every configured (feed_url, name, kind, tags) has a row with the current name, kind and
    tags, in one statement."""
    if not feeds:
        return
    con.execute(
        """MERGE INTO feeds USING (
               SELECT unnest(?::VARCHAR[]) AS feed_url, unnest(?::VARCHAR[]) AS name,
                      unnest(?::VARCHAR[]) AS kind, unnest(?::VARCHAR[][]) AS tags
           ) AS given
           ON feeds.feed_url = given.feed_url
           WHEN MATCHED AND (feeds.name IS DISTINCT FROM given.name OR feeds.kind IS DISTINCT FROM given.kind
                             OR feeds.tags IS DISTINCT FROM given.tags)
               THEN UPDATE SET name = given.name, kind = given.kind, tags = given.tags
           WHEN NOT MATCHED THEN INSERT (feed_url, name, kind, tags, consecutive_failures, articles_total)
               VALUES (given.feed_url, given.name, given.kind, given.tags, 0, 0)""",
        [
            [url for url, _, _, _ in feeds],
            [name for _, name, _, _ in feeds],
            [kind for _, _, kind, _ in feeds],
            [list(tags) for _, _, _, tags in feeds],
        ],
    )


def mark_feed_skipped(con: Connection, feed_url: str, name: str, kind: str = "feed", tags: Sequence[str] = ()) -> None:
    """Make sure the configured feed has a row, with its current name, kind and tags."""
    mark_feeds(con, [(feed_url, name, kind, tags)])
