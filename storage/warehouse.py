"""Every read and write of the DuckDB warehouse. SQL is parameterised; identifiers are our own constants.

DuckDB allows one writer process: the pass opens the file for short sessions (one transaction per batch)
and closes it in between, so analysts can open it read-only between batches.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from alerts.messages import DigestItem
from extractors.seeds import SeedDocument
from newsmon.records import PERMANENT_LINK_OUTCOMES, Article, FeedPoll, LinkEvent, PassSummary
from storage.schema import LATEST_VERSION, MIGRATIONS

_ROWS_PER_STATEMENT = 200
_ARTICLE_COLUMNS = (
    "article_id",
    "url",
    "canonical_url",
    "feed_url",
    "source",
    "title",
    "text",
    "text_source",
    "language",
    "published_at",
    "fetched_at",
    "content_hash",
    "platforms",
    "topics",
    "duplicate_of",
    "similarity",
    "run_id",
    "tags",
)


class WarehouseError(Exception):
    """The warehouse file cannot be used (locked too long, read-only, disk full, newer schema)."""


@dataclass(frozen=True)
class FeedState:
    feed_url: str
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    next_poll_at: datetime | None
    consecutive_failures: int


def insert_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    skip_existing: bool = False,
) -> None:
    """Multi-row INSERT in chunks (much faster than executemany in DuckDB); `skip_existing` leaves rows
    whose key is already stored as they are (ON CONFLICT DO NOTHING)."""
    placeholder = "(" + ", ".join("?" * len(columns)) + ")"
    conflict = " ON CONFLICT DO NOTHING" if skip_existing else ""
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        chunk = rows[start : start + _ROWS_PER_STATEMENT]
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES " + ", ".join([placeholder] * len(chunk))
        con.execute(sql + conflict, [value for row in chunk for value in row])


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    )
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    current = int(row[0]) if row else 0
    if current > LATEST_VERSION:
        raise WarehouseError(
            f"warehouse schema version {current} is newer than this newsmon ({LATEST_VERSION}): upgrade newsmon"
        )
    for version, name, sql in MIGRATIONS:
        if version <= current:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise


class Warehouse:
    """A DuckDB warehouse file. Sessions are short; `lock_wait_seconds` bounds waiting for another writer."""

    def __init__(self, path: Path, lock_wait_seconds: float = 120.0) -> None:
        self.path = path
        self.lock_wait_seconds = lock_wait_seconds

    def _connect(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + self.lock_wait_seconds
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.IOException as exc:
                message = str(exc)
                if "lock" not in message.lower() or time.monotonic() > deadline:
                    raise WarehouseError(f"cannot open warehouse {self.path}: {message}") from exc
                time.sleep(0.2)

    @contextmanager
    def session(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.path.exists():
            raise WarehouseError(f"warehouse {self.path} does not exist yet: run `newsmon run` first")
        con = self._connect(read_only)
        try:
            if not read_only:
                _migrate(con)
            yield con
        finally:
            con.close()

    @contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection on the current schema: pending migrations are applied first (a short
        write session), so tools reading an older file still find today's views."""
        if not self.path.exists():
            raise WarehouseError(f"warehouse {self.path} does not exist yet: run `newsmon run` first")
        with self.session():
            pass
        with self.session(read_only=True) as con:
            yield con

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing. A write the disk refuses (full, read-only, file-size limit) is a WarehouseError
        that says so; the transaction is rolled back and nothing of it is in the file."""
        with self.session() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
                con.execute("COMMIT")
            except duckdb.Error as exc:
                _rollback_quietly(con)
                if not _is_storage_failure(exc):
                    raise
                raise WarehouseError(
                    f"cannot write warehouse {self.path} (disk full or read-only?): {exc}; "
                    "this batch was not stored and will be retried by the next pass"
                ) from exc
            except BaseException:
                _rollback_quietly(con)
                raise


def _is_storage_failure(exc: duckdb.Error) -> bool:
    """The disk refused a write (full, read-only, size limit), as opposed to a bug or a constraint."""
    if isinstance(exc, duckdb.IOException | duckdb.FatalException | duckdb.OutOfMemoryException):
        return True
    return isinstance(exc, duckdb.TransactionException) and "could not write" in str(exc).lower()


def _rollback_quietly(con: duckdb.DuckDBPyConnection) -> None:
    # A failed COMMIT has already ended the transaction, or the database was invalidated: nothing to undo.
    with contextlib.suppress(duckdb.Error):
        con.execute("ROLLBACK")


def load_seeds(con: duckdb.DuckDBPyConnection, seeds: Sequence[SeedDocument], now: datetime) -> int:
    """Insert seeds not yet in `seed_documents` (idempotent). Returns how many were added."""
    existing = {row[0] for row in con.execute("SELECT seed_id FROM seed_documents").fetchall()}
    rows: list[tuple[Any, ...]] = [
        (s.seed_id, s.title, s.text, s.language, [], [], s.content_hash, now)
        for s in seeds
        if s.seed_id not in existing
    ]
    columns = ("seed_id", "title", "text", "language", "platforms", "topics", "content_hash", "loaded_at")
    insert_rows(con, "seed_documents", columns, rows)
    return len(rows)


def label_seeds(con: duckdb.DuckDBPyConnection, labels: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]) -> None:
    """Set seeds' platforms/topics (every pass: a taxonomy change in the config shows on the next run)."""
    for seed_id, (platforms, topics) in labels.items():
        con.execute(
            "UPDATE seed_documents SET platforms = ?, topics = ? WHERE seed_id = ? "
            "AND (platforms <> ?::VARCHAR[] OR topics <> ?::VARCHAR[])",
            [list(platforms), list(topics), seed_id, list(platforms), list(topics)],
        )


