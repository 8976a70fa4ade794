"""Versioned schema. Each migration runs once, in order, inside one transaction with its version row.

Never edit a released migration: add a new one. `schema_migrations` records what a file has.
"""

from __future__ import annotations

MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "core tables",
        """
        CREATE TABLE articles (
            article_id    VARCHAR PRIMARY KEY,
            url           VARCHAR NOT NULL,
            canonical_url VARCHAR NOT NULL UNIQUE,
            feed_url      VARCHAR NOT NULL,
            source        VARCHAR,
            title         VARCHAR NOT NULL,
            text          VARCHAR NOT NULL,
            text_source   VARCHAR NOT NULL CHECK (text_source IN ('page', 'feed')),
            language      VARCHAR NOT NULL,
            published_at  TIMESTAMPTZ,
            fetched_at    TIMESTAMPTZ NOT NULL,
            content_hash  VARCHAR NOT NULL,
            platforms     VARCHAR[] NOT NULL DEFAULT [],
            topics        VARCHAR[] NOT NULL DEFAULT [],
            duplicate_of  VARCHAR,
            similarity    DOUBLE,
            run_id        VARCHAR NOT NULL
        );
        CREATE INDEX articles_content_hash ON articles (content_hash);
        CREATE TABLE seed_documents (
            seed_id      VARCHAR PRIMARY KEY,
            title        VARCHAR NOT NULL,
            text         VARCHAR NOT NULL,
            language     VARCHAR NOT NULL,
            platforms    VARCHAR[] NOT NULL DEFAULT [],
            topics       VARCHAR[] NOT NULL DEFAULT [],
            content_hash VARCHAR NOT NULL,
            loaded_at    TIMESTAMPTZ NOT NULL
        );
        CREATE TABLE mentions (
            article_id VARCHAR NOT NULL,
            platform   VARCHAR NOT NULL,
            alias      VARCHAR NOT NULL,
            field      VARCHAR NOT NULL CHECK (field IN ('title', 'text')),
            position   INTEGER NOT NULL,
            run_id     VARCHAR NOT NULL
        );
        CREATE INDEX mentions_article ON mentions (article_id);
        CREATE TABLE feeds (
            feed_url             VARCHAR PRIMARY KEY,
            name                 VARCHAR,
            title                VARCHAR,
            etag                 VARCHAR,
            last_modified        VARCHAR,
            body_hash            VARCHAR,
            last_status          INTEGER,
            last_outcome         VARCHAR,
            last_error           VARCHAR,
            last_error_kind      VARCHAR,
            last_polled_at       TIMESTAMPTZ,
            last_success_at      TIMESTAMPTZ,
            failing_since        TIMESTAMPTZ,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            next_poll_at         TIMESTAMPTZ,
            entries_last_seen    INTEGER,
            articles_total       INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE runs (
            run_id               VARCHAR PRIMARY KEY,
            flow_run_id          VARCHAR,
            started_at           TIMESTAMPTZ NOT NULL,
            finished_at          TIMESTAMPTZ,
            status               VARCHAR NOT NULL,
            feeds_total          INTEGER NOT NULL DEFAULT 0,
            feeds_ok             INTEGER NOT NULL DEFAULT 0,
            feeds_unchanged      INTEGER NOT NULL DEFAULT 0,
            feeds_failed         INTEGER NOT NULL DEFAULT 0,
            feeds_skipped        INTEGER NOT NULL DEFAULT 0,
            entries_seen         INTEGER NOT NULL DEFAULT 0,
            entries_known        INTEGER NOT NULL DEFAULT 0,
            articles_new         INTEGER NOT NULL DEFAULT 0,
            articles_duplicate   INTEGER NOT NULL DEFAULT 0,
            links_refused        INTEGER NOT NULL DEFAULT 0,
            pages_failed         INTEGER NOT NULL DEFAULT 0,
            entries_dropped      INTEGER NOT NULL DEFAULT 0,
            notifications_sent   INTEGER NOT NULL DEFAULT 0,
            notifications_failed INTEGER NOT NULL DEFAULT 0,
            error                VARCHAR
        );
        CREATE TABLE link_events (
            run_id      VARCHAR NOT NULL,
            feed_url    VARCHAR NOT NULL,
            url         VARCHAR NOT NULL,
            outcome     VARCHAR NOT NULL,
            reason      VARCHAR NOT NULL,
            recorded_at TIMESTAMPTZ NOT NULL
        );
        CREATE INDEX link_events_url ON link_events (url);
        CREATE TABLE notifications (
            rule        VARCHAR NOT NULL,
            article_id  VARCHAR NOT NULL,
            channel     VARCHAR NOT NULL,
            status      VARCHAR NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
            attempts    INTEGER NOT NULL DEFAULT 0,
            last_error  VARCHAR,
            created_at  TIMESTAMPTZ NOT NULL,
            updated_at  TIMESTAMPTZ NOT NULL,
            sent_at     TIMESTAMPTZ,
            run_id      VARCHAR,
            PRIMARY KEY (rule, article_id, channel)
        );
        """,
    ),
)

MIGRATIONS += (
    (
        2,
        "article sequence numbers (the near-duplicate index's high-water mark)",
        """
        ALTER TABLE articles ADD COLUMN seq BIGINT;
        UPDATE articles SET seq = numbered.n
        FROM (SELECT article_id, row_number() OVER (ORDER BY fetched_at, article_id) AS n FROM articles) AS numbered
        WHERE articles.article_id = numbered.article_id;
        """,
    ),
    # DuckDB cannot create an index in the transaction that updated the table: a migration of its own.
    (3, "index on article sequence numbers", "CREATE INDEX articles_seq ON articles (seq);"),
    (
        4,
        "platform spikes (their notifications are outbox rows with article_id 'spike:<platform>:<day>')",
        """
        CREATE TABLE spikes (
            rule        VARCHAR NOT NULL,
            platform    VARCHAR NOT NULL,
            day         DATE NOT NULL,
            count       INTEGER NOT NULL,
            mean        DOUBLE NOT NULL,
            stdev       DOUBLE NOT NULL,
            detected_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (rule, platform, day)
        );
        """,
    ),
)

LATEST_VERSION = MIGRATIONS[-1][0]
