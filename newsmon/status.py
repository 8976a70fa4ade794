"""`newsmon status`: what is broken and since when, at a glance (read-only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb

from newsmon.config import Config
from storage.warehouse import Warehouse

_FEEDS_SQL = """
SELECT CASE WHEN health = 'ok' THEN health WHEN health = 'never polled' THEN 'NEW' ELSE upper(health) END,
       name, feed_url, consecutive_failures, failing_since, last_success_at, last_error, next_poll_at,
       articles_total
FROM feed_health
ORDER BY consecutive_failures DESC, failing_since NULLS LAST, feed_url
"""
_RUNS_SQL = """
SELECT run_id, started_at, finished_at, status, feeds_ok, feeds_failed, articles_new, articles_duplicate,
       links_refused, pages_failed, error
FROM runs ORDER BY started_at DESC LIMIT 5
"""
_NOTIFY_SQL = """
SELECT rule,
       CASE WHEN status = 'failed' AND attempts >= ? THEN 'gave up after ' || attempts || ' attempts'
            WHEN status = 'failed' THEN 'failed, will be retried on the next pass'
            ELSE status END AS state,
       count(*), max(last_error), min(created_at)
FROM notifications WHERE status <> 'sent' GROUP BY ALL ORDER BY rule, state
"""


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def _schedules(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[datetime, str]]:
    """`newsmon watch`'s adaptive schedule per feed: (next poll, why), when the watcher has run."""
    rows = con.execute("SELECT feed_url, next_poll_at, why FROM feed_schedule").fetchall()
    return {url: (next_at, why) for url, next_at, why in rows}


def _feed_lines(con: duckdb.DuckDBPyConnection, configured: set[str]) -> list[str]:
    lines = ["Feeds (failing first):"]
    schedules = _schedules(con)
    for health, name, url, failures, since, success, error, next_at, total in con.execute(_FEEDS_SQL).fetchall():
        if url not in configured:
            continue
        line = f"  {health:<7} {name}  [{url}]  articles {total}, last ok {_when(success)}"
        if url in schedules:
            scheduled_at, why = schedules[url]
            line += f"\n          watch: next poll {scheduled_at.strftime('%Y-%m-%d %H:%M:%S')}, {why}"
        if failures:
            line += (
                f"\n          failing since {_when(since)} ({failures} weighted failures), next try {_when(next_at)}"
            )
            line += f"\n          last error: {error}"
        lines.append(line)
    return lines


def _run_lines(rows: list[Any]) -> list[str]:
    lines = ["Last runs:"]
    for run_id, started, finished, status, ok, failed, new, dup, refused, pages_failed, error in rows:
        line = (
            f"  {run_id}  {_when(started)} -> {_when(finished)}  {status:<9} feeds ok {ok}, failed {failed}; "
            f"new {new}, duplicates {dup}, refused {refused}, pages failed {pages_failed}"
        )
        lines.append(line + (f"\n          error: {error}" if error else ""))
    return lines if rows else [*lines, "  (no runs yet)"]


def render_status(config: Config) -> str:
    with Warehouse(config.warehouse).reader() as con:
        lines = _feed_lines(con, {f.url for f in config.feeds})
        lines += ["", *_run_lines(con.execute(_RUNS_SQL).fetchall())]
        pending = con.execute(_NOTIFY_SQL, [config.notifications.max_attempts]).fetchall()
    lines += ["", "Notifications not yet delivered:"]
    lines += [
        f"  {rule}: {count} {state}, oldest queued {_when(since)}" + (f"\n          last error: {err}" if err else "")
        for rule, state, count, err, since in pending
    ]
    if not pending:
        lines.append("  none")
    return "\n".join(lines)
