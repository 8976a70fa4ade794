"""Analysts' side: documented views, export that reads back, and the HTML report (in a real browser when
Chromium is installed)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from newsmon.demo import demo_feeds, serve_site
from newsmon.flow import monitor_pass
from tests.helpers import open_lake, write_config

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]
ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artefacts"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    folder = tmp_path_factory.mktemp("analysts")
    site = folder / "site"
    from newsmon.resources import sample_site_dir

    shutil.copytree(sample_site_dir(), site)
    with serve_site(site) as server:
        gone = {"url": f"{server.base_url}/gone.xml", "name": "gone"}
        config = write_config(folder, [*demo_feeds(server.site, server.base_url), gone])
        monitor_pass(str(config))
    yield folder, config


def test_views_are_documented_and_consistent(warehouse: tuple[Path, Path]) -> None:
    con = open_lake(warehouse[0])
    try:
        views = dict(con.execute("SELECT view_name, comment FROM duckdb_views() WHERE NOT internal").fetchall())
        assert {"articles_unique", "mentions_daily", "syndication", "feed_health"} <= set(views)
        assert all(views[v] for v in ("articles_unique", "mentions_daily", "syndication", "feed_health"))
        originals = con.execute("SELECT count(*) FROM articles WHERE duplicate_of IS NULL").fetchone()
        assert con.execute("SELECT count(*) FROM articles_unique").fetchone() == originals
        pairs = con.execute("SELECT sum(len(platforms) * greatest(len(topics), 1)) FROM articles_unique").fetchone()
        assert con.execute("SELECT sum(articles) FROM mentions_daily").fetchone() == pairs
        syndicated = con.execute("SELECT original, original_kind, copies FROM syndication ORDER BY original").fetchall()
        assert [(kind, copies) for _, kind, copies in syndicated] == [("seed", 1)] * 3
        health = dict(con.execute("SELECT name, health FROM feed_health").fetchall())
        assert health["gone"] == "failing" and health["china-retail"] == "ok"
    finally:
        con.close()


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_export_reads_back_with_the_same_columns(warehouse: tuple[Path, Path], tmp_path: Path, fmt: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "newsmon.cli",
            "export",
            "--config",
            str(warehouse[1]),
            "--format",
            fmt,
            "--since",
            "2026-11-15",
            "--out",
            str(tmp_path / "export"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    con = duckdb.connect()
    reader = "read_parquet" if fmt == "parquet" else "read_csv"
    exported = con.execute(f"SELECT * FROM {reader}('{tmp_path}/export/articles/*/*.{fmt}', hive_partitioning = true)")
    columns = [d[0] for d in exported.description]
    rows = exported.fetchall()
    source = open_lake(warehouse[0])
    expected = [d[0] for d in source.execute("SELECT * FROM articles LIMIT 0").description]
    wanted = source.execute(
        "SELECT count(*) FROM articles WHERE CAST(coalesce(published_at, fetched_at) AS DATE) >= DATE '2026-11-15'"
    ).fetchone()
    source.close()
    assert set(expected) | {"day"} == set(columns)
    assert wanted is not None and len(rows) == wanted[0] > 0
    if fmt == "parquet":
        described = con.execute(f"DESCRIBE SELECT * FROM {reader}('{tmp_path}/export/articles/*/*.{fmt}')").fetchall()
        types = {row[0]: row[1] for row in described}
        assert types["platforms"] == "VARCHAR[]" and types["published_at"] == "TIMESTAMP WITH TIME ZONE"


def test_report_is_self_contained_and_renders_in_chromium(warehouse: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "newsmon.cli",
            "report",
            "--config",
            str(warehouse[1]),
            "--out",
            str(out),
            "--days",
            "3650",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", page), "no script may load from the network"
    for section in (
        "Mentions per platform over time",
        "Topic mix per platform",
        "Language mix",
        "Top syndicated stories",
        "Failing feeds",
        "Latest alerts",
    ):
        assert section in page
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Chromium is not installed (`apt-get install chromium`; .ci/run installs it)")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=10000",
        "--enable-logging=stderr",
        "--v=0",
    ]
    dom = subprocess.run([browser, *flags, "--dump-dom", out.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count('class="main-svg"') >= 3, "the three charts must render as SVG"
    console_errors = [line for line in dom.stderr.splitlines() if "CONSOLE" in line and "Uncaught" in line]
    assert console_errors == []
    ARTEFACTS.mkdir(exist_ok=True)
    shot = ARTEFACTS / "report.png"
    subprocess.run(
        [browser, *flags, "--window-size=1200,2600", f"--screenshot={shot}", out.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.stat().st_size > 20_000


def test_every_documented_query_runs(warehouse: tuple[Path, Path]) -> None:
    docs = Path(__file__).resolve().parents[2]
    text = (docs / "docs" / "warehouse.md").read_text(encoding="utf-8") + (docs / "README.md").read_text(
        encoding="utf-8"
    )
    queries = [q for q in re.findall(r"```sql\n(.*?)```", text, re.S) if "read_parquet" not in q]
    statements = [s for q in queries for s in q.split(";") if s.strip().strip("-").strip()]
    assert len(statements) >= 10
    con = open_lake(warehouse[0])
    try:
        for statement in statements:
            con.execute(statement).fetchall()
    finally:
        con.close()