def feed_states(con: duckdb.DuckDBPyConnection) -> dict[str, FeedState]:
    rows = con.execute(
        "SELECT feed_url, etag, last_modified, body_hash, next_poll_at, consecutive_failures FROM feeds"
    ).fetchall()
    return {row[0]: FeedState(*row) for row in rows}


def known_urls(con: duckdb.DuckDBPyConnection, canonical_urls: Sequence[str]) -> set[str]:
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


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, flow_run_id: str | None, now: datetime) -> int:
    """Record a new run; runs left 'running' by a killed pass are marked 'aborted'. Returns how many."""
    aborted = con.execute(
        "UPDATE runs SET status = 'aborted', finished_at = ?, error = 'pass ended before finishing' "
        "WHERE status = 'running' RETURNING run_id",
        [now],
    ).fetchall()
    con.execute(
        "INSERT INTO runs (run_id, flow_run_id, started_at, status) VALUES (?, ?, ?, 'running')",
        [run_id, flow_run_id, now],
    )
    return len(aborted)


def finish_run(con: duckdb.DuckDBPyConnection, summary: PassSummary, now: datetime, error: str | None) -> None:
    con.execute(
        """UPDATE runs SET finished_at = ?, status = ?, feeds_total = ?, feeds_ok = ?, feeds_unchanged = ?,
               feeds_failed = ?, feeds_skipped = ?, entries_seen = ?, entries_known = ?, articles_new = ?,
               articles_duplicate = ?, links_refused = ?, pages_failed = ?, entries_dropped = ?,
               notifications_sent = ?, notifications_failed = ?, error = ?
           WHERE run_id = ?""",
        [
            now,
            summary.status,
            summary.feeds_total,
            summary.feeds_ok,
            summary.feeds_unchanged,
            summary.feeds_failed,
            summary.feeds_skipped,
            summary.entries_seen,
            summary.entries_known,
            summary.articles_new,
            summary.articles_duplicate,
            summary.links_refused,
            summary.pages_failed,
            summary.entries_dropped,
            summary.notifications_sent,
            summary.notifications_failed,
            error,
            summary.run_id,
        ],
    )


def record_feed_poll(
    con: duckdb.DuckDBPyConnection,
    poll: FeedPoll,
    now: datetime,
    next_poll_at: datetime | None,
    failures: int,
    title: str | None,
) -> None:
    """Upsert the feed's row: validators and hash only move on success; failures accumulate until one."""
    ok = poll.outcome in ("ok", "unchanged")
    con.execute(
        """INSERT INTO feeds (feed_url, name, title, etag, last_modified, body_hash, last_status, last_outcome,
                              last_error, last_error_kind, last_polled_at, last_success_at, failing_since,
                              consecutive_failures, next_poll_at, entries_last_seen)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (feed_url) DO UPDATE SET
               name = excluded.name,
               title = coalesce(excluded.title, feeds.title),
               etag = CASE WHEN ? THEN excluded.etag ELSE feeds.etag END,
               last_modified = CASE WHEN ? THEN excluded.last_modified ELSE feeds.last_modified END,
               body_hash = CASE WHEN ? THEN coalesce(excluded.body_hash, feeds.body_hash) ELSE feeds.body_hash END,
               last_status = excluded.last_status,
               last_outcome = excluded.last_outcome,
               last_error = excluded.last_error,
               last_error_kind = excluded.last_error_kind,
               last_polled_at = excluded.last_polled_at,
               last_success_at = coalesce(excluded.last_success_at, feeds.last_success_at),
               failing_since = CASE WHEN ? THEN NULL ELSE coalesce(feeds.failing_since, excluded.failing_since) END,
               consecutive_failures = excluded.consecutive_failures,
               next_poll_at = excluded.next_poll_at,
               entries_last_seen = coalesce(excluded.entries_last_seen, feeds.entries_last_seen)""",
        [
            poll.feed_url,
            poll.name,
            title,
            poll.etag,
            poll.last_modified,
            poll.body_hash,
            poll.status,
            poll.outcome,
            poll.error,
            poll.error_kind,
            now,
            now if ok else None,
            None if ok else now,
            failures,
            next_poll_at,
            len(poll.entries) if poll.outcome == "ok" else None,
            ok,
            ok,
            ok,
            ok,
        ],
    )


