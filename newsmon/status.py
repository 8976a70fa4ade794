"""`newsmon status`: what is broken and since when, at a glance (read-only). Times are shown in the user's
zone with the zone named; `--json` gives the same rows for scripts and monitoring, times in UTC."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.settings import Config, FeedConfig
from core.views import FeedHealthRow, PendingNotifications, RunRow
from core.words import count_of
from newsmon.display import DisplayZone, display_zone, utc_iso
from storage import readmodels
from storage.warehouse import Warehouse, schedule_rows

RUNS_SHOWN = 5
_HEALTH_LABEL = {"ok": "ok", "never polled": "NEW", "failing": "FAILING", "dead": "DEAD"}


@dataclass(frozen=True)
class StatusData:
    feeds: list[FeedHealthRow]
    runs: list[RunRow]
    pending: list[PendingNotifications]
    sources: dict[str, FeedConfig] = field(default_factory=dict)  # feed URL -> its config (kind, tags)
    notes: tuple[str, ...] = ()  # OPML import notes (skipped outlines, merged duplicates)
    # `newsmon watch`'s adaptive schedule per feed URL: (next poll, why); empty until a watcher has run.
    schedules: dict[str, tuple[datetime, str]] = field(default_factory=dict)


def collect_status(config: Config) -> StatusData:
    with Warehouse(config.warehouse).reader() as con:
        return StatusData(
            feeds=readmodels.feed_health(con, [f.url for f in config.feeds]),
            runs=readmodels.recent_runs(con, RUNS_SHOWN),
            pending=readmodels.undelivered_notifications(con, config.notifications.max_attempts),
            sources={f.url: f for f in config.feeds},
            notes=tuple(config.source_notes),
            schedules=schedule_rows(con),
        )


def _source_label(source: FeedConfig | None) -> tuple[str, str]:
    if source is None:
        return "", ""
    kind = " (sitemap)" if source.kind == "sitemap" else ""
    return kind, (f", tags {', '.join(source.tags)}" if source.tags else "")


def _feed_lines(data: StatusData, zone: DisplayZone) -> list[str]:
    lines = ["Feeds (failing first):"]
    feeds, sources = data.feeds, data.sources
    for f in feeds:
        label = _HEALTH_LABEL.get(f.health, f.health)
        kind, tags = _source_label(sources.get(f.feed_url))
        line = f"  {label:<7} {f.name}{kind}  [{f.feed_url}]  {count_of(f.articles_total, 'article')}, "
        line += f"last ok {zone.show(f.last_success_at) if f.last_success_at else 'never'}{tags}"
        if f.feed_url in data.schedules:  # `newsmon watch`'s adaptive schedule
            next_at, why = data.schedules[f.feed_url]
            line += f"\n          watch: next poll {zone.show(next_at)}, {why}"
        if f.consecutive_failures:
            failures = count_of(f.consecutive_failures, "weighted failure")
            since, retry = zone.show(f.failing_since), zone.show(f.next_poll_at)
            line += f"\n          failing since {since} ({failures}), next try {retry}"
            line += f"\n          last error: {f.last_error}"
        lines.append(line)
    return lines if feeds else [*lines, "  (no feeds configured)"]


def run_line(run: RunRow, zone: DisplayZone) -> str:
    took = f", {run.seconds:.1f} s" if run.seconds is not None else ""
    stored = run.originals + run.copies
    line = (
        f"  {run.run_id}  {zone.show(run.started_at)}{took}  {run.status:<9} "
        f"feeds {run.feeds_ok} ok, {run.feeds_unchanged} unchanged, {run.feeds_failed} failed; "
        f"{count_of(stored, 'new article')}: {count_of(run.originals, 'original')}, "
        f"{count_of(run.copies, 'copy', 'copies')}; {count_of(run.links_refused, 'link')} refused, "
        f"{count_of(run.pages_failed, 'page')} failed"
    )
    return line + (f"\n          error: {run.error}" if run.error else "")


def _pending_lines(pending: list[PendingNotifications], zone: DisplayZone) -> list[str]:
    lines = ["Notifications not yet delivered:"]
    for p in pending:
        if p.gave_up:
            state = f"gave up after {count_of(p.attempts, 'attempt')}"
        elif p.status == "failed":
            state = "failed, will be retried on the next pass"
        else:
            state = p.status
        line = f"  {p.rule}: {count_of(p.count, 'notification')} {state}, oldest queued {zone.show(p.oldest)}"
        lines.append(line + (f"\n          last error: {p.last_error}" if p.last_error else ""))
    return lines if pending else [*lines, "  none"]


def render_status(data: StatusData, zone: DisplayZone) -> str:
    lines = [f"Times in {zone.label}.", ""]
    lines += _feed_lines(data, zone)
    lines += ["", "Last runs:", *([run_line(r, zone) for r in data.runs] or ["  (no runs yet)"])]
    if data.notes:
        lines += ["", "OPML import notes:", *(f"  {note}" for note in data.notes)]
    lines += ["", *_pending_lines(data.pending, zone)]
    return "\n".join(lines)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc_iso(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _source_fields(source: FeedConfig | None, schedule: tuple[datetime, str] | None) -> dict[str, Any]:
    fields: dict[str, Any] = {"kind": source.kind, "tags": list(source.tags)} if source else {"kind": None, "tags": []}
    fields["watch_next_poll_at"], fields["watch_why"] = schedule or (None, None)
    return fields


def status_json(data: StatusData, now: datetime | None = None) -> str:
    """The same rows as the text, times as ISO 8601 in UTC; runs carry `seconds`."""
    document = {
        "generated_at": utc_iso(now or datetime.now(UTC)),
        "feeds": [
            {**asdict(f), **_source_fields(data.sources.get(f.feed_url), data.schedules.get(f.feed_url))}
            for f in data.feeds
        ],
        "runs": [{**asdict(r), "seconds": r.seconds} for r in data.runs],
        "notifications_undelivered": [asdict(p) for p in data.pending],
        "source_notes": list(data.notes),
    }
    return json.dumps(_jsonable(document), ensure_ascii=False, indent=2)


def status_text(config: Config) -> str:
    return render_status(collect_status(config), display_zone(config.timezone))
