"""The column lists derived from the records match the tables the migrations create (a real DuckDB file)."""

from __future__ import annotations

from pathlib import Path

from storage import tables
from storage.warehouse import Warehouse


def columns(tmp_path: Path, table: str) -> list[str]:
    with Warehouse(tmp_path / "w.duckdb").session() as con:
        rows = con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
    return [name for (name,) in rows]


def test_inserted_columns_are_exactly_the_tables_columns(tmp_path: Path) -> None:
    for table, listed in (
        ("articles", tables.ARTICLE_COLUMNS),
        ("mentions", tables.MENTION_COLUMNS),
        ("link_events", tables.LINK_EVENT_COLUMNS),
        ("seed_documents", tables.SEED_COLUMNS),
        ("spikes", tables.SPIKE_COLUMNS),
    ):
        assert sorted(listed) == sorted(columns(tmp_path, table)), table


def test_every_counter_of_a_pass_summary_is_a_runs_column(tmp_path: Path) -> None:
    runs = set(columns(tmp_path, "runs"))
    assert set(tables.RUN_SUMMARY_COLUMNS) <= runs
    assert {"feeds_total", "articles_new", "notifications_failed", "status"} <= set(tables.RUN_SUMMARY_COLUMNS)


def test_outbox_rows_name_only_notification_columns(tmp_path: Path) -> None:
    assert set(tables.NOTIFICATION_COLUMNS) <= set(columns(tmp_path, "notifications"))