def mark_feed_skipped(
    con: duckdb.DuckDBPyConnection, feed_url: str, name: str, kind: str = "feed", tags: Sequence[str] = ()
) -> None:
    """Make sure the configured feed has a row, with its current name, kind and tags."""
    con.execute(
        """INSERT INTO feeds (feed_url, name, kind, tags) VALUES (?, ?, ?, ?) ON CONFLICT (feed_url)
           DO UPDATE SET name = excluded.name, kind = excluded.kind, tags = excluded.tags""",
        [feed_url, name, kind, list(tags)],
    )


def new_articles(con: duckdb.DuckDBPyConnection, articles: Sequence[Article]) -> list[Article]:
    """The articles whose canonical URL is not stored yet, first occurrence in the batch only."""
    known = known_urls(con, [a.canonical_url for a in articles])
    fresh: dict[str, Article] = {}
    for article in articles:
        if article.canonical_url not in known and article.canonical_url not in fresh:
            fresh[article.canonical_url] = article
    return list(fresh.values())


def max_seq(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT coalesce(max(seq), 0) FROM articles").fetchone()
    return int(row[0]) if row else 0


def insert_articles(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    articles: Sequence[Article],
    events: Sequence[LinkEvent],
    now: datetime,
) -> int:
    """Insert new articles (numbered after the last `seq`), their mentions and the batch's link events, in
    the caller's transaction. Returns the highest `seq` now stored."""
    first = max_seq(con) + 1
    rows = [(*_article_row(a, run_id), first + i) for i, a in enumerate(articles)]
    insert_rows(con, "articles", (*_ARTICLE_COLUMNS, "seq"), rows)
    mention_rows = [
        (a.article_id, m.platform, m.alias, m.field, m.position, run_id) for a in articles for m in a.mentions
    ]
    insert_rows(con, "mentions", ("article_id", "platform", "alias", "field", "position", "run_id"), mention_rows)
    event_rows = [(run_id, e.feed_url, e.url, e.outcome, e.reason, now) for e in events]
    insert_rows(con, "link_events", ("run_id", "feed_url", "url", "outcome", "reason", "recorded_at"), event_rows)
    for feed_url, count in _count_by_feed(articles).items():
        con.execute("UPDATE feeds SET articles_total = articles_total + ? WHERE feed_url = ?", [count, feed_url])
    return first + len(articles) - 1


SEED_PREFIX = "seed:"
ARTICLE_PREFIX = "article:"


def document_texts(con: duckdb.DuckDBPyConnection, doc_ids: Sequence[str]) -> dict[str, str]:
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


def articles_after(con: duckdb.DuckDBPyConnection, seq: int, limit: int) -> list[tuple[int, str, str, str]]:
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


def _article_row(a: Article, run_id: str) -> tuple[Any, ...]:
    return (
        a.article_id,
        a.url,
        a.canonical_url,
        a.feed_url,
        a.source,
        a.title,
        a.text,
        a.text_source,
        a.language,
        a.published_at,
        a.fetched_at,
        a.content_hash,
        list(a.platforms),
        list(a.topics),
        a.duplicate_of,
        a.similarity,
        run_id,
        list(a.tags),
    )


@dataclass(frozen=True)
class DueNotification:
    """An outbox row to deliver, with the article as the digest shows it."""

    rule: str
    channel: str
    attempts: int
    item: DigestItem

    @property
    def article_id(self) -> str:
        return self.item.article_id


def enqueue_notifications(
    con: duckdb.DuckDBPyConnection, keys: Sequence[tuple[str, str, str]], run_id: str, now: datetime
) -> int:
    """Outbox rows ('pending') for (rule, article_id, channel) keys not queued before. Returns how many."""
    before = con.execute("SELECT count(*) FROM notifications").fetchone()
    rows = [(rule, article, channel, "pending", 0, now, now, run_id) for rule, article, channel in keys]
    columns = ("rule", "article_id", "channel", "status", "attempts", "created_at", "updated_at", "run_id")
    insert_rows(con, "notifications", columns, rows, skip_existing=True)
    after = con.execute("SELECT count(*) FROM notifications").fetchone()
    return int(after[0]) - int(before[0]) if after and before else 0


def due_notifications(con: duckdb.DuckDBPyConnection, max_attempts: int) -> list[DueNotification]:
    """Pending rows and failed rows still under the attempt cap, with what the digest shows, oldest first."""
    rows = con.execute(
        """SELECT n.rule, n.article_id, n.channel, n.attempts, coalesce(a.title, ''), coalesce(a.canonical_url, ''),
                  coalesce(a.source, ''), coalesce(a.language, ''), coalesce(a.platforms, []),
                  coalesce(a.topics, []), a.duplicate_of
           FROM notifications n LEFT JOIN articles a USING (article_id)
           WHERE n.status = 'pending' OR (n.status = 'failed' AND n.attempts < ?)
           ORDER BY n.created_at, n.rule, n.channel, a.seq NULLS LAST, n.article_id""",
        [max_attempts],
    ).fetchall()
    return [
        DueNotification(r[0], r[2], r[3], DigestItem(r[1], r[4], r[5], r[6], r[7], tuple(r[8]), tuple(r[9]), r[10]))
        for r in rows
    ]


def record_delivery(
    con: duckdb.DuckDBPyConnection, keys: Sequence[tuple[str, str, str]], error: str | None, now: datetime
) -> None:
    """Mark outbox rows sent (error None) or failed with the error; attempts count either way."""
    for rule, article, channel in keys:
        con.execute(
            """UPDATE notifications SET status = ?, attempts = attempts + 1, last_error = ?, updated_at = ?,
                   sent_at = CASE WHEN ? THEN ? ELSE sent_at END
               WHERE rule = ? AND article_id = ? AND channel = ?""",
            ["sent" if error is None else "failed", error, now, error is None, now, rule, article, channel],
        )


def daily_platform_counts(con: duckdb.DuckDBPyConnection, since: datetime) -> dict[str, dict[date, int]]:
    """Originals per platform per UTC day (by fetch time) since `since`."""
    rows = con.execute(
        """SELECT platform, CAST(timezone('UTC', fetched_at) AS DATE) AS day, count(*)
           FROM articles, unnest(platforms) AS p(platform)
           WHERE duplicate_of IS NULL AND fetched_at >= ? GROUP BY ALL""",
        [since],
    ).fetchall()
    counts: dict[str, dict[date, int]] = {}
    for platform, day, count in rows:
        counts.setdefault(platform, {})[day] = int(count)
    return counts


SPIKE_PREFIX = "spike:"


def record_spike(
    con: duckdb.DuckDBPyConnection,
    rule: str,
    platform: str,
    day: date,
    count: int,
    mean: float,
    stdev: float,
    now: datetime,
) -> bool:
    """Remember a spike once per (rule, platform, day). Returns False when it was already recorded."""
    existing = con.execute(
        "SELECT 1 FROM spikes WHERE rule = ? AND platform = ? AND day = ?", [rule, platform, day]
    ).fetchone()
    if existing:
        return False
    con.execute("INSERT INTO spikes VALUES (?, ?, ?, ?, ?, ?, ?)", [rule, platform, day, count, mean, stdev, now])
    return True


def spike_details(con: duckdb.DuckDBPyConnection, rule: str, key: str) -> tuple[str, date, int, float, float] | None:
    """(platform, day, count, mean, stdev) for an outbox key 'spike:<platform>:<day>'."""
    platform, _, day = key.removeprefix(SPIKE_PREFIX).rpartition(":")
    row = con.execute(
        "SELECT platform, day, count, mean, stdev FROM spikes WHERE rule = ? AND platform = ? AND day = ?",
        [rule, platform, day],
    ).fetchone()
    return (row[0], row[1], int(row[2]), float(row[3]), float(row[4])) if row else None


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


def export_tables(con: duckdb.DuckDBPyConnection, folder: Path, fmt: str, since: date | None) -> dict[str, int]:
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
