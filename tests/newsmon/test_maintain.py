"""`newsmon maintain` (a real Prefect flow run from the CLI): many small commits leave many small files and
snapshots; maintenance merges and expires them, the data stays exactly the same, and a pass's writes that
come in meanwhile are not lost."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.records import Article
from storage import warehouse as wh
from storage.maintenance import data_file_count
from storage.warehouse import Warehouse
from tests.conftest import CLI_PASSES
from tests.helpers import open_lake

pytestmark = [pytest.mark.integration, CLI_PASSES]  # a `newsmon maintain` subprocess with its Prefect server
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def article(n: int) -> Article:
    return Article(
        article_id=f"a{n:05d}",
        url=f"https://ex.com/{n}",
        canonical_url=f"https://ex.com/{n}",
        feed_url="https://ex.com/f",
        source="Ex",
        title=f"title {n}",
        text=f"body {n} " + "本文" * 300,
        text_source="page",
        language="ja",
        published_at=None,
        fetched_at=NOW,
        content_hash=f"h{n}",
    )


def fingerprint_of_lake(folder: Path) -> tuple[int, ...]:
    con = open_lake(folder)
    try:
        row = con.execute(
            "SELECT count(*), count(DISTINCT canonical_url), sum(hash(article_id || text)), max(seq) FROM articles"
        ).fetchone()
        snapshots = con.execute("SELECT count(*) FROM lake.snapshots()").fetchone()
    finally:
        con.close()
    assert row is not None and snapshots is not None
    return (*(int(v) for v in row), int(snapshots[0]))


def test_maintain_merges_files_and_expires_snapshots_without_changing_data(tmp_path: Path) -> None:
    lake = tmp_path / "wh"
    store = Warehouse(lake)
    for batch in range(25):
        with store.transaction() as con:
            wh.insert_articles(con, f"r{batch}", [article(batch * 20 + i) for i in range(20)], [], NOW)
    store.close()
    files_before = data_file_count(str(lake / "data"))
    before = fingerprint_of_lake(tmp_path)
    config = tmp_path / "config.yaml"
    config.write_text(
        f"warehouse: {lake}\nmaintenance: {{keep_snapshots_days: 0}}\nfeeds: [https://ex.com/f]\n", encoding="utf-8"
    )
    result = subprocess.run(
        [sys.executable, "-m", "newsmon.cli", "maintain", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    after = fingerprint_of_lake(tmp_path)
    files_after = data_file_count(str(lake / "data"))
    assert files_before >= 25 and files_after <= 3, (files_before, files_after)
    assert after[:4] == before[:4], "the same rows before and after"
    assert after[4] < before[4], "old snapshots expired"
    assert f"data files: {files_before} -> {files_after}" in result.stdout
