"""Read models on a real DuckDB warehouse: stories follow duplicate chains, every figure uses seen_at."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.records import Article
from extractors.seeds import parse_seed
from storage import readmodels
from storage import warehouse as wh
from storage.warehouse import Connection, Warehouse

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _article(
    ident: str, *, published: datetime | None, fetched: datetime = NOW, copy_of: str | None = None, **extra: object
) -> Article:
    return Article(
        article_id=ident, url=f"https://news.example/{ident}", canonical_url=f"https://news.example/{ident}",
        feed_url=str(extra.get("feed", "https://news.example/rss")), source=f"site-{ident}", title=f"Title {ident}",
        text="text", text_source="page", language=str(extra.get("language", "en")), published_at=published,
        fetched_at=fetched, content_hash=ident, platforms=tuple(extra.get("platforms", ("temu",))),  # type: ignore[arg-type]
        duplicate_of=copy_of, similarity=0.9 if copy_of else None,
    )  # fmt: skip


@pytest.fixture
def con(tmp_path: Path) -> Iterator[Connection]:
    warehouse = Warehouse(tmp_path / "wh.duckdb")
    seed = parse_seed("s1", "阿里巴巴发布新财报\n阿里巴巴今天发布了季度财报，收入增长。".encode())
    day = timedelta(days=1)
    articles = [
        _article("a", published=NOW - 3 * day),
        _article("b", published=NOW - 2 * day, copy_of="a"),
        _article("c", published=None, fetched=NOW - day, copy_of="b"),  # a copy of a copy
        _article("d", published=NOW - 5 * day, copy_of="s1"),  # a copy of a seed
        _article("e", published=NOW - 400 * day, fetched=NOW - day),  # fetched now, published long ago
        _article("f", published=NOW - 10 * day, platforms=("shein",)),
    ]
    with warehouse.transaction() as write:
        wh.load_seeds(write, [seed], NOW)
        wh.insert_articles(write, "r1", articles, [], NOW)
    with warehouse.reader() as read:
        readmodels.set_time_zone(read, "UTC")
        yield read


def test_a_story_is_an_original_with_its_copies_down_the_chain(con: Connection) -> None:
    stories = {s.story_id: s for s in readmodels.top_stories(con, NOW - timedelta(days=30), 10)}
    chain = stories["a"]
    assert [i.article_id for i in chain.items] == ["a", "b", "c"]  # earliest first
    assert chain.articles == 3 and not chain.from_seed and chain.title == "Title a"
    seeded = stories["s1"]
    assert seeded.from_seed and seeded.title == "阿里巴巴发布新财报" and [i.article_id for i in seeded.items] == ["d"]
    assert "e" not in stories, "published 400 days ago: outside the window"
    assert next(iter(stories)) == "a", "most articles first"


def test_totals_count_by_seen_at_and_name_what_was_left_out(con: Connection) -> None:
    totals = readmodels.window_totals(con, NOW - timedelta(days=30))
    assert (totals.originals, totals.copies, totals.older_fetched) == (2, 3, 1)  # a, f; b, c, d; e


def test_platform_trends_compare_the_last_7_days_with_the_7_before(con: Connection) -> None:
    trends = {t.platform: (t.this_week, t.last_week) for t in readmodels.platform_trends(con, NOW)}
    assert trends == {"temu": (1, 0), "shein": (0, 1)}  # originals only: a (3 days ago), f (10 days ago)


def test_days_are_days_of_seen_at_in_the_session_zone(con: Connection) -> None:
    since = NOW - timedelta(days=30)
    days = [(d.day.isoformat(), d.key, d.articles) for d in readmodels.platforms_per_day(con, since)]
    assert days == [("2026-11-20", "shein", 1), ("2026-11-27", "temu", 1)]
    readmodels.set_time_zone(con, "Pacific/Kiritimati")  # UTC+14: 12:00 UTC is the next day there
    assert readmodels.platforms_per_day(con, since)[0].day.isoformat() == "2026-11-21"
