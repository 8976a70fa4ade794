"""Human-readable text for a pass summary (what `newsmon run` and `newsmon demo` print)."""

from __future__ import annotations

from core.records import PassSummary

_LIST_LIMIT = 10


def _counts(pairs: tuple[tuple[str, int], ...]) -> str:
    return ", ".join(f"{name} {count}" for name, count in pairs) or "none"


def format_summary(summary: PassSummary, seconds: float) -> str:
    s = summary
    languages = _counts(s.new_by_language)
    lines = [
        f"newsmon pass {s.run_id}: {s.status} in {seconds:.1f} s",
        f"  feeds          {s.feeds_total} configured: {s.feeds_ok} ok, {s.feeds_unchanged} unchanged, "
        f"{s.feeds_failed} failed, {s.feeds_skipped} not due",
        f"  entries        {s.entries_seen} seen, {s.entries_known} already stored",
        f"  articles       {s.articles_new} new, {s.articles_duplicate} duplicates",
        f"  by language    {languages}",
        f"  by platform    {_counts(s.new_by_platform)}",
        f"  by topic       {_counts(s.new_by_topic)}",
        f"  links          {s.links_refused} refused, {s.pages_failed} pages failed (kept from feed text), "
        f"{s.entries_dropped} dropped",
        f"  notifications  {s.notifications_sent} sent, {s.notifications_failed} failed",
    ]
    if s.failed_feeds:
        lines.append("  failing feeds:")
        lines += [f"    {url}  {error}" for url, error in s.failed_feeds[:_LIST_LIMIT]]
    if s.refused_links:
        lines.append("  refused links:")
        lines += [f"    {url}  {reason}" for url, reason in s.refused_links[:_LIST_LIMIT]]
    return "\n".join(lines)
