"""Analysts' side: documented views, export that reads back, and the HTML report (in a real browser when
Chromium is installed)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import lxml.html
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
    """With the read query `newsmon export` prints (CSV: list columns given their type), every column comes
    back with the warehouse's type, plus `day`."""
    result = subprocess.run(
        [
            sys.executable, "-m", "newsmon.cli", "export", "--config", str(warehouse[1]), "--format", fmt,
            "--since", "2026-11-15", "--out", str(tmp_path / "export"),
        ],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    printed = result.stdout.split("read back: ", 1)[1].strip()
    con = duckdb.connect()
    exported = {row[0]: row[1] for row in con.execute(f"DESCRIBE {printed}").fetchall()}
    rows = con.execute(printed).fetchall()
    source = open_lake(warehouse[0])
    expected = {row[0]: row[1] for row in source.execute("DESCRIBE articles").fetchall()}
    wanted = source.execute(
        "SELECT count(*) FROM articles WHERE CAST(coalesce(published_at, fetched_at) AS DATE) >= DATE '2026-11-15'"
    ).fetchone()
    lists = source.execute("SELECT article_id, platforms FROM articles WHERE len(platforms) > 1").fetchall()
    source.close()
    assert exported == {**expected, "day": "DATE"}
    assert wanted is not None and len(rows) == wanted[0] > 0
    back = dict(con.execute(f"SELECT article_id, platforms FROM ({printed})").fetchall())
    assert all(back[article] == platforms for article, platforms in lists if article in back)


def _cli(*args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "newsmon.cli", *args], capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _chromium(page: Path, profile: Path) -> tuple[str, Path]:
    """The DOM Chromium built from the page, and a full-height screenshot of it."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Chromium is not installed (`apt-get install chromium fonts-noto-cjk`; .ci/run installs it)")
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
        "--disable-component-update", "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}",
        "--virtual-time-budget=10000", "--enable-logging=stderr", "--v=0",
    ]  # fmt: skip
    dom = subprocess.run([browser, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    console_errors = [line for line in dom.stderr.splitlines() if "CONSOLE" in line and "Uncaught" in line]
    assert console_errors == []
    ARTEFACTS.mkdir(exist_ok=True)
    shot = ARTEFACTS / "report.png"
    command = [browser, *flags, "--window-size=1200,4200", f"--screenshot={shot}", page.as_uri()]
    subprocess.run(command, capture_output=True, timeout=120, check=True)
    return dom.stdout, shot


def _rows(dom: lxml.html.HtmlElement, table: str) -> list[lxml.html.HtmlElement]:
    return list(dom.xpath(f"//table[@data-table='{table}']/tbody/tr"))


def test_report_renders_in_chromium_with_the_documented_numbers(warehouse: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    _cli("report", "--config", str(warehouse[1]), "--out", str(out), "--days", "3650")
    page = out.read_text(encoding="utf-8")
    assert not re.search(r"<script", page), "no script at all: charts are inline SVG"
    assert not re.search(r"<link|<img|<iframe|\ssrc=|@import|url\(", page), "nothing is loaded from elsewhere"
    assert len(page.encode()) < 500_000, f"{len(page.encode())} bytes"
    dumped, shot = _chromium(out, tmp_path / "profile")
    dom = lxml.html.fromstring(dumped)
    assert shot.stat().st_size > 50_000
    for section in ("stories", "platforms", "trends", "topics", "languages", "volumes", "runs", "health", "alerts"):
        assert dom.xpath(f"//section[@id='{section}']"), section
    assert len(dom.xpath("//svg[contains(@class, 'pygal-chart')]")) == 3
    assert "23:59:59" not in dumped and ".9995" not in dumped

    con = open_lake(warehouse[0])
    try:
        originals = con.execute(
            "SELECT count(*) FROM articles_unique WHERE seen_at >= now() - INTERVAL 3650 DAY"
        ).fetchone()
        run = con.execute("SELECT articles_new, articles_duplicate FROM runs ORDER BY started_at DESC").fetchone()
        feeds = con.execute("SELECT count(*) FROM feeds").fetchone()
        copies = con.execute("SELECT url FROM articles WHERE duplicate_of IS NOT NULL").fetchall()
    finally:
        con.close()
    cards = [int(b.text) for b in dom.xpath("//div[@id='totals']//b")]
    assert originals is not None and cards[0] == originals[0] > 0, "header = the docs' articles_unique count"

    stories = _rows(dom, "stories")
    assert stories and all(row.xpath("./td[1]//a[starts-with(@href, 'http')]") for row in stories)
    linked_copies = {a.get("href") for row in stories for a in row.xpath("./td[5]//a")}
    assert copies and {url for (url,) in copies} <= linked_copies, "every copy is linked from its story"

    runs = _rows(dom, "runs")
    assert run is not None and len(runs) == 1
    assert [runs[0].xpath("./td")[i].text_content() for i in (4, 5)] == [str(run[0]), str(run[1])]
    status = json.loads(_cli("status", "--config", str(warehouse[1]), "--json"))
    assert (status["runs"][0]["originals"], status["runs"][0]["copies"]) == run, "status = report = runs table"

    docs = (Path(__file__).resolve().parents[2] / "docs" / "warehouse.md").read_text(encoding="utf-8")
    rose = re.search(r"Which platforms rose.*?```sql\n(.*?)```", docs, re.S)
    assert rose is not None
    con = open_lake(warehouse[0])
    try:
        documented = {(p, this, before) for p, this, before, _ in con.execute(rose.group(1)).fetchall()}
    finally:
        con.close()
    shown = {tuple(td.text_content() for td in row.xpath("./td")[:3]) for row in _rows(dom, "trends")}
    assert shown == {(p, str(this), str(before)) for p, this, before in documented}, "trends = the docs' query"

    health = _rows(dom, "health")
    assert feeds is not None and len(health) == feeds[0] == len(status["feeds"]), "every feed, not only failing"
    assert health[0].xpath("./td[2]")[0].text_content() == "failing"
    assert sum(int(r.xpath("./td[2]")[0].text_content()) for r in _rows(dom, "volumes")) == originals[0]


def test_every_documented_query_runs(warehouse: tuple[Path, Path]) -> None:
    docs = Path(__file__).resolve().parents[2]
    text = (docs / "docs" / "warehouse.md").read_text(encoding="utf-8") + (docs / "README.md").read_text(
        encoding="utf-8"
    )
    blocks = re.findall(r"```sql\n(.*?)```", text, re.S)
    queries = [q for q in blocks if "read_parquet" not in q and "read_csv" not in q]  # those need an export
    statements = [s for q in queries for s in q.split(";") if s.strip().strip("-").strip()]
    assert len(statements) >= 10
    con = open_lake(warehouse[0])
    try:
        for statement in statements:
            con.execute(statement).fetchall()
    finally:
        con.close()


def test_status_shows_times_in_the_users_zone_and_json_in_utc(warehouse: tuple[Path, Path]) -> None:
    env = {**os.environ, "TZ": "Asia/Tokyo"}
    text = _cli("status", "--config", str(warehouse[1]), env=env)
    assert text.startswith("Times in Asia/Tokyo (TZ).")
    assert re.search(r"last ok \d{4}-\d\d-\d\d \d\d:\d\d JST", text)
    assert "1 weighted failures" not in text and "(2 weighted failures)" in text
    document = json.loads(_cli("status", "--config", str(warehouse[1]), "--json", env=env))
    assert all(f["last_polled_at"].endswith("Z") for f in document["feeds"] if f["last_polled_at"])
    assert document["runs"][0]["status"] == "completed" and document["runs"][0]["seconds"] > 0
