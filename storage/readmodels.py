"""Read models: the queries behind `status`, `report`, `export` and the demo's example queries.

Each function takes a connection from `Warehouse.reader()` and returns typed rows (core.views) or plain
rows; rendering is the application's business (newsmon/status.py, newsmon/report.py, newsmon/demo.py).

Every article figure uses one "when": `seen_at` = published_at, else fetched_at (see core.views). `since`
is an instant (the window's start); days are days of `seen_at` in the connection's time zone
(`set_time_zone`). The SQL is plain DuckDB SQL (no extensions beyond the bundled ICU time zones), so it
runs on a DuckDB file or a DuckLake catalog alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from core.settings import WarehouseSettings
from core.views import (
    AlertRow,
    DayCount,
    FeedHealthRow,
    FeedVolumeRow,
    PairCount,
    PendingNotifications,
    PlatformTrendRow,
    RunRow,
    StoryItem,
    StoryRow,
    WindowTotals,
)
from storage.connection import Connection, Warehouse

Rows = list[tuple[Any, ...]]


def set_time_zone(con: Connection, zone: str) -> None:
    """Days (CAST(seen_at AS DATE)) are then days in `zone` (an IANA name such as Asia/Tokyo)."""
    con.execute(f"SET TimeZone = '{_quoted(zone)}'")


def _quoted(value: str) -> str:
    return value.replace("'", "''")


def window_totals(con: Connection, since: datetime) -> WindowTotals:
    row = con.execute(
        """
        SELECT count(*) FILTER (WHERE duplicate_of IS NULL AND coalesce(published_at, fetched_at) >= $since),
               count(*) FILTER (WHERE duplicate_of IS NOT NULL AND coalesce(published_at, fetched_at) >= $since),
               count(DISTINCT feed_url) FILTER (WHERE coalesce(published_at, fetched_at) >= $since),
               count(DISTINCT source) FILTER (WHERE coalesce(published_at, fetched_at) >= $since),
               count(*) FILTER (WHERE duplicate_of IS NULL AND fetched_at >= $since
                                AND coalesce(published_at, fetched_at) < $since)
        FROM articles
        """,
        {"since": since},
    ).fetchone()
    return WindowTotals(*row) if row else WindowTotals(0, 0, 0, 0, 0)


def platforms_per_day(con: Connection, since: datetime) -> list[DayCount]:
    """Original articles per day and platform (an article with two platforms counts for each)."""
    rows = con.execute(
        """
        SELECT CAST(seen_at AS DATE) AS day, platform, count(*) AS articles
        FROM articles_unique, unnest(platforms) AS p(platform)
        WHERE seen_at >= ? GROUP BY ALL ORDER BY day, platform
        """,
        [since],
    ).fetchall()
    return [DayCount(*row) for row in rows]


def languages_per_day(con: Connection, since: datetime) -> list[DayCount]:
    rows = con.execute(
        """
        SELECT CAST(seen_at AS DATE) AS day, language, count(*) AS articles
        FROM articles_unique WHERE seen_at >= ? GROUP BY ALL ORDER BY day, language
        """,
        [since],
    ).fetchall()
    return [DayCount(*row) for row in rows]


def platform_topics(con: Connection, since: datetime) -> list[PairCount]:
    """Original articles per platform and topic; topic `(none)` for an article without one."""
    rows = con.execute(
        """
        SELECT platform, topic, count(*) AS articles
        FROM articles_unique, unnest(platforms) AS p(platform),
             unnest(CASE WHEN len(topics) = 0 THEN ['(none)'] ELSE topics END) AS t(topic)
        WHERE seen_at >= ? GROUP BY ALL ORDER BY platform, topic
        """,
        [since],
    ).fetchall()
    return [PairCount(*row) for row in rows]


def platform_trends(con: Connection, now: datetime) -> list[PlatformTrendRow]:
    """The last 7 days against the 7 days before, by `seen_at` (the docs' "which platforms rose" query)."""
    rows = con.execute(
        """
        SELECT platform,
               count(*) FILTER (WHERE seen_at >= $now - INTERVAL 7 DAY) AS this_week,
               count(*) FILTER (WHERE seen_at < $now - INTERVAL 7 DAY) AS last_week
        FROM articles_unique, unnest(platforms) AS p(platform)
        WHERE seen_at >= $now - INTERVAL 14 DAY
        GROUP BY platform ORDER BY this_week - last_week DESC, this_week DESC, platform
        """,
        {"now": now},
    ).fetchall()
    return [PlatformTrendRow(*row) for row in rows]


_STORIES = """
WITH RECURSIVE chain (article_id, original, depth) AS (
    SELECT article_id, duplicate_of, 1 FROM articles WHERE duplicate_of IS NOT NULL
    UNION ALL
    SELECT chain.article_id, up.duplicate_of, chain.depth + 1
    FROM chain JOIN articles AS up ON up.article_id = chain.original WHERE up.duplicate_of IS NOT NULL
),
roots AS (SELECT article_id, arg_max(original, depth) AS story_id FROM chain GROUP BY article_id),
members AS (
    SELECT a.article_id, coalesce(a.story_id, r.story_id, a.article_id) AS story_id, a.url, a.source, a.title,
           a.language, a.duplicate_of, coalesce(a.published_at, a.fetched_at) AS seen_at
    FROM articles AS a LEFT JOIN roots AS r USING (article_id)
),
story_members AS (
    SELECT story_id,
           count(*) FILTER (WHERE seen_at >= $since) AS articles,
           min(seen_at) AS first_seen,
           max(seen_at) AS last_seen,
           list(struct_pack(article_id := article_id, url := url, source := source, title := title,
                            seen_at := seen_at) ORDER BY seen_at, article_id) AS items,
           list(DISTINCT language ORDER BY language) FILTER (WHERE language IS NOT NULL) AS languages,
           arg_min(duplicate_of, (seen_at, article_id)) AS first_copy_of
    FROM members GROUP BY story_id
    HAVING count(*) FILTER (WHERE seen_at >= $since) > 0
)
SELECT s.story_id, coalesce(st.title, sd.title, s.items[1].title) AS title, sd.seed_id IS NOT NULL AS from_seed,
       s.articles, s.first_seen, s.last_seen, s.items, s.languages
FROM story_members AS s LEFT JOIN seed_documents AS sd ON sd.seed_id IN (s.story_id, s.first_copy_of)
LEFT JOIN stories AS st ON st.story_id = s.story_id
ORDER BY s.articles + CASE WHEN sd.seed_id IS NULL THEN 0 ELSE 1 END DESC, s.last_seen DESC, s.story_id
LIMIT $limit
"""


def top_stories(con: Connection, since: datetime, limit: int) -> list[StoryRow]:
    """Stories with articles seen in the window, the most articles first (a seed original counts as one).
    A story is the article's `story_id` (one event across sources and languages, titled by the `stories`
    table); an article without one falls back to its duplicate cluster: its original (a stored article, or
    a seed document) and every stored copy, following duplicate_of chains."""
    rows = con.execute(_STORIES, {"since": since, "limit": limit}).fetchall()
    return [_story(row) for row in rows]


def _story(row: tuple[Any, ...]) -> StoryRow:
    story_id, title, from_seed, articles, first_seen, last_seen, items, languages = row
    stored = tuple(StoryItem(i["article_id"], i["url"], i["source"], i["title"], i["seen_at"]) for i in items)
    return StoryRow(story_id, title, bool(from_seed), articles, first_seen, last_seen, stored, tuple(languages or ()))


def feed_volumes(con: Connection, since: datetime) -> list[FeedVolumeRow]:
    """Every configured feed with what it brought in during the window (also feeds that brought nothing)."""
    rows = con.execute(
        """
        SELECT f.name, f.feed_url,
               count(a.article_id) FILTER (WHERE a.duplicate_of IS NULL) AS originals,
               count(a.article_id) FILTER (WHERE a.duplicate_of IS NOT NULL) AS copies,
               list(DISTINCT a.source ORDER BY a.source) FILTER (WHERE a.source IS NOT NULL) AS sources,
               max(a.seen_at) AS last_seen
        FROM feed_health AS f
        LEFT JOIN (SELECT *, coalesce(published_at, fetched_at) AS seen_at FROM articles
                   WHERE coalesce(published_at, fetched_at) >= ?) AS a USING (feed_url)
        GROUP BY ALL ORDER BY originals + copies DESC, f.name
        """,
        [since],
    ).fetchall()
    return [FeedVolumeRow(n, u, o, c, tuple(s or ()), last) for n, u, o, c, s, last in rows]


def recent_runs(con: Connection, limit: int) -> list[RunRow]:
    rows = con.execute(
        """
        SELECT run_id, started_at, finished_at, status, feeds_ok, feeds_unchanged, feeds_failed, articles_new,
               articles_duplicate, links_refused, pages_failed, entries_dropped, error
        FROM runs ORDER BY started_at DESC LIMIT ?
        """,
        [limit],
    ).fetchall()
    return [RunRow(*row) for row in rows]


def feed_health(con: Connection, feed_urls: Sequence[str] | None = None) -> list[FeedHealthRow]:
    """Every feed (or those of `feed_urls`, the configured ones), failing and dead first."""
    rows = con.execute(
        """
        SELECT name, feed_url, health, consecutive_failures, failing_since, last_success_at, last_polled_at,
               last_status, last_error, next_poll_at, articles_total
        FROM feed_health
        ORDER BY consecutive_failures DESC, failing_since NULLS LAST, name, feed_url
        """
    ).fetchall()
    wanted = set(feed_urls) if feed_urls is not None else None
    return [FeedHealthRow(*row) for row in rows if wanted is None or row[1] in wanted]


def latest_alerts(con: Connection, limit: int) -> list[AlertRow]:
    rows = con.execute(
        """
        SELECT n.rule, coalesce(a.title, n.article_id), a.url, n.status, n.attempts, n.sent_at, n.updated_at
        FROM notifications AS n LEFT JOIN articles AS a USING (article_id)
        ORDER BY coalesce(n.sent_at, n.updated_at) DESC, n.rule LIMIT ?
        """,
        [limit],
    ).fetchall()
    return [AlertRow(*row) for row in rows]


def undelivered_notifications(con: Connection, max_attempts: int) -> list[PendingNotifications]:
    rows = con.execute(
        """
        SELECT rule, status, status = 'failed' AND attempts >= ? AS gave_up, count(*), max(attempts),
               max(last_error), min(created_at)
        FROM notifications WHERE status <> 'sent' GROUP BY ALL ORDER BY rule, status, gave_up
        """,
        [max_attempts],
    ).fetchall()
    return [PendingNotifications(*row) for row in rows]


SYNDICATION_SQL = """WITH RECURSIVE chain (article_id, original, depth) AS (
    SELECT article_id, duplicate_of, 1 FROM articles WHERE duplicate_of IS NOT NULL
    UNION ALL
    SELECT chain.article_id, up.duplicate_of, chain.depth + 1
    FROM chain JOIN articles AS up ON up.article_id = chain.original WHERE up.duplicate_of IS NOT NULL
)
SELECT roots.original, left(coalesce(s.title, a.title), 30) AS title, count(*) AS copies,
       list(DISTINCT c.source) AS republished_by
FROM (SELECT article_id, arg_max(original, depth) AS original FROM chain GROUP BY article_id) AS roots
JOIN articles AS c USING (article_id)
LEFT JOIN seed_documents AS s ON s.seed_id = roots.original
LEFT JOIN articles AS a ON a.article_id = roots.original
GROUP BY ALL ORDER BY copies DESC;"""
EXAMPLE_QUERIES: tuple[tuple[str, str], ...] = (
    (
        "Syndication: each original (seed or article) with how many copies were found, and where",
        SYNDICATION_SQL,
    ),
    (
        "Which platforms were mentioned with which topics in the last 7 days (originals, by seen_at)",
        "SELECT platform, topic, count(*) AS articles\n"
        "FROM articles_unique, unnest(platforms) AS p(platform), unnest(topics) AS t(topic)\n"
        "WHERE seen_at >= now() - INTERVAL 7 DAY\n"
        "GROUP BY ALL ORDER BY articles DESC, platform, topic LIMIT 12;",
    ),
    (
        "Feed health, failing feeds first",
        "SELECT coalesce(name, feed_url) AS feed, last_outcome, consecutive_failures, last_error\n"
        "FROM feeds ORDER BY consecutive_failures DESC, feed;",
    ),
)


def show_queries(warehouse: WarehouseSettings, queries: tuple[tuple[str, str], ...], max_width: int = 110) -> None:
    """Print each (title, SQL) and its result table, from a read-only connection closed afterwards."""
    with Warehouse(warehouse).session(read_only=True) as con:
        for title, sql in queries:
            print(f"\n-- {title}\n{sql}")
            con.sql(sql).show(max_width=max_width)


EXPORT_FORMATS = ("parquet", "csv")


def read_back_sql(folder: Path, table: str, fmt: str, types: Mapping[str, str]) -> str:
    """The query that reads an export back with the warehouse's column types (plus `day`). CSV carries no
    types: DuckDB writes VARCHAR[] as `[amazon, temu]` and detects the rest from the values (a day whose
    `similarity` is empty everywhere reads as VARCHAR), so the CSV query names every column's type, as
    `export_column_types` reads them from the warehouse (list elements are slugs: no commas or brackets)."""
    if fmt == "parquet":
        return f"SELECT * FROM read_parquet('{folder}/{table}/*/*.parquet', hive_partitioning = true)"
    listed = ", ".join(f"'{column}': '{kind}'" for column, kind in types.items())
    return f"SELECT * FROM read_csv('{folder}/{table}/*/*.csv', hive_partitioning = true, types = {{{listed}}})"


def export_column_types(con: Connection, table: str) -> dict[str, str]:
    """Column -> DuckDB type of an exported table, as the warehouse has them (without the `day` partition)."""
    rows = con.execute(f"DESCRIBE {_EXPORTS[table]}").fetchall()
    return {str(name): str(kind) for name, kind, *_ in rows if name != "day"}


_EXPORTS = {
    "articles": "SELECT *, CAST(coalesce(published_at, fetched_at) AS DATE) AS day FROM articles",
    "mentions": (
        "SELECT m.*, CAST(coalesce(a.published_at, a.fetched_at) AS DATE) AS day "
        "FROM mentions AS m JOIN articles AS a USING (article_id)"
    ),
}


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def export_tables(con: Connection, folder: Path, fmt: str, since: date | None) -> dict[str, int]:
    """Write articles and mentions under folder/<table>/day=YYYY-MM-DD/ as Parquet or CSV (Hive
    partitioning, so `read_parquet('…/articles/*/*.parquet', hive_partitioning = true)` reads them back
    with the same columns). Returns rows written per table."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}")
    written: dict[str, int] = {}
    for table, select in _EXPORTS.items():
        where = " WHERE CAST(coalesce(published_at, fetched_at) AS DATE) >= ?" if since else ""
        if table == "mentions" and since:
            where = " WHERE CAST(coalesce(a.published_at, a.fetched_at) AS DATE) >= ?"
        target = folder / table
        target.parent.mkdir(parents=True, exist_ok=True)
        row = con.execute(
            f"COPY ({select}{where}) TO {_sql_string(str(target))} "
            f"(FORMAT {fmt}, PARTITION_BY (day), OVERWRITE_OR_IGNORE true)",
            [since] if since else [],
        ).fetchone()
        written[table] = int(row[0]) if row else 0
    return written
