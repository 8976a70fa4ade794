"""Human-readable text for a pass summary (what `newsmon run` and `newsmon demo` print)."""

from __future__ import annotations

from core.records import PassSummary
from core.words import count_of

_LIST_LIMIT = 10


def _counts(pairs: tuple[tuple[str, int], ...]) -> str:
    return ", ".join(f"{name} {count}" for name, count in pairs) or "none"


def _articles(s: PassSummary) -> str:
    stored = s.articles_new + s.articles_duplicate
    return (
        f"{count_of(stored, 'new article')} stored: {count_of(s.articles_new, 'original')}, "
        f"{count_of(s.articles_duplicate, 'copy', 'copies')} of known stories (seeds or earlier articles)"
    )


def format_summary(summary: PassSummary, seconds: float) -> str:
    s = summary
    lines = [
        f"newsmon pass {s.run_id}: {s.status} in {seconds:.1f} s",
        f"  feeds          {count_of(s.feeds_total, 'feed')} configured: {s.feeds_ok} ok, "
        f"{s.feeds_unchanged} unchanged, {s.feeds_failed} failed, {s.feeds_skipped} not due",
        f"  entries        {count_of(s.entries_seen, 'entry', 'entries')} in the feeds, "
        f"{s.entries_known} of them stored before or listed twice",
        f"  articles       {_articles(s)}",
        f"  originals      by language: {_counts(s.new_by_language)}",
        f"                 by platform: {_counts(s.new_by_platform)}",
        f"                 by topic: {_counts(s.new_by_topic)}",
        f"  links          {count_of(s.links_refused, 'link')} refused, "
        f"{count_of(s.pages_failed, 'page')} not fetched or extracted (kept from feed text), "
        f"{count_of(s.entries_dropped, 'entry', 'entries')} dropped",
        f"  notifications  {s.notifications_sent} sent, {s.notifications_failed} failed",
    ]
    if s.failed_feeds:
        lines.append("  failing feeds:")
        lines += [f"    {url}  {error}" for url, error in s.failed_feeds[:_LIST_LIMIT]]
    if s.refused_links:
        lines.append("  refused links:")
        lines += [f"    {url}  {reason}" for url, reason in s.refused_links[:_LIST_LIMIT]]
    return "\n".join(lines)
