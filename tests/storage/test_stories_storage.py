"""Stories in a real lake: upgrading a warehouse from before stories, the matching state round trip,
the `stories` rows and the top-stories view."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from core.records import Article, StoryFeatures
from core.settings import WarehouseSettings
from storage import warehouse as wh
from storage.connection import migrate
from storage.lake import attach
from storage.warehouse import Warehouse

T0 = datetime(2024, 11, 21, 10, tzinfo=UTC)


def article(aid: str, source: str, language: str, hours: float, story: str, title: str = "") -> Article:
    return Article(
        article_id=aid, url=f"https://{source}/{aid}", canonical_url=f"https://{source}/{aid}",
        feed_url=f"https://{source}/feed", source=source, title=title or f"title {aid}", text="body",
        text_source="feed", language=language, published_at=T0 + timedelta(hours=hours), fetched_at=T0,
        content_hash=aid, platforms=("pinduoduo",), topics=("earnings",), story_id=story,
    )  # fmt: skip


def test_a_warehouse_from_before_stories_upgrades_and_keeps_its_articles(tmp_path: Path) -> None:
    path = tmp_path / "w"
    con = attach(WarehouseSettings.embedded(path))
    assert migrate(con, up_to=7) == 7  # the lake as it was before stories (sources were the last version)
    con.execute(
        "INSERT INTO articles (article_id, url, canonical_url, feed_url, title, text, text_source, language, "
        "fetched_at, content_hash, run_id, seq, platforms, topics) VALUES ('old', 'u', 'u', 'f', 't', 'x', 'feed', "
        "'en', now(), 'h', 'r', 1, [], [])"
    )
    con.execute(
        "INSERT INTO notifications (rule, article_id, channel, status, attempts, created_at, updated_at) "
        "VALUES ('r', 'old', 'c', 'sent', 0, now(), now())"
    )
    con.close()
    with Warehouse(path).session() as upgraded:
        assert upgraded.execute("SELECT story_id FROM articles").fetchall() == [(None,)]
        assert upgraded.execute("SELECT kind FROM notifications").fetchall() == [("article",)]
        assert upgraded.execute("SELECT count(*) FROM top_stories_daily").fetchall() == [(0,)]


def test_members_round_trip_and_stories_follow_their_articles(tmp_path: Path) -> None:
    store = Warehouse(tmp_path / "w.duckdb")
    first = article("a1", "caixin", "zh-cn", 0, "s-a1", "拼多多第三季度营收")
    batch = [first, article("a2", "reuters", "en", 1, "s-a1"), article("a3", "nikkei", "ja", 30, "s-a1")]
    vector = np.linspace(-1, 1, 512, dtype=np.float32)
    feature = StoryFeatures(
        "a1", T0, vector, frozenset({"pinduoduo"}), frozenset({"earnings"}), frozenset({"Q3"}),
        frozenset({"993e8", "44%"}), frozenset({"拼多", "多第"}),
    )  # fmt: skip
    with store.transaction() as con:
        wh.insert_articles(con, "run", batch, [], T0)
        wh.insert_story_features(con, [("s-a1", feature)])
        wh.refresh_stories(con, ["s-a1", "s-a1"], T0)
    with store.session() as con:
        members = wh.story_members(con, T0 - timedelta(hours=1), T0 + timedelta(hours=1))
        assert wh.story_members(con, T0 + timedelta(hours=1), T0 + timedelta(days=9)) == []
        row = con.execute(
            "SELECT title, first_article_id, first_seen, last_seen, languages, article_count, source_count FROM stories"
        ).fetchall()
        top = con.execute(
            "SELECT day, rank, articles, sources, languages FROM top_stories_daily ORDER BY day"
        ).fetchall()
        found = wh.stories_of(con, ["a2", "nope"])
    [(story_id, loaded)] = members
    assert story_id == "s-a1" and loaded == feature and np.array_equal(loaded.embedding, vector)
    assert row == [("拼多多第三季度营收", "a1", T0, T0 + timedelta(hours=30), ["en", "ja", "zh-cn"], 3, 3)]
    assert [(r[0].isoformat(), r[1], r[2], r[3], r[4]) for r in top] == [
        ("2024-11-21", 1, 2, ["caixin", "reuters"], ["en", "zh-cn"]),
        ("2024-11-22", 1, 1, ["nikkei"], ["ja"]),
    ]
    assert found == {"a2": "s-a1"}
    # a later article of the story: the row is recomputed, not duplicated
    with store.transaction() as con:
        wh.insert_articles(con, "run2", [replace(article("a4", "yna", "ko", 2, "s-a1"), content_hash="h4")], [], T0)
        wh.refresh_stories(con, ["s-a1"], T0)
        assert con.execute("SELECT article_count, languages FROM stories").fetchall() == [
            (4, ["en", "ja", "ko", "zh-cn"])
        ]
