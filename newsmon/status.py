"""`newsmon status`: what is broken and since when, at a glance (read-only)."""

from __future__ import annotations

from datetime import datetime

from core.settings import Config
from storage.connection import Warehouse
from storage.readmodels import Rows, status_rows


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def _feed_lines(rows: Rows, configured: set[str]) -> list[str]:
    lines = ["Feeds (failing first):"]
    for health, name, url, failures, since, success, error, next_at, total in rows:
        if url not in configured:
            continue
        line = f"  {health:<7} {name}  [{url}]  articles {total}, last ok {_when(success)}"
        if failures:
            line += (
                f"\n          failing since {_when(since)} ({failures} weighted failures), next try {_when(next_at)}"
            )
            line += f"\n          last error: {error}"
        lines.append(line)
    return lines


def _run_lines(rows: Rows) -> list[str]:
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
        feeds, runs, pending = status_rows(con, config.notifications.max_attempts)
    lines = _feed_lines(feeds, {f.url for f in config.feeds})
    lines += ["", *_run_lines(runs)]
    lines += ["", "Notifications not yet delivered:"]
    lines += [
        f"  {rule}: {count} {state}, oldest queued {_when(since)}" + (f"\n          last error: {err}" if err else "")
        for rule, state, count, err, since in pending
    ]
    if not pending:
        lines.append("  none")
    return "\n".join(lines)
