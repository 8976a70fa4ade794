"""Versioned schema. Each migration runs once, in order, inside one transaction with its version row.

Never edit a released migration: add a new one. `schema_migrations` records what a warehouse has.

The warehouse is a DuckLake, which has no PRIMARY KEY, UNIQUE or CHECK constraints, no indexes and no
defaults for list columns: the keys noted in comments are kept by the writers (storage.coordination).
Versions 1-5 create the same tables and views as the single-file warehouse of earlier releases at schema
version 5 (without the constraints), so `newsmon migrate` loads such a warehouse table by table and then
applies the versions after 5.

To add a table or a column, append a version: `CREATE TABLE …` (no PRIMARY KEY/UNIQUE/CHECK/index, no
DEFAULT for a list column), `ALTER TABLE … ADD COLUMN …`, `CREATE OR REPLACE VIEW …`. Keep a key unique
by writing inside `Warehouse.transaction()` (it holds the writers' lock) with
`insert_rows(…, unique_by=(key columns))` or a `MERGE INTO … ON key`, never `ON CONFLICT`.
"""

from __future__ import annotations

MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "core tables",
        """
        CREATE TABLE articles (
            article_id    VARCHAR NOT NULL,  -- key
            url           VARCHAR NOT NULL,
            canonical_url VARCHAR NOT NULL,  -- unique
            feed_url      VARCHAR NOT NULL,
            source        VARCHAR,
            title         VARCHAR NOT NULL,
            text          VARCHAR NOT NULL,
            text_source   VARCHAR NOT NULL,  -- 'page' | 'feed'
            language      VARCHAR NOT NULL,
            published_at  TIMESTAMPTZ,
            fetched_at    TIMESTAMPTZ NOT NULL,
            content_hash  VARCHAR NOT NULL,
            platforms     VARCHAR[] NOT NULL,
            topics        VARCHAR[] NOT NULL,
            duplicate_of  VARCHAR,
            similarity    DOUBLE,
            run_id        VARCHAR NOT NULL
        );
        CREATE TABLE seed_documents (
            seed_id      VARCHAR NOT NULL,  -- key
            title        VARCHAR NOT NULL,
            text         VARCHAR NOT NULL,
            language     VARCHAR NOT NULL,
            platforms    VARCHAR[] NOT NULL,
            topics       VARCHAR[] NOT NULL,
            content_hash VARCHAR NOT NULL,
            loaded_at    TIMESTAMPTZ NOT NULL
        );
        CREATE TABLE mentions (
            article_id VARCHAR NOT NULL,
            platform   VARCHAR NOT NULL,
            alias      VARCHAR NOT NULL,
            field      VARCHAR NOT NULL,  -- 'title' | 'text'
            position   INTEGER NOT NULL,
            run_id     VARCHAR NOT NULL
        );
        CREATE TABLE feeds (
            feed_url             VARCHAR NOT NULL,  -- key
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
            run_id               VARCHAR NOT NULL,  -- key
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
        CREATE TABLE notifications (
            rule        VARCHAR NOT NULL,
            article_id  VARCHAR NOT NULL,
            channel     VARCHAR NOT NULL,
            status      VARCHAR NOT NULL,  -- 'pending' | 'sent' | 'failed'
            attempts    INTEGER NOT NULL DEFAULT 0,
            last_error  VARCHAR,
            created_at  TIMESTAMPTZ NOT NULL,
            updated_at  TIMESTAMPTZ NOT NULL,
            sent_at     TIMESTAMPTZ,
            run_id      VARCHAR  -- key: (rule, article_id, channel)
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
    # Was an index on articles.seq in the single-file warehouse; a DuckLake has no indexes (its Parquet
    # files carry min/max statistics per column instead). Kept as a version so the numbering stays.
    (3, "index on article sequence numbers (none in a DuckLake)", "SELECT 1;"),
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
            detected_at TIMESTAMPTZ NOT NULL  -- key: (rule, platform, day)
        );
        """,
    ),
)

