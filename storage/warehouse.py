"""The warehouse facade: one import for everything the pipeline reads and writes.

The code lives by concern: storage.connection (the lake, migrations, transactions under the writers'
lock, sidecar paths), storage.lake (attaching it), storage.coordination (writers' locks),
storage.articles, storage.feeds (feeds and runs), storage.outbox (notifications and spikes) and
storage.readmodels (status, report, export, demo queries), storage.stories (story state and read models);
storage.tables holds the column lists.
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
    ComposedMessage,
    DueNotification,
    daily_platform_counts,
    due_messages,
    due_notifications,
    enqueue_notifications,
    record_delivery,
    record_spike,
    save_message,
    spike_details,
)
from storage.readmodels import (
    EXPORT_FORMATS,
    SYNDICATION_SQL,
    Rows,
    export_tables,
    show_queries,
)
from storage.schedules import (
    entries_last_week,
    load_schedules,
    load_subscriptions,
    save_schedules,
    save_subscriptions,
    schedule_rows,
)
from storage.stories import (
    insert_story_features,
    last_story_messages,
    notified_stories,
    refresh_stories,
    stories_of,
    story_members,
    story_titles,
)

__all__ = [
    "EXPORT_FORMATS",
    "SYNDICATION_SQL",
    "ComposedMessage",
    "Connection",
    "DueNotification",
    "PollOutcome",
    "Rows",
    "Warehouse",
    "articles_after",
    "daily_platform_counts",
    "document_texts",
    "due_messages",
    "due_notifications",
    "enqueue_notifications",
    "entries_last_week",
    "export_tables",
    "feed_states",
    "finish_run",
    "index_path",
    "insert_articles",
    "insert_rows",
    "insert_story_features",
    "known_urls",
    "label_seeds",
    "last_story_messages",
    "load_schedules",
    "load_seeds",
    "load_subscriptions",
    "mark_feed_skipped",
    "mark_feeds",
    "max_seq",
    "new_articles",
    "notified_stories",
    "record_delivery",
    "record_feed_poll",
    "record_feed_polls",
    "record_spike",
    "refresh_stories",
    "save_message",
    "save_schedules",
    "save_subscriptions",
    "schedule_rows",
    "seed_texts",
    "set_run_snapshot",
    "show_queries",
    "spike_details",
    "start_run",
    "stories_of",
    "story_members",
    "story_titles",
]
