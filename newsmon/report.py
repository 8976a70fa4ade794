"""`newsmon report`: one self-contained HTML page (plotly.js inline, no network needed to view it)."""

from __future__ import annotations

import html
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

from core.settings import Config
from storage.connection import Warehouse
from storage.readmodels import report_rows

TOP_PLATFORMS = 8
_STYLE = """
body { font-family: system-ui, "Hiragino Sans", "Noto Sans CJK JP", sans-serif; margin: 2rem auto; max-width: 1100px;
       color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #eee; vertical-align: top; }
.muted { color: #777; } .bad { color: #b00020; }
"""


def _figure_html(figure: go.Figure, first: bool) -> str:
    figure.update_layout(margin={"l": 40, "r": 20, "t": 30, "b": 40}, height=380, template="plotly_white")
    return str(pio.to_html(figure, full_html=False, include_plotlyjs=first))


def _cell(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "" if value is None else str(value)


def _table(headers: list[str], rows: list[tuple[Any, ...]], empty: str) -> str:
    if not rows:
        return f'<p class="muted">{html.escape(empty)}</p>'
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _platforms_over_time(rows: list[tuple[Any, ...]]) -> go.Figure:
    totals: dict[str, int] = defaultdict(int)
    series: dict[str, dict[Any, int]] = defaultdict(dict)
    for day, platform, count in rows:
        totals[platform] += count
        series[platform][day] = count
    top = sorted(totals, key=lambda p: (-totals[p], p))[:TOP_PLATFORMS]
    days = sorted({day for day, _, _ in rows})
    figure = go.Figure(
        [go.Scatter(x=days, y=[series[p].get(d, 0) for d in days], mode="lines+markers", name=p) for p in top]
    )
    figure.update_layout(yaxis_title="original articles per day")
    return figure


def _topic_mix(rows: list[tuple[Any, ...]]) -> go.Figure:
    platforms = sorted({p for p, _, _ in rows})
    topics = sorted({t for _, t, _ in rows})
    counts = {(p, t): c for p, t, c in rows}
    figure = go.Figure([go.Bar(name=t, x=platforms, y=[counts.get((p, t), 0) for p in platforms]) for t in topics])
    figure.update_layout(barmode="stack", yaxis_title="original articles")
    return figure


def _language_mix(rows: list[tuple[Any, ...]]) -> go.Figure:
    return go.Figure([go.Bar(x=[r[0] for r in rows], y=[r[1] for r in rows], marker_color="#4c78a8")])


def collect(config: Config, days: int) -> dict[str, list[tuple[Any, ...]]]:
    since = datetime.now(UTC) - timedelta(days=days)
    with Warehouse(config.warehouse).reader() as con:
        return report_rows(con, since)


def render(data: dict[str, list[tuple[Any, ...]]], days: int, generated: datetime) -> str:
    originals, copies, feeds = data["totals"][0] if data["totals"] else (0, 0, 0)
    sections = [
        ("Mentions per platform over time", _figure_html(_platforms_over_time(data["platform_days"]), True)),
        ("Topic mix per platform", _figure_html(_topic_mix(data["topic_mix"]), False)),
        ("Language mix", _figure_html(_language_mix(data["languages"]), False)),
        (
            "Top syndicated stories",
            _table(["story", "original", "copies", "copied by"], data["syndicated"], "No copies found."),
        ),
        (
            "Failing feeds",
            _table(["feed", "health", "failing since", "last error"], data["failing"], "All feeds are healthy."),
        ),
        (
            "Latest alerts",
            _table(["sent at", "rule", "article", "status", "attempts"], data["alerts"], "No alerts yet."),
        ),
    ]
    body = "".join(f"<h2>{html.escape(title)}</h2>{content}" for title, content in sections)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>newsmon report</title>"
        f"<style>{_STYLE}</style></head><body><h1>newsmon report</h1>"
        f"<p class='muted'>Last {days} days, generated {generated:%Y-%m-%d %H:%M} UTC: {originals} original articles, "
        f"{copies} copies, from {feeds} feeds.</p>{body}</body></html>"
    )


def write_report(config: Config, out: Path, days: int) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(collect(config, days), days, datetime.now(UTC)), encoding="utf-8")
    return out
