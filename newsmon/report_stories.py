"""The report's "Top stories" section: one row per story (the same event across sources and languages),
with its title, languages, sources, first seen and a link to its earliest article. Kept apart from
newsmon.report so the section can move with whatever layout the report has."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

TITLE = "Top stories"


def top_stories_html(rows: Sequence[Sequence[Any]]) -> str:
    """`rows` as storage.stories.top_stories returns them."""
    if not rows:
        return '<p class="muted">No stories in this period.</p>'
    head = "".join(f"<th>{h}</th>" for h in ("story", "languages", "sources", "first seen", "articles"))
    body = "".join(_row(*row) for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _row(title: str, languages: Sequence[str], sources: Sequence[str], first: datetime, url: str, count: int) -> str:
    link = f'<a href="{html.escape(url, quote=True)}">{html.escape(title)}</a>'
    seen = first.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    cells = [link, html.escape(", ".join(languages)), html.escape(", ".join(sources)), seen, str(count)]
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"