_VIEWS = """
CREATE OR REPLACE VIEW articles_unique AS
SELECT article_id, url, canonical_url, feed_url, source, title, text, text_source, language, published_at,
       fetched_at, coalesce(published_at, fetched_at) AS seen_at, platforms, topics, content_hash, run_id
FROM articles WHERE duplicate_of IS NULL;
COMMENT ON VIEW articles_unique IS
    'Original articles only (duplicate_of IS NULL): one row per story. seen_at: published_at when the source '
    'gave one, else fetched_at; platforms: slugs mentioned in the cleaned title or body; topics: slugs whose '
    'evidence passed the threshold.';

CREATE OR REPLACE VIEW mentions_daily AS
SELECT CAST(seen_at AS DATE) AS day, platform, topic, language, count(*) AS articles
FROM articles_unique,
     unnest(platforms) AS p(platform),
     unnest(CASE WHEN len(topics) = 0 THEN ['(none)'] ELSE topics END) AS t(topic)
GROUP BY ALL;
COMMENT ON VIEW mentions_daily IS
    'Original articles per day x platform x topic x language; an article with two platforms and two topics '
    'counts in four rows; topic (none) when it has no topic. day: of seen_at (published, else fetched) in '
    'the session time zone; articles: how many original articles.';

CREATE OR REPLACE VIEW syndication AS
WITH RECURSIVE chain (article_id, original, depth) AS (
    SELECT article_id, duplicate_of, 1 FROM articles WHERE duplicate_of IS NOT NULL
    UNION ALL
    SELECT chain.article_id, up.duplicate_of, chain.depth + 1
    FROM chain JOIN articles AS up ON up.article_id = chain.original WHERE up.duplicate_of IS NOT NULL
),
roots AS (SELECT article_id, arg_max(original, depth) AS original FROM chain GROUP BY article_id)
SELECT roots.original,
       CASE WHEN s.seed_id IS NOT NULL THEN 'seed' ELSE 'article' END AS original_kind,
       coalesce(s.title, o.title) AS title,
       o.url AS original_url,
       count(*) AS copies,
       list(DISTINCT c.source ORDER BY c.source) AS copied_by,
       list(c.url ORDER BY c.fetched_at) AS copy_urls,
       min(c.fetched_at) AS first_copy_at,
       max(c.fetched_at) AS last_copy_at
FROM roots
JOIN articles AS c USING (article_id)
LEFT JOIN seed_documents AS s ON s.seed_id = roots.original
LEFT JOIN articles AS o ON o.article_id = roots.original
GROUP BY ALL;
COMMENT ON VIEW syndication IS
    'Each original (seed or article) that was re-published, with its copies; follows duplicate_of chains. '
    'original: seed_documents.seed_id or articles.article_id; copies: stored articles copying it (directly '
    'or through other copies); copied_by: sources (site or feed names) that carried a copy.';

CREATE OR REPLACE VIEW feed_health AS
SELECT feed_url, coalesce(name, feed_url) AS name,
       CASE WHEN last_polled_at IS NULL THEN 'never polled'
            WHEN consecutive_failures >= 6 THEN 'dead'
            WHEN consecutive_failures > 0 THEN 'failing'
            ELSE 'ok' END AS health,
       consecutive_failures, failing_since, last_success_at, last_polled_at, last_status, last_error,
       last_error_kind, next_poll_at, articles_total
FROM feeds;
COMMENT ON VIEW feed_health IS
    'One row per feed: health (ok / failing / dead from 6 weighted failures / never polled) and since when. '
    'consecutive_failures: weighted failures since the last success (transient 1, permanent 2); '
    'failing_since: first failure of the current streak (NULL when ok); next_poll_at: when the feed is due '
    'again (back-off, ttl, max-age, Retry-After), NULL: at the next run.';
"""

MIGRATIONS += ((5, "analyst views: articles_unique, mentions_daily, syndication, feed_health", _VIEWS),)

MIGRATIONS += (
    (
        6,
        "runs.snapshot_id: the DuckLake snapshot a pass's last write produced (query the lake as of a pass)",
        """
        ALTER TABLE runs ADD COLUMN snapshot_id BIGINT;
        COMMENT ON COLUMN runs.snapshot_id IS
            'DuckLake snapshot of the last write of this pass: SELECT ... FROM articles AT (VERSION => snapshot_id)';
        """,
    ),
)

