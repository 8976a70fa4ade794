"""Read models: the queries behind `status`, `report`, `export` and the demo's example queries.

Each function takes a connection from `Warehouse.reader()` and returns plain rows; rendering is the
application's business (newsmon/status.py, newsmon/report.py, newsmon/demo.py).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from core.settings import WarehouseSettings
from storage.connection import Connection, Warehouse

Rows = list[tuple[Any, ...]]

_FEEDS_SQL = """
SELECT CASE WHEN health = 'ok' THEN health WHEN health = 'never polled' THEN 'NEW' ELSE upper(health) END,
       name, feed_url, consecutive_failures, failing_since, last_success_at, last_error, next_poll_at,
       articles_total
FROM feed_health
ORDER BY consecutive_failures DESC, failing_since NULLS LAST, feed_url
"""
_RUNS_SQL = """
SELECT run_id, started_at, finished_at, status, feeds_ok, feeds_failed, articles_new, articles_duplicate,
       links_refused, pages_failed, error
FROM runs ORDER BY started_at DESC LIMIT 5
"""
_NOTIFY_SQL = """
SELECT rule,
       CASE WHEN status = 'failed' AND attempts >= ? THEN 'gave up after ' || attempts || ' attempts'
            WHEN status = 'failed' THEN 'failed, will be retried on the next pass'
            ELSE status END AS state,
       count(*), max(last_error), min(created_at)
FROM notifications WHERE status <> 'sent' GROUP BY ALL ORDER BY rule, state
"""


def status_rows(con: Connection, max_attempts: int) -> tuple[Rows, Rows, Rows]:
    """(feeds, last runs, undelivered notifications) as `newsmon status` shows them."""
    feeds = con.execute(_FEEDS_SQL).fetchall()
    runs = con.execute(_RUNS_SQL).fetchall()
    pending = con.execute(_NOTIFY_SQL, [max_attempts]).fetchall()
    return feeds, runs, pending


def report_rows(con: Connection, since: datetime) -> dict[str, Rows]:
    """Every table and chart series of `newsmon report`, for the days since `since`."""
    queries = {
        "platform_days": (
            "SELECT day, platform, sum(articles) FROM mentions_daily WHERE day >= CAST(? AS DATE) "
            "GROUP BY ALL ORDER BY day",
            [since],
        ),
        "topic_mix": (
            "SELECT platform, topic, sum(articles) FROM mentions_daily WHERE day >= CAST(? AS DATE) GROUP BY ALL",
            [since],
        ),
        "languages": (
            "SELECT language, count(*) FROM articles_unique WHERE seen_at >= ? GROUP BY ALL ORDER BY 2 DESC",
            [since],
        ),
        "syndicated": (
            "SELECT left(title, 80), original_kind, copies, array_to_string(copied_by, ', ') "
            "FROM syndication ORDER BY copies DESC, last_copy_at DESC LIMIT 10",
            [],
        ),
        "failing": (
            "SELECT name, health, failing_since, last_error FROM feed_health "
            "WHERE health IN ('failing', 'dead') ORDER BY consecutive_failures DESC",
            [],
        ),
        "alerts": (
            "SELECT n.sent_at, n.rule, left(coalesce(a.title, n.article_id), 80), n.status, n.attempts "
            "FROM notifications n LEFT JOIN articles a USING (article_id) "
            "ORDER BY coalesce(n.sent_at, n.updated_at) DESC LIMIT 20",
            [],
        ),
        "totals": (
            "SELECT count(*) FILTER (WHERE duplicate_of IS NULL), count(*) FILTER (WHERE duplicate_of IS NOT NULL), "
            "count(DISTINCT feed_url) FROM articles WHERE fetched_at >= ?",
            [since],
        ),
    }
    return {name: con.execute(sql, params).fetchall() for name, (sql, params) in queries.items()}


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
        "Which platforms were mentioned with which topics this week (originals only)",
        "SELECT platform, topic, count(*) AS articles\n"
        "FROM articles, unnest(platforms) AS p(platform), unnest(topics) AS t(topic)\n"
        "WHERE duplicate_of IS NULL AND fetched_at >= now() - INTERVAL 7 DAY\n"
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
