"""flows.dedupe: marking a batch against the seeds, the stored articles (through the LSH index) and itself,
and keeping the index in step with the warehouse. Real DuckDB and SQLite files."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

from core.records import Article
from core.settings import WarehouseSettings
from extractors import dedup
from extractors.dedup import content_hash, fingerprint
from flows.dedupe import catch_up, mark_duplicates
from storage import warehouse as wh
from storage.lsh import LshIndex
from storage.warehouse import Warehouse, index_path
from tests.extractors.dedup_eval import edited_variant, excerpt_variant, seeds


def article(article_id: str, text: str) -> Article:
    return Article(
        article_id=article_id,
        url=f"https://ex.com/{article_id}",
        canonical_url=f"https://ex.com/{article_id}",
        feed_url="https://ex.com/feed",
        source="ex",
        title=article_id,
        text=text,
        text_source="page",
        language="ja",
        published_at=None,
        fetched_at=datetime.now(UTC),
        content_hash=content_hash(text),
        fingerprint=fingerprint(text),
    )


def test_mark_duplicates_against_seeds_and_within_the_batch(tmp_path: Path) -> None:
    store = Warehouse(tmp_path / "w")
    docs = seeds()
    with store.transaction() as con:
        wh.load_seeds(con, docs, datetime.now(UTC))
    index = LshIndex(index_path(WarehouseSettings.embedded(tmp_path / "w")), dedup.PARAMETERS)
    with store.session() as con:
        assert catch_up(index, con) == (5, False)
        batch = [
            article("a1", excerpt_variant(docs[2].text, 0.65, True)),
            article("a2", "まったく別の記事です。" * 40),
            article("a3", "まったく別の記事です。" * 40),
            article("a4", edited_variant(docs[4].text, random.Random(3))),
        ]
        marked = mark_duplicates(batch, index, lambda ids: wh.document_texts(con, ids))
    assert [(a.article_id, a.duplicate_of) for a in marked] == [
        ("a1", docs[2].seed_id),
        ("a2", None),
        ("a3", "a2"),
        ("a4", docs[4].seed_id),
    ]
    assert marked[2].similarity == 1.0


def test_index_catches_up_after_a_crash_and_rebuilds_when_ahead(tmp_path: Path) -> None:
    store = Warehouse(tmp_path / "w")
    with store.transaction() as con:
        wh.insert_articles(
            con,
            "r1",
            [article("x1", "一つ目の記事の本文です。" * 20), article("x2", "二つ目の記事。" * 30)],
            [],
            datetime.now(UTC),
        )
    index = LshIndex(index_path(WarehouseSettings.embedded(tmp_path / "w")), dedup.PARAMETERS)
    with store.session() as con:
        # The pass was killed after the warehouse commit, before the index write: the next pass catches up.
        assert catch_up(index, con) == (2, False)
        assert index.high_water == 2 and catch_up(index, con) == (0, False)
    index.add([("article:ghost", fingerprint("幽霊" * 30))], high_water=99)
    with store.session() as con:
        assert catch_up(index, con) == (2, True)
    assert index.size() == 2
    index.close()
    reopened = LshIndex(index_path(WarehouseSettings.embedded(tmp_path / "w")), "other-parameters")
    assert reopened.size() == 0, "an index built with other fingerprint parameters is discarded"