# Sources (OPML, sitemaps, tags). A DuckLake list column has no DEFAULT: rows written before this version
# read NULL tags, the writers always give a list, the views show an empty list.
_SOURCES = """
ALTER TABLE articles ADD COLUMN tags VARCHAR[];
ALTER TABLE feeds ADD COLUMN kind VARCHAR DEFAULT 'feed';
ALTER TABLE feeds ADD COLUMN tags VARCHAR[];
COMMENT ON COLUMN articles.tags IS 'Tags of the source the article came from (config tags: or OPML categories).';
COMMENT ON COLUMN feeds.kind IS 'feed (RSS, Atom, JSON Feed) or sitemap (a news sitemap or sitemap index).';
COMMENT ON COLUMN feeds.tags IS 'The source''s tags as last configured.';

CREATE OR REPLACE VIEW articles_unique AS
SELECT article_id, url, canonical_url, feed_url, source, title, text, text_source, language, published_at,
       fetched_at, coalesce(published_at, fetched_at) AS seen_at, platforms, topics, content_hash, run_id,
       coalesce(tags, []) AS tags
FROM articles WHERE duplicate_of IS NULL;
COMMENT ON VIEW articles_unique IS
    'Original articles only (duplicate_of IS NULL): one row per story. seen_at: published_at when the source '
    'gave one, else fetched_at; platforms: slugs mentioned in the cleaned title or body; topics: slugs whose '
    'evidence passed the threshold; tags: tags of the source the article came from.';

CREATE OR REPLACE VIEW feed_health AS
SELECT feed_url, coalesce(name, feed_url) AS name,
       CASE WHEN last_polled_at IS NULL THEN 'never polled'
            WHEN consecutive_failures >= 6 THEN 'dead'
            WHEN consecutive_failures > 0 THEN 'failing'
            ELSE 'ok' END AS health,
       consecutive_failures, failing_since, last_success_at, last_polled_at, last_status, last_error,
       last_error_kind, next_poll_at, articles_total, coalesce(kind, 'feed') AS kind, coalesce(tags, []) AS tags
FROM feeds;
COMMENT ON VIEW feed_health IS
    'One row per feed: health (ok / failing / dead from 6 weighted failures / never polled) and since when. '
    'consecutive_failures: weighted failures since the last success (transient 1, permanent 2); '
    'failing_since: first failure of the current streak (NULL when ok); next_poll_at: when the feed is due '
    'again (back-off, ttl, max-age, Retry-After), NULL: at the next run; kind: feed or sitemap; tags: the '
    'source''s tags.';
"""

MIGRATIONS += ((7, "sources: articles.tags, feeds.kind and feeds.tags, shown by the views", _SOURCES),)

# Stories. Keys (kept by the writers): stories.story_id, story_features.article_id.
_STORIES = """
ALTER TABLE articles ADD COLUMN story_id VARCHAR;
ALTER TABLE notifications ADD COLUMN kind VARCHAR DEFAULT 'article';
CREATE TABLE stories (
    story_id         VARCHAR NOT NULL,  -- key
    first_seen       TIMESTAMPTZ NOT NULL,
    last_seen        TIMESTAMPTZ NOT NULL,
    title            VARCHAR NOT NULL,
    first_article_id VARCHAR NOT NULL,
    first_url        VARCHAR NOT NULL,
    languages        VARCHAR[] NOT NULL,
    platforms        VARCHAR[] NOT NULL,
    topics           VARCHAR[] NOT NULL,
    article_count    INTEGER NOT NULL,
    source_count     INTEGER NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE TABLE story_features (
    article_id  VARCHAR NOT NULL,  -- key
    story_id    VARCHAR NOT NULL,
    seen_at     TIMESTAMPTZ NOT NULL,
    embedding   FLOAT[] NOT NULL,
    periods     VARCHAR[] NOT NULL,
    figures     VARCHAR[] NOT NULL,
    title_grams VARCHAR[] NOT NULL
);
"""

