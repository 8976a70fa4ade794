"""Articles, their mentions and link events, and the seed corpus: what is stored and what is known."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from core.records import ARTICLE_PREFIX, PERMANENT_LINK_OUTCOMES, SEED_PREFIX, Article, LinkEvent, SeedDocument
from storage.connection import Connection, insert_rows
from storage.tables import (
    ARTICLE_COLUMNS,
    LINK_EVENT_COLUMNS,
    MENTION_COLUMNS,
    SEED_COLUMNS,
    article_row,
    link_event_row,
    mention_rows,
    seed_row,
)


def load_seeds(con: Connection, seeds: Sequence[SeedDocument], now: datetime) -> int:
    """Insert seeds not yet in `seed_documents` (idempotent). Returns how many were added."""
    existing = {row[0] for row in con.execute("SELECT seed_id FROM seed_documents").fetchall()}
    rows = [seed_row(s, now) for s in seeds if s.seed_id not in existing]
    insert_rows(con, "seed_documents", SEED_COLUMNS, rows)
    return len(rows)


def label_seeds(con: Connection, labels: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]) -> None:
    """Set seeds' platforms/topics (every pass: a taxonomy change in the config shows on the next run)."""
    for seed_id, (platforms, topics) in labels.items():
        con.execute(
            "UPDATE seed_documents SET platforms = ?, topics = ? WHERE seed_id = ? "
            "AND (platforms <> ?::VARCHAR[] OR topics <> ?::VARCHAR[])",
            [list(platforms), list(topics), seed_id, list(platforms), list(topics)],
        )


def seed_texts(con: Connection) -> dict[str, str]:
    """seed_id -> text of every stored seed document."""
    return dict(con.execute("SELECT seed_id, text FROM seed_documents").fetchall())


def known_urls(con: Connection, canonical_urls: Sequence[str]) -> set[str]:
    """Which of these canonical URLs are stored, or were dropped for good (too short, invalid)."""
    if not canonical_urls:
        return set()
    stored = con.execute(
        "SELECT canonical_url FROM articles WHERE canonical_url IN (SELECT unnest(?))", [list(canonical_urls)]
    ).fetchall()
    dropped = con.execute(
        "SELECT DISTINCT url FROM link_events WHERE url IN (SELECT unnest(?)) AND outcome IN (SELECT unnest(?))",
        [list(canonical_urls), sorted(PERMANENT_LINK_OUTCOMES)],
    ).fetchall()
    return {row[0] for row in stored} | {row[0] for row in dropped}


def new_articles(con: Connection, articles: Sequence[Article]) -> list[Article]:
    """The articles whose canonical URL is not stored yet, first occurrence in the batch only."""
    known = known_urls(con, [a.canonical_url for a in articles])
    fresh: dict[str, Article] = {}
    for article in articles:
        if article.canonical_url not in known and article.canonical_url not in fresh:
            fresh[article.canonical_url] = article
    return list(fresh.values())


def max_seq(con: Connection) -> int:
    row = con.execute("SELECT coalesce(max(seq), 0) FROM articles").fetchone()
    return int(row[0]) if row else 0


def insert_articles(
    con: Connection, run_id: str, articles: Sequence[Article], events: Sequence[LinkEvent], now: datetime
) -> int:
    """Insert new articles (numbered after the last `seq`), their mentions and the batch's link events, in
    the caller's transaction. Returns the highest `seq` now stored."""
    first = max_seq(con) + 1
    insert_rows(con, "articles", ARTICLE_COLUMNS, [article_row(a, run_id, first + i) for i, a in enumerate(articles)])
    insert_rows(con, "mentions", MENTION_COLUMNS, [row for a in articles for row in mention_rows(a, run_id)])
    insert_rows(con, "link_events", LINK_EVENT_COLUMNS, [link_event_row(e, run_id, now) for e in events])
    counts = _count_by_feed(articles)
    if counts:  # one statement for all feeds: each UPDATE statement costs a catalog round trip in a DuckLake
        con.execute(
            "UPDATE feeds SET articles_total = feeds.articles_total + c.n "
            "FROM (SELECT unnest($feeds::VARCHAR[]) AS feed_url, unnest($counts::INTEGER[]) AS n) AS c "
            "WHERE feeds.feed_url = c.feed_url",
            {"feeds": list(counts), "counts": list(counts.values())},
        )
    return first + len(articles) - 1


def document_texts(con: Connection, doc_ids: Sequence[str]) -> dict[str, str]:
    """Texts of indexed documents ('seed:<id>' / 'article:<id>'), for verifying near-duplicate candidates."""
    seeds = [d.removeprefix(SEED_PREFIX) for d in doc_ids if d.startswith(SEED_PREFIX)]
    articles = [d.removeprefix(ARTICLE_PREFIX) for d in doc_ids if d.startswith(ARTICLE_PREFIX)]
    found: dict[str, str] = {}
    if seeds:
        rows = con.execute("SELECT seed_id, text FROM seed_documents WHERE seed_id IN (SELECT unnest(?))", [seeds])
        found.update({SEED_PREFIX + r[0]: r[1] for r in rows.fetchall()})
    if articles:
        rows = con.execute("SELECT article_id, text FROM articles WHERE article_id IN (SELECT unnest(?))", [articles])
        found.update({ARTICLE_PREFIX + r[0]: r[1] for r in rows.fetchall()})
    return found


def articles_after(con: Connection, seq: int, limit: int) -> list[tuple[int, str, str, str]]:
    """(seq, article_id, title, text) of articles numbered after `seq`, oldest first."""
    rows = con.execute(
        "SELECT seq, article_id, title, text FROM articles WHERE seq > ? ORDER BY seq LIMIT ?", [seq, limit]
    ).fetchall()
    return [(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]


def _count_by_feed(articles: Iterable[Article]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for article in articles:
        counts[article.feed_url] = counts.get(article.feed_url, 0) + 1
    return counts
