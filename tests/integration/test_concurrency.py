"""Analysts and writers at the same time, with real processes (`newsmon run` subprocesses):

- an analyst connection held open across two passes never blocks or fails them, and sees the new rows on
  its next query;
- two passes started together on overlapping feeds, on one machine (SQLite catalog) and as two "machines"
  sharing a PostgreSQL catalog and a data folder: every canonical URL stored once, nothing lost.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.settings import WarehouseSettings
from newsmon.demo import SiteServer, demo_feeds, serve_site
from storage.lake import attach
from tests import helpers
from tests.conftest import CLI_PASSES
from tests.postgres import PostgresServer, postgres_server  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.integration, CLI_PASSES]


def start_pass(config: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "newsmon.cli", "run", "--config", str(config), "--all"],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def run_together(configs: list[Path], folder: Path) -> None:
    logs = [folder / f"pass-{n}.log" for n in range(len(configs))]
    passes = [start_pass(config, log) for config, log in zip(configs, logs, strict=True)]
    codes = [p.wait(timeout=600) for p in passes]
    assert codes == [0] * len(configs), [log.read_text()[-3000:] for log in logs]


def config_file(path: Path, warehouse: Any, feeds: list[dict[str, str]]) -> Path:
    network = {**helpers.LOOPBACK, "per_host_concurrency": 2}
    path.write_text(yaml.safe_dump({"warehouse": warehouse, "network": network, "feeds": feeds}), encoding="utf-8")
    return path


def urls_of(settings: WarehouseSettings) -> tuple[list[str], int]:
    con = attach(settings, read_only=True)
    try:
        urls = [str(r[0]) for r in con.execute("SELECT canonical_url FROM articles").fetchall()]
        runs = con.execute("SELECT count(*) FROM runs WHERE status = 'completed'").fetchone()
    finally:
        con.close()
    return urls, int(runs[0]) if runs else 0


def reference_urls(folder: Path, feeds: list[dict[str, str]]) -> set[str]:
    """What one pass over all the feeds stores: the expected result of the overlapping writers."""
    config = config_file(folder / "reference.yaml", str(folder / "reference"), feeds)
    run_together([config], folder)
    urls, _ = urls_of(WarehouseSettings.embedded(folder / "reference"))
    return set(urls)


def overlapping(feeds: list[dict[str, str]]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Two feed lists sharing the middle feed(s)."""
    middle = len(feeds) // 2
    return feeds[: middle + 1], feeds[middle:]


@pytest.fixture
def site(site_copy: Path) -> Any:
    with serve_site(site_copy) as server:
        yield server


def test_an_analyst_connection_held_open_across_two_passes(tmp_path: Path, site: SiteServer) -> None:
    feeds = demo_feeds(site.site, site.base_url)
    first, _ = overlapping(feeds)
    settings = WarehouseSettings.embedded(tmp_path / "wh")
    config = config_file(tmp_path / "config.yaml", str(tmp_path / "wh"), first)
    run_together([config], tmp_path)
    analyst = attach(settings, read_only=True)  # held open from here to the end
    try:
        before = analyst.execute("SELECT count(*) FROM articles").fetchone()
        config_file(tmp_path / "config.yaml", str(tmp_path / "wh"), feeds)
        run_together([config], tmp_path)  # a second pass while the analyst's connection is open
        after = analyst.execute("SELECT count(*) FROM articles").fetchone()
        runs = analyst.execute("SELECT status, snapshot_id FROM runs ORDER BY started_at").fetchall()
        as_of_first = analyst.execute(f"SELECT count(*) FROM articles AT (VERSION => {runs[0][1]})").fetchone()
    finally:
        analyst.close()
    assert before is not None and after is not None and as_of_first is not None
    assert 0 < before[0] < after[0], "the open connection sees the second pass's rows on its next query"
    assert [status for status, _ in runs] == ["completed", "completed"]
    assert as_of_first[0] == before[0], "the first pass's snapshot shows the lake as that pass left it"


def test_two_local_writers_on_overlapping_feeds(tmp_path: Path, site: SiteServer) -> None:
    feeds = demo_feeds(site.site, site.base_url)
    expected = reference_urls(tmp_path, feeds)
    one, two = overlapping(feeds)
    lake = str(tmp_path / "wh")
    run_together([config_file(tmp_path / "a.yaml", lake, one), config_file(tmp_path / "b.yaml", lake, two)], tmp_path)
    urls, completed = urls_of(WarehouseSettings.embedded(tmp_path / "wh"))
    assert len(urls) == len(set(urls)), "every canonical URL stored once"
    assert set(urls) == expected, "nothing lost"
    assert completed == 2


def test_two_machines_sharing_a_postgres_catalog(
    tmp_path: Path,
    site: SiteServer,
    postgres_server: PostgresServer,  # noqa: F811
) -> None:
    feeds = demo_feeds(site.site, site.base_url)
    expected = reference_urls(tmp_path, feeds)
    one, two = overlapping(feeds)
    dsn = postgres_server.new_database()
    shared = tmp_path / "shared-data"

    def machine(name: str) -> dict[str, str]:
        return {"catalog": f"postgres:{dsn}", "data_path": str(shared), "local_dir": str(tmp_path / name)}

    configs = [config_file(tmp_path / "a.yaml", machine("a"), one), config_file(tmp_path / "b.yaml", machine("b"), two)]
    run_together(configs, tmp_path)
    urls, completed = urls_of(WarehouseSettings.postgres(dsn, str(shared), tmp_path / "reader"))
    assert len(urls) == len(set(urls)), "every canonical URL stored once"
    assert set(urls) == expected, "nothing lost"
    assert completed == 2
    assert (tmp_path / "a" / "lsh.sqlite").exists() and (tmp_path / "b" / "lsh.sqlite").exists()
