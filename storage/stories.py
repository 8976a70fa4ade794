"""Stories in the warehouse: the matching state of recent articles (`story_features`), the `stories` table
kept in step with `articles.story_id`, and what alerts and the report read about stories."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np

from core.records import StoryFeatures
from storage.connection import Connection, insert_rows

_FEATURE_COLUMNS = ("article_id", "story_id", "seen_at", "embedding", "periods", "figures", "title_grams")


def insert_story_features(con: Connection, members: Sequence[tuple[str, StoryFeatures]]) -> None:
    """Remember how each new original matched (its embedding, periods, figures) under its story."""
    rows = [
        (
            f.article_id,
            story_id,
            f.published_at,
            f.embedding.tolist(),
            sorted(f.periods),
            sorted(f.figures),
            sorted(f.title_grams),
        )
        for story_id, f in members
    ]
    insert_rows(con, "story_features", _FEATURE_COLUMNS, rows, unique_by=("article_id",))


def story_members(con: Connection, start: datetime, end: datetime) -> list[tuple[str, StoryFeatures]]:
    """(story_id, features) of the members seen between `start` and `end`, oldest first. Embeddings come
    through numpy (tens of thousands of 512-float lists as Python objects would take seconds)."""
    where = "FROM story_features AS f JOIN articles AS a USING (article_id) WHERE f.seen_at BETWEEN ? AND ?"
    order = "ORDER BY f.seen_at, f.article_id"
    rows = con.execute(
        f"SELECT f.story_id, f.article_id, f.seen_at, a.platforms, a.topics, f.periods, f.figures, f.title_grams "
        f"{where} {order}",
        [start, end],
    ).fetchall()
    if not rows:
        return []
    vectors = con.execute(f"SELECT f.embedding {where} {order}", [start, end]).fetchnumpy()["embedding"]
    return [
        (
            str(r[0]),
            StoryFeatures(
                str(r[1]), r[2], np.asarray(vector, dtype=np.float32), frozenset(r[3]), frozenset(r[4]),
                frozenset(r[5]), frozenset(r[6]), frozenset(r[7]),
            ),
        )
        for r, vector in zip(rows, vectors, strict=True)
    ]  # fmt: skip


def stories_of(con: Connection, article_ids: Sequence[str]) -> dict[str, str]:
    """article_id -> story_id of stored articles that have a story."""
    if not article_ids:
        return {}
    rows = con.execute(
        "SELECT article_id, story_id FROM articles WHERE story_id IS NOT NULL AND article_id IN (SELECT unnest(?))",
        [list(article_ids)],
    ).fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


def refresh_stories(con: Connection, story_ids: Sequence[str], now: datetime) -> None:
    """Recompute the `stories` rows of these stories from their articles (title, link and time of the
    earliest article; languages, platforms, topics, counts over all of them)."""
    if not story_ids:
        return
    ids = sorted(set(story_ids))
    con.execute("DELETE FROM stories WHERE story_id IN (SELECT unnest(?))", [ids])
    con.execute(
        """INSERT INTO stories
           SELECT story_id,
                  min(coalesce(published_at, fetched_at)), max(coalesce(published_at, fetched_at)),
                  arg_min(title, (coalesce(published_at, fetched_at), article_id)),
                  arg_min(article_id, (coalesce(published_at, fetched_at), article_id)),
                  arg_min(canonical_url, (coalesce(published_at, fetched_at), article_id)),
                  list(DISTINCT language ORDER BY language),
                  list_sort(list_distinct(flatten(list(platforms)))),
                  list_sort(list_distinct(flatten(list(topics)))),
                  count(*), count(DISTINCT source), ?
           FROM articles WHERE story_id IN (SELECT unnest(?)) GROUP BY story_id""",
        [now, ids],
    )


def last_story_messages(con: Connection, rule: str, channel: str, story_ids: Sequence[str]) -> dict[str, datetime]:
    """story_id -> when a message about it last left for this rule and channel."""
    if not story_ids:
        return {}
    rows = con.execute(
        """SELECT a.story_id, max(n.sent_at) FROM notifications AS n JOIN articles AS a USING (article_id)
           WHERE n.rule = ? AND n.channel = ? AND n.status = 'sent' AND a.story_id IN (SELECT unnest(?))
           GROUP BY a.story_id""",
        [rule, channel, sorted(set(story_ids))],
    ).fetchall()
    return {str(r[0]): r[1] for r in rows if r[1] is not None}


def notified_stories(con: Connection, rule: str, story_ids: Sequence[str]) -> set[tuple[str, str]]:
    """(story_id, channel) pairs this rule has queued a notification for already (any status)."""
    if not story_ids:
        return set()
    rows = con.execute(
        """SELECT DISTINCT a.story_id, n.channel FROM notifications AS n JOIN articles AS a USING (article_id)
           WHERE n.rule = ? AND a.story_id IN (SELECT unnest(?))""",
        [rule, sorted(set(story_ids))],
    ).fetchall()
    return {(str(r[0]), str(r[1])) for r in rows}


def story_titles(con: Connection, story_ids: Sequence[str]) -> dict[str, str]:
    """story_id -> the story's title (its earliest article's)."""
    if not story_ids:
        return {}
    rows = con.execute(
        "SELECT story_id, title FROM stories WHERE story_id IN (SELECT unnest(?))", [sorted(set(story_ids))]
    ).fetchall()
    return {str(r[0]): str(r[1]) for r in rows}