_STORY_VIEWS = """
CREATE OR REPLACE VIEW top_stories_daily AS
WITH daily AS (
    SELECT CAST(coalesce(a.published_at, a.fetched_at) AS DATE) AS day, a.story_id,
           count(*) AS articles, count(DISTINCT a.source) AS source_count,
           list(DISTINCT a.source ORDER BY a.source) AS sources,
           list(DISTINCT a.language ORDER BY a.language) AS languages
    FROM articles AS a WHERE a.story_id IS NOT NULL
    GROUP BY ALL
)
SELECT d.day, row_number() OVER (PARTITION BY d.day ORDER BY d.source_count DESC, d.articles DESC, s.first_seen,
                                 s.story_id) AS rank,
       d.story_id, s.title, d.articles, d.source_count, d.sources, d.languages, s.first_seen, s.first_url,
       s.article_count AS articles_total
FROM daily AS d JOIN stories AS s USING (story_id);
COMMENT ON VIEW top_stories_daily IS
    'Stories per day (of published, else fetched time) ranked by how many sources, then articles, carried '
    'them. rank: 1 = the story most sources reported that day; articles: articles of the story that day '
    '(duplicates included); sources: sources (site or feed names) that carried it that day; languages: '
    'languages it was reported in that day; first_url: URL of the earliest article of the story.';
"""

# The single-file warehouse's index on articles.story_id has no DuckLake equivalent (a lake has no indexes).
MIGRATIONS += (
    (8, "stories: stories, story_features, articles.story_id, notifications.kind", _STORIES),
    (9, "analyst view: top_stories_daily", _STORY_VIEWS),
)

# Composed alert messages. Key (kept by the writers): (message_id, channel).
MIGRATIONS += (
    (
        10,
        "composed alert messages: a message is persisted before it is sent and re-sent unchanged",
        """
        CREATE TABLE messages (
            message_id  VARCHAR NOT NULL,  -- key, with channel
            channel     VARCHAR NOT NULL,
            rule        VARCHAR NOT NULL,
            title       VARCHAR NOT NULL,
            body        VARCHAR NOT NULL,
            composed_at TIMESTAMPTZ NOT NULL
        );
        ALTER TABLE notifications ADD COLUMN message_id VARCHAR;
        """,
    ),
)

# `newsmon watch`: each feed's adaptive schedule (why it is polled when it is) and WebSub subscriptions.
# Keys (kept by the writers): feed_schedule.feed_url, websub_subscriptions.callback_id.
MIGRATIONS += (
    (
        11,
        "watch: feed schedules and WebSub subscriptions",
        """
        CREATE TABLE feed_schedule (
            feed_url         VARCHAR NOT NULL,  -- key
            interval_seconds DOUBLE NOT NULL,
            next_poll_at     TIMESTAMPTZ NOT NULL,
            why              VARCHAR NOT NULL,
            polls            INTEGER NOT NULL DEFAULT 0,
            yield_ratio      DOUBLE,
            unchanged_ratio  DOUBLE NOT NULL DEFAULT 0,
            updated_at       TIMESTAMPTZ NOT NULL
        );
        CREATE TABLE websub_subscriptions (
            callback_id   VARCHAR NOT NULL,  -- key
            feed_url      VARCHAR NOT NULL,
            topic         VARCHAR NOT NULL,
            hub           VARCHAR NOT NULL,
            secret        VARCHAR NOT NULL,
            state         VARCHAR NOT NULL,
            intent        VARCHAR NOT NULL,
            requested_at  TIMESTAMPTZ NOT NULL,
            lease_seconds INTEGER,
            verified_at   TIMESTAMPTZ,
            expires_at    TIMESTAMPTZ,
            renew_at      TIMESTAMPTZ,
            last_push_at  TIMESTAMPTZ,
            missed_at     TIMESTAMPTZ,
            error         VARCHAR,
            sent_at       TIMESTAMPTZ
        );
        COMMENT ON TABLE feed_schedule IS 'newsmon watch: each feed''s polling interval, next poll and why';
        COMMENT ON TABLE websub_subscriptions IS 'newsmon watch: WebSub subscriptions (secret: do not share)';
        """,
    ),
)

LATEST_VERSION = MIGRATIONS[-1][0]
