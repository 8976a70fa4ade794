"""`newsmon report`: one self-contained HTML page (inline SVG charts, no script, nothing from the network).

What the page counts and when (the same definitions as docs/warehouse.md and `newsmon status`):
- article figures count articles whose `seen_at` — published, else fetched — lies in the last N days;
  days are days of `seen_at` in the report's time zone (named in the page);
- "original" = not a copy (`duplicate_of IS NULL`); a story is an original and its copies;
- run history and feed health are about when newsmon did the work (run start, last poll).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.settings import Config
from core.views import (
    AlertRow,
    DayCount,
    FeedHealthRow,
    FeedVolumeRow,
    PairCount,
    PlatformTrendRow,
    RunRow,
    StoryRow,
    WindowTotals,
)
from core.words import count_of
from newsmon import charts
from newsmon.display import DisplayZone, display_zone
from newsmon.resources import report_stylesheet
from storage import readmodels
from storage.warehouse import Warehouse

TOP_STORIES = 15
COPIES_SHOWN = 5
RUNS_SHOWN = 20
ALERTS_SHOWN = 20


@dataclass(frozen=True)
class ReportData:
    """Everything the page shows, read in one read-only session."""

    days: int
    since: datetime
    generated: datetime
    zone: DisplayZone
    totals: WindowTotals
    platform_days: list[DayCount]
    language_days: list[DayCount]
    topic_mix: list[PairCount]
    trends: list[PlatformTrendRow]
    stories: list[StoryRow]
    volumes: list[FeedVolumeRow]
    runs: list[RunRow]
    health: list[FeedHealthRow]
    alerts: list[AlertRow]


def collect(config: Config, days: int, now: datetime | None = None) -> ReportData:
    generated = now or datetime.now(UTC)
    since = generated - timedelta(days=days)
    zone = display_zone(config.timezone)
    with Warehouse(config.warehouse).reader() as con:
        readmodels.set_time_zone(con, zone.name)
        return ReportData(
            days=days,
            since=since,
            generated=generated,
            zone=zone,
            totals=readmodels.window_totals(con, since),
            platform_days=readmodels.platforms_per_day(con, since),
            language_days=readmodels.languages_per_day(con, since),
            topic_mix=readmodels.platform_topics(con, since),
            trends=readmodels.platform_trends(con, generated),
            stories=readmodels.top_stories(con, since, TOP_STORIES),
            volumes=readmodels.feed_volumes(con, since),
            runs=readmodels.recent_runs(con, RUNS_SHOWN),
            health=readmodels.feed_health(con, [f.url for f in config.feeds]),
            alerts=readmodels.latest_alerts(con, ALERTS_SHOWN),
        )


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _link(url: str | None, text: str) -> str:
    if not url or not url.startswith(("http://", "https://")):
        return _e(text)
    return f'<a href="{_e(url)}" rel="noreferrer noopener" target="_blank">{_e(text)}</a>'


def _table(name: str, headers: Sequence[str], rows: Sequence[Sequence[str]], empty: str) -> str:
    """Cells are HTML already escaped by the caller."""
    if not rows:
        return f'<p class="muted" data-table="{name}">{_e(empty)}</p>'
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table data-table="{name}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _header(data: ReportData) -> str:
    t = data.totals
    zone = data.zone
    cards = [
        (t.originals, "original articles"),
        (t.copies, "copies of known stories"),
        (t.feeds, "feeds with articles"),
        (t.sources, "sources"),
    ]
    card_html = "".join(f'<div class="card"><b>{n}</b><span>{_e(label)}</span></div>' for n, label in cards)
    older = ""
    if t.older_fetched:
        older = (
            f" {count_of(t.older_fetched, 'more original article')} fetched in this period "
            "carry an earlier publication date and are not counted here."
        )
    return (
        f'<header><h1>newsmon report</h1><p class="lede">Last {count_of(data.days, "day")}: since '
        f"{_e(zone.show(data.since))} · generated {_e(zone.show(data.generated))} · times and days in "
        f'{_e(zone.label)}</p><div class="cards" id="totals">{card_html}</div>'
        "<p class=\"note\">An article counts by when it was published (the feed's or page's date), else by "
        f"when newsmon fetched it — the <code>seen_at</code> of docs/warehouse.md.{_e(older)}</p></header>"
    )


def _stories(stories: Sequence[StoryRow], zone: DisplayZone) -> str:
    rows = []
    for story in stories:
        first = story.items[0]
        copies = story.items if story.from_seed else story.items[1:]  # a seed original has no web address
        title = _link(first.url, story.title or first.title)
        origin = "original: a seed document (linked: its earliest stored copy)" if story.from_seed else _e(first.source)
        shown = [_link(c.url, c.source or c.url) for c in copies[:COPIES_SHOWN]]
        if len(copies) > COPIES_SHOWN:
            shown.append(_e(f"and {len(copies) - COPIES_SHOWN} more"))
        rows.append(
            [
                f"{title}<div class='muted'>{origin}</div>",
                _e(", ".join(story.languages)),
                _e(zone.show(first.seen_at)),
                _e(story.articles),
                ", ".join(shown) or '<span class="muted">none yet</span>',
            ]
        )
    return _table(
        "stories",
        ["story (earliest article)", "languages", "first seen", "articles in window", "other articles and copies"],
        rows,
        "No articles.",
    )


def _trends(trends: Sequence[PlatformTrendRow]) -> str:
    rows = []
    for t in trends:
        arrow = "▲" if t.change > 0 else "▼" if t.change < 0 else "="
        cls = "up" if t.change > 0 else "down" if t.change < 0 else "muted"
        change = f'<span class="{cls}">{arrow} {t.change:+d}</span>'
        rows.append([_e(t.platform), _e(t.this_week), _e(t.last_week), change])
    headers = ["platform", "last 7 days", "7 days before", "change"]
    return _table("trends", headers, rows, "No original articles in the last 14 days.")


def _volumes(volumes: Sequence[FeedVolumeRow], zone: DisplayZone) -> str:
    rows = [
        [
            f"{_e(v.name)}<div class='muted url'>{_e(v.feed_url)}</div>",
            _e(v.originals),
            _e(v.copies),
            _e(", ".join(v.sources[:6]) + (" …" if len(v.sources) > 6 else "")),
            _e(zone.show(v.last_seen)),
        ]
        for v in volumes
    ]
    headers = ["feed", "originals", "copies", "sources", "latest article"]
    return _table("volumes", headers, rows, "No feeds configured.")


def _runs(runs: Sequence[RunRow], zone: DisplayZone) -> str:
    rows = [
        [
            _e(zone.show(r.started_at)),
            _e(f"{r.seconds:.1f} s" if r.seconds is not None else "-"),
            f'<span class="{"bad" if r.status in ("failed", "aborted") else ""}">{_e(r.status)}</span>',
            _e(f"{r.feeds_ok} ok, {r.feeds_unchanged} unchanged, {r.feeds_failed} failed"),
            _e(r.originals),
            _e(r.copies),
            _e(f"{r.pages_failed} pages failed, {r.links_refused} refused, {r.entries_dropped} dropped"),
            _e(r.error or ""),
        ]
        for r in runs
    ]
    headers = ["started", "took", "status", "feeds", "new originals", "new copies", "links", "error"]
    return _table("runs", headers, rows, "No runs yet.")


def _health(health: Sequence[FeedHealthRow], zone: DisplayZone) -> str:
    rows = [
        [
            f"{_e(h.name)}<div class='muted url'>{_e(h.feed_url)}</div>",
            f'<span class="{"bad" if h.health in ("failing", "dead") else ""}">{_e(h.health)}</span>',
            _e(h.consecutive_failures),
            _e(zone.show(h.failing_since)),
            _e(zone.show(h.last_success_at)),
            _e(zone.show(h.last_polled_at)),
            _e(h.articles_total),
            _e(h.last_error or ""),
        ]
        for h in health
    ]
    headers = ["feed", "health", "weighted failures", "failing since", "last ok", "last polled", "articles"]
    headers.append("last error")
    return _table("health", headers, rows, "No feeds configured.")


def _alerts(alerts: Sequence[AlertRow], zone: DisplayZone) -> str:
    rows = [
        [_e(zone.show(a.sent_at or a.updated_at)), _e(a.rule), _link(a.url, a.title), _e(a.status), _e(a.attempts)]
        for a in alerts
    ]
    return _table("alerts", ["when", "rule", "article", "status", "attempts"], rows, "No alerts yet.")


def _section(anchor: str, title: str, note: str, content: str) -> str:
    note_html = f'<p class="muted">{_e(note)}</p>' if note else ""
    return f'<section id="{anchor}"><h2>{_e(title)}</h2>{note_html}{content}</section>'


def render(data: ReportData) -> str:
    zone = data.zone
    window_start, today = data.since.astimezone(zone.zone).date(), data.generated.astimezone(zone.zone).date()
    unit = "original articles"
    sections = [
        _section("stories", "Top stories", "Most articles first; each links its earliest article and its copies.",
                 _stories(data.stories, zone)),
        _section("platforms", "Platforms per day", f"{unit.capitalize()} mentioning each of the top platforms.",
                 charts.per_day_chart(data.platform_days, window_start, today, unit)),
        _section("trends", "Platform trends", "Original articles in the last 7 days against the 7 days before.",
                 _trends(data.trends)),
        _section("topics", "Topics per platform", "An article counts once for each platform and topic it has.",
                 charts.topic_mix_chart(data.topic_mix)),
        _section("languages", "Languages", "", charts.totals_chart(data.language_days, unit)),
        _section("volumes", "Volume per feed", "Articles each feed brought in during the window.",
                 _volumes(data.volumes, zone)),
        _section("runs", "Run history", f"The last {RUNS_SHOWN} passes (times are when each pass ran).",
                 _runs(data.runs, zone)),
        _section("health", "Feed health", "Every configured feed, failing ones first.", _health(data.health, zone)),
        _section("alerts", "Latest alerts", "", _alerts(data.alerts, zone)),
    ]  # fmt: skip
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'><title>newsmon report</title>"
        f"<style>{report_stylesheet().read_text(encoding='utf-8')}</style></head><body>{_header(data)}{''.join(sections)}</body></html>"
    )


def write_report(config: Config, out: Path, days: int) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(collect(config, days)), encoding="utf-8")
    return out
