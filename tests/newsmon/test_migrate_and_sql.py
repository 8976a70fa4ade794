"""Existing users: a single-file warehouse written by the last release before DuckLake is migrated by one
command, every table's rows verified, views with the same names and meaning; analysts then query it with
`newsmon sql` (one-shot, as of a pass, and the real DuckDB shell), and `newsmon maintain` keeps it small."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.conftest import DATA
from tests.helpers import open_lake

LEGACY = DATA / "legacy-warehouse"
MANIFEST = json.loads((LEGACY / "export" / "manifest.json").read_text(encoding="utf-8"))
VIEWS = {"articles_unique", "mentions_daily", "syndication", "feed_health"}


def newsmon(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsmon.cli", *args], input=stdin, capture_output=True, text=True, timeout=300
    )


def legacy_file(folder: Path) -> Path:
    """The old release's warehouse, where an existing user's config points: `warehouse: wh`."""
    target = folder / "wh"
    with gzip.open(LEGACY / "newsmon.duckdb.gz") as packed, target.open("wb") as out:
        shutil.copyfileobj(packed, out)
    return target


def config(folder: Path) -> Path:
    path = folder / "config.yaml"
    path.write_text("warehouse: wh\nfeeds: [https://example.com/rss.xml]\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("migrated")
    legacy_file(folder)
    result = newsmon("migrate", "--config", str(config(folder)), "--exported", str(LEGACY / "export"))
    assert result.returncode == 0, result.stderr
    assert "every row count verified" in result.stdout
    yield folder


def test_this_duckdb_cannot_read_the_old_file_and_commands_say_to_migrate(tmp_path: Path) -> None:
    old = legacy_file(tmp_path)
    with pytest.raises(duckdb.Error, match="version number"):
        duckdb.connect(str(old), read_only=True)
    result = newsmon("status", "--config", str(config(tmp_path)))
    assert result.returncode == 1
    assert "newsmon migrate" in result.stderr and "single-file DuckDB warehouse" in result.stderr


def test_migration_keeps_every_row_and_the_old_file(migrated: Path) -> None:
    assert (migrated / "wh" / "catalog.sqlite").is_file() and (migrated / "wh.pre-ducklake").is_file()
    con = open_lake(migrated)
    try:
        for table, count in MANIFEST["tables"].items():
            if table != "schema_migrations":
                assert con.execute(f"SELECT count(*) FROM {table}").fetchone() == (count,), table
        views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
        originals = con.execute("SELECT count(*) FROM articles WHERE duplicate_of IS NULL").fetchone()
        unique = con.execute("SELECT count(*) FROM articles_unique").fetchone()
        versions = con.execute("SELECT max(version) FROM schema_migrations").fetchone()
    finally:
        con.close()
    assert views >= VIEWS and unique == originals
    exported = duckdb.connect()
    old_originals = exported.execute(
        f"SELECT count(*) FROM '{LEGACY / 'export' / 'articles.parquet'}' WHERE duplicate_of IS NULL"
    ).fetchone()
    assert unique == old_originals, "articles_unique means the same after migration"
    from storage.schema import LATEST_VERSION

    assert versions == (LATEST_VERSION,)


def test_a_failed_migration_puts_the_old_file_back(tmp_path: Path) -> None:
    old = legacy_file(tmp_path)
    broken = tmp_path / "export"
    shutil.copytree(LEGACY / "export", broken)
    manifest = json.loads((broken / "manifest.json").read_text())
    manifest["tables"]["articles"] += 1  # the export claims a row the Parquet file does not have
    (broken / "manifest.json").write_text(json.dumps(manifest))
    result = newsmon("migrate", "--config", str(config(tmp_path)), "--exported", str(broken))
    assert result.returncode == 1 and "row counts differ" in result.stderr
    assert old.is_file() and not (tmp_path / "wh.pre-ducklake").exists()


@pytest.mark.skipif(
    not os.environ.get("NEWSMON_LEGACY_PYTHON"),
    reason="set NEWSMON_LEGACY_PYTHON to a Python with duckdb 2.0 (the last release's) to run the export step too",
)
def test_migration_with_the_legacy_python(tmp_path: Path) -> None:
    legacy_file(tmp_path)
    python = os.environ["NEWSMON_LEGACY_PYTHON"]
    result = newsmon("migrate", "--config", str(config(tmp_path)), "--legacy-python", python)
    assert result.returncode == 0, result.stderr
    con = open_lake(tmp_path)
    try:
        assert con.execute("SELECT count(*) FROM articles").fetchone() == (MANIFEST["tables"]["articles"],)
    finally:
        con.close()


@pytest.mark.parametrize("fmt", ["csv", "json", "table"])
def test_sql_one_shot_formats(migrated: Path, fmt: str) -> None:
    query = "SELECT language, count(*) AS n FROM articles_unique GROUP BY ALL ORDER BY n DESC, language"
    result = newsmon("sql", "--config", str(migrated / "config.yaml"), query, "--format", fmt)
    assert result.returncode == 0, result.stderr
    con = open_lake(migrated)
    expected = con.execute(query).fetchall()
    con.close()
    if fmt == "csv":
        lines = result.stdout.splitlines()
        assert lines[0] == "language,n" and lines[1:] == [f"{lang},{n}" for lang, n in expected]
    elif fmt == "json":
        assert json.loads(result.stdout) == [{"language": lang, "n": n} for lang, n in expected]
    else:
        assert "language" in result.stdout and all(lang in result.stdout for lang, _ in expected)


def test_sql_refuses_to_write(migrated: Path) -> None:
    result = newsmon("sql", "--config", str(migrated / "config.yaml"), "DELETE FROM articles")
    assert result.returncode == 1 and "read-only" in result.stderr


def test_sql_without_a_query_is_the_duckdb_shell_with_the_lake_attached_read_only(migrated: Path) -> None:
    script = "SELECT version();\nSELECT count(*) FROM articles_unique;\nINSERT INTO runs (run_id) VALUES ('x');\n"
    result = newsmon("sql", "--config", str(migrated / "config.yaml"), stdin=script)
    assert f"v{duckdb.__version__}" in result.stdout, result.stdout + result.stderr
    con = open_lake(migrated)
    unique = con.execute("SELECT count(*) FROM articles_unique").fetchone()
    con.close()
    assert unique is not None and str(unique[0]) in result.stdout
    assert "read-only" in result.stderr


def test_sql_as_of_a_pass(migrated: Path, tmp_path: Path) -> None:
    from core.settings import WarehouseSettings
    from storage.lake import attach

    folder = tmp_path / "copy"
    shutil.copytree(migrated, folder)
    con = attach(WarehouseSettings.embedded(folder / "wh"))
    run_id = str(con.execute("SELECT run_id FROM runs").fetchone()[0])  # type: ignore[index]
    snapshot = con.execute("SELECT id FROM lake.current_snapshot()").fetchone()[0]  # type: ignore[index]
    con.execute("UPDATE runs SET snapshot_id = ? WHERE run_id = ?", [snapshot + 1, run_id])
    con.execute("DELETE FROM articles WHERE duplicate_of IS NOT NULL")  # a later change the pass never saw
    con.close()
    config_path = folder / "config.yaml"
    now = newsmon("sql", "--config", str(config_path), "SELECT count(*) AS n FROM articles", "--format", "csv")
    then = newsmon(
        "sql", "--config", str(config_path), "SELECT count(*) AS n FROM articles", "--format", "csv", "--run", run_id
    )
    assert now.returncode == 0 and then.returncode == 0, now.stderr + then.stderr
    assert int(then.stdout.split()[1]) == MANIFEST["tables"]["articles"] > int(now.stdout.split()[1])


def test_python_entry_point_for_notebooks(migrated: Path) -> None:
    from newsmon.analysts import connect

    con = connect(migrated / "config.yaml")
    try:
        assert con.execute("SELECT count(*) FROM articles").fetchone() == (MANIFEST["tables"]["articles"],)
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("DELETE FROM articles")
    finally:
        con.close()


def test_print_attach_works_in_a_plain_duckdb(migrated: Path) -> None:
    result = newsmon("sql", "--config", str(migrated / "config.yaml"), "--print-attach")
    assert result.returncode == 0, result.stderr
    assert "ATTACH 'ducklake:sqlite:" in result.stdout and "READ_ONLY" in result.stdout
    con = duckdb.connect()  # an analyst's own DuckDB, nothing of newsmon loaded into it
    try:
        for statement in result.stdout.split(";\n"):
            if statement.strip():
                con.execute(statement)
        assert con.execute("SELECT count(*) FROM articles").fetchone() == (MANIFEST["tables"]["articles"],)
    finally:
        con.close()
