"""The warehouse on a real lake (SQLite catalog + Parquet files): migrations, idempotent stores, run bookkeeping."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from core.errors import WarehouseError
from core.records import Article, FeedPoll, LinkEvent, Mention
from core.settings import WarehouseSettings
from extractors.seeds import parse_seed
from storage import warehouse as wh
from storage.connection import migrate
from storage.lake import attach
from storage.schema import LATEST_VERSION
from storage.warehouse import Warehouse

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
ARTICLE = Article(
    article_id="a1",
    url="https://ex.com/a?utm_source=x",
    canonical_url="https://ex.com/a",
    feed_url="https://ex.com/f",
    source="Ex",
    title="T",
    text="Body",
    text_source="page",
    language="en",
    published_at=None,
    fetched_at=NOW,
    content_hash="h",
    mentions=(Mention("temu", "Temu", "text", 3),),
)


def store_batch(
    con: duckdb.DuckDBPyConnection, run_id: str, articles: list[Article], events: list[LinkEvent], now: datetime
) -> list[Article]:
    fresh = wh.new_articles(con, articles)
    wh.insert_articles(con, run_id, fresh, events, now)
    return fresh


def test_schema_is_versioned_and_migrates_once(tmp_path: Path) -> None:
    store = Warehouse(tmp_path / "w")
    with store.session():
        pass
    with store.session() as con:
        rows = con.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    assert rows == [(v,) for v in range(1, LATEST_VERSION + 1)]


def test_version_1_warehouse_with_data_upgrades_in_place(tmp_path: Path) -> None:
    """A warehouse written before article numbering existed gets `seq` filled in, oldest first."""
    path = tmp_path / "w"
    con = attach(WarehouseSettings.embedded(path))
    assert migrate(con, up_to=1) == 1
    for i, when in enumerate(["2026-01-02", "2026-01-01"]):
        con.execute(
            "INSERT INTO articles (article_id, url, canonical_url, feed_url, title, text, text_source, language, "
            "fetched_at, content_hash, run_id, platforms, topics) "
            "VALUES (?, ?, ?, 'f', 't', 'x', 'feed', 'en', ?, 'h', 'r', [], [])",
            [f"a{i}", f"https://e/{i}", f"https://e/{i}", when],
        )
    con.close()
    with Warehouse(path).session() as upgraded:
        assert upgraded.execute("SELECT article_id, seq FROM articles ORDER BY seq").fetchall() == [
            ("a1", 1),
            ("a0", 2),
        ]


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    store = Warehouse(tmp_path / "w")
    with store.session() as con:
        con.execute("INSERT INTO schema_migrations (version, name) VALUES (999, 'future')")
    with pytest.raises(WarehouseError, match="newer than this newsmon"), Warehouse(tmp_path / "w").session():
        pass


def test_same_canonical_url_is_stored_once_ever(tmp_path: Path) -> None:
    store = Warehouse(tmp_path / "w")
    twin = replace(ARTICLE, url="https://ex.com/a?fbclid=1", feed_url="https://other/f")
    with store.transaction() as con:
        first = store_batch(con, "r1", [ARTICLE, twin], [], NOW)
    with store.transaction() as con:
        second = store_batch(con, "r2", [ARTICLE], [], NOW)
        count = con.execute("SELECT count(*) FROM articles").fetchone()
        mentions = con.execute("SELECT platform, alias, position FROM mentions").fetchall()
    assert [a.article_id for a in first] == ["a1"] and second == [] and count == (1,)
    assert mentions == [("temu", "Temu", 3)]


def test_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    store = Warehouse(tmp_path / "w")
    with pytest.raises(RuntimeError), store.transaction() as con:
        store_batch(con, "r1", [ARTICLE], [LinkEvent("f", "u", "refused", "why")], NOW)
        raise RuntimeError("killed mid-batch")
    with store.session(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM articles").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM link_events").fetchone() == (0,)


def test_permanent_drops_are_known_transient_ones_are_not(tmp_path: Path) -> None:
    store = Warehouse(tmp_path / "w")
    events = [
        LinkEvent("f", "https://ex.com/short", "too_short", "3 chars"),
        LinkEvent("f", "https://ex.com/x", "page_failed", "HTTP 503"),
    ]
    with store.transaction() as con:
        store_batch(con, "r1", [], events, NOW)
        known = wh.known_urls(con, ["https://ex.com/short", "https://ex.com/x"])
    assert known == {"https://ex.com/short"}


def test_seeds_load_idempotently(tmp_path: Path) -> None:
    seeds = [parse_seed("s1", "タイトル\n本文です。".encode()), parse_seed("s2", b"Title\nBody text.")]
    store = Warehouse(tmp_path / "w")
    with store.transaction() as con:
        assert wh.load_seeds(con, seeds, NOW) == 2
        assert wh.load_seeds(con, seeds, NOW) == 0
        assert con.execute("SELECT seed_id, title FROM seed_documents ORDER BY 1").fetchall() == [
            ("s1", "タイトル"),
            ("s2", "Title"),
        ]


def test_stale_running_runs_are_marked_aborted(tmp_path: Path) -> None:
    store = Warehouse(tmp_path / "w")
    with store.transaction() as con:
        assert wh.start_run(con, "r1", None, NOW, store.alive) == 0
    with store.transaction() as con:
        assert wh.start_run(con, "r2", None, NOW, store.alive) == 1
        assert con.execute("SELECT run_id, status FROM runs ORDER BY run_id").fetchall() == [
            ("r1", "aborted"),
            ("r2", "running"),
        ]


def test_a_run_still_going_is_not_marked_aborted(tmp_path: Path) -> None:
    store = Warehouse(tmp_path / "w")
    with store.pass_running("r1"):
        with store.transaction() as con:
            wh.start_run(con, "r1", None, NOW, store.alive)
        with store.transaction() as con:
            assert wh.start_run(con, "r2", None, NOW, store.alive) == 0
            assert con.execute("SELECT count(*) FROM runs WHERE status = 'running'").fetchone() == (2,)


def test_feed_failures_accumulate_and_validators_survive_a_failure(tmp_path: Path) -> None:
    store = Warehouse(tmp_path / "w")
    ok = FeedPoll("https://ex.com/f", "Ex", "ok", 200, '"e1"', "Mon", "hash1")
    failed = FeedPoll("https://ex.com/f", "Ex", "failed", 503, None, None, None, "HTTP 503", "transient")
    with store.transaction() as con:
        wh.record_feed_poll(con, ok, NOW, None, 0, "Title")
        wh.record_feed_poll(con, failed, NOW, None, 1, None)
        row = con.execute(
            "SELECT etag, body_hash, consecutive_failures, failing_since, last_error, title FROM feeds"
        ).fetchone()
    assert row == ('"e1"', "hash1", 1, NOW, "HTTP 503", "Title")


def test_reader_gets_a_clear_error_for_a_missing_warehouse(tmp_path: Path) -> None:
    with (
        pytest.raises(WarehouseError, match="does not exist yet"),
        Warehouse(tmp_path / "none").session(read_only=True),
    ):
        pass


def test_outbox_deliveries_are_recorded_per_key(tmp_path: Path) -> None:
    store = Warehouse(tmp_path / "w")
    keys = [("r", "a1", "c1"), ("r", "a2", "c1"), ("r", "a3", "c1")]
    with store.transaction() as con:
        assert wh.enqueue_notifications(con, keys, "run", NOW) == 3
        assert wh.enqueue_notifications(con, keys[:1], "run", NOW) == 0, "a key is queued once"
        wh.record_delivery(con, keys[:2], None, NOW)
        wh.record_delivery(con, keys[2:], "HTTP 500", NOW)
        rows = con.execute(
            "SELECT article_id, status, attempts, last_error, sent_at FROM notifications ORDER BY article_id"
        ).fetchall()
    assert rows == [("a1", "sent", 1, None, NOW), ("a2", "sent", 1, None, NOW), ("a3", "failed", 1, "HTTP 500", None)]
