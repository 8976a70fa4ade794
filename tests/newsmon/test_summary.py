"""What `newsmon run` prints: counted nouns in the right number, and what the counts mean."""

from __future__ import annotations

from core.records import PassSummary
from newsmon.summary import format_summary


def _summary(new: int, duplicate: int, refused: int = 0) -> PassSummary:
    return PassSummary(
        run_id="r1", status="completed", feeds_total=1, feeds_ok=1, feeds_unchanged=0, feeds_failed=0,
        feeds_skipped=0, entries_seen=new + duplicate, entries_known=0, articles_new=new,
        articles_duplicate=duplicate, links_refused=refused, pages_failed=0, entries_dropped=0,
    )  # fmt: skip


def test_all_copies_reads_as_zero_originals() -> None:
    text = format_summary(_summary(0, 100), 1.0)
    assert "100 new articles stored: 0 originals, 100 copies of known stories" in text


def test_singulars() -> None:
    text = format_summary(_summary(1, 1, refused=1), 1.0)
    assert "1 new article stored" not in text  # two were stored
    assert "2 new articles stored: 1 original, 1 copy of known stories" in text
    assert "1 feed configured" in text and "1 link refused" in text
    assert "1 copies" not in text and "1 duplicates" not in text


def test_store_log_line_says_originals_and_copies() -> None:
    from datetime import UTC, datetime

    from core.records import Article
    from flows.monitor import store_message

    def article(ident: str, copy_of: str | None) -> Article:
        return Article(
            ident, "u", "u", "f", "s", "t", "x", "feed", "en", None, datetime.now(UTC), ident, duplicate_of=copy_of
        )

    stored = [article("a", None), article("b", "a")]
    assert store_message(stored, 1, 0) == (
        "stored 2 articles (1 original, 1 copy of known stories), 1 link event, 0 notifications queued"
    )
    assert store_message([], 0, 1).startswith("stored 0 articles (0 originals, 0 copies")
