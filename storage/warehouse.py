"""The warehouse facade: one import for everything the pipeline reads and writes.

The code lives by concern: storage.connection (the lake, migrations, transactions under the writers'
lock, sidecar paths), storage.lake (attaching it), storage.coordination (writers' locks),
storage.articles, storage.feeds (feeds and runs), storage.outbox (notifications and spikes) and
storage.readmodels (status, report, export, demo queries); storage.tables holds the column lists.
"""

from __future__ import annotations

from storage.articles import (
    articles_after,
    document_texts,
    insert_articles,
    known_urls,
    label_seeds,
    load_seeds,
    max_seq,
    new_articles,
    seed_texts,
)
from storage.connection import (
    Connection,
    Warehouse,
    index_path,
    insert_rows,
)
from storage.feeds import (
    PollOutcome,
    feed_states,
    finish_run,
    mark_feed_skipped,
    mark_feeds,
    record_feed_poll,
    record_feed_polls,
    set_run_snapshot,
    start_run,
)
from storage.outbox import (
    DueNotification,
    daily_platform_counts,
    due_notifications,
    enqueue_notifications,
    record_delivery,
    record_spike,
    spike_details,
)
from storage.readmodels import (
    EXPORT_FORMATS,
    SYNDICATION_SQL,
    Rows,
    export_tables,
    report_rows,
    show_queries,
    status_rows,
)

__all__ = [
    "EXPORT_FORMATS",
    "SYNDICATION_SQL",
    "Connection",
    "DueNotification",
    "PollOutcome",
    "Rows",
    "Warehouse",
    "articles_after",
    "daily_platform_counts",
    "document_texts",
    "due_notifications",
    "enqueue_notifications",
    "export_tables",
    "feed_states",
    "finish_run",
    "index_path",
    "insert_articles",
    "insert_rows",
    "known_urls",
    "label_seeds",
    "load_seeds",
    "mark_feed_skipped",
    "mark_feeds",
    "max_seq",
    "new_articles",
    "record_delivery",
    "record_feed_poll",
    "record_feed_polls",
    "record_spike",
    "report_rows",
    "seed_texts",
    "set_run_snapshot",
    "show_queries",
    "spike_details",
    "start_run",
    "status_rows",
]
