"""A damaged near-duplicate index (class 6 of issue 16) never blocks a pass: it is derived data, so the
pass warns, rebuilds it from the warehouse and stores its articles as usual."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

import pytest

from core.settings import WarehouseSettings
from newsmon.demo import serve_site
from newsmon.flow import monitor_pass
from storage.connection import index_path
from tests.helpers import WAREHOUSE, query, write_config

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "garbage":
        path.write_bytes(os.urandom(len(data)))
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 3])
    elif how == "scribbled":  # the header survives, pages inside are overwritten
        path.write_bytes(data[:4096] + b"\xff" * 8192 + data[4096 + 8192 :])


@pytest.mark.parametrize("how", ["garbage", "truncated", "scribbled"])
def test_a_damaged_index_is_rebuilt_from_the_warehouse(
    tmp_path: Path, site_copy: Path, how: str, caplog: pytest.LogCaptureFixture
) -> None:
    with serve_site(site_copy) as server:
        feeds = [{"url": f"{server.base_url}/feeds/asia-commerce.xml", "name": "asia"}]
        config = write_config(tmp_path, feeds, pipeline={"fetch_pages": False})
        assert monitor_pass(str(config))["status"] == "completed"
        index = index_path(WarehouseSettings.embedded(tmp_path / WAREHOUSE))
        with sqlite3.connect(index) as con:  # everything in the main file, then damage it
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        _damage(index, how)
        with caplog.at_level(logging.WARNING):
            summary = monitor_pass(str(config), poll_all=True)
    assert summary["status"] == "completed"
    assert "near-duplicate index" in caplog.text and "rebuil" in caplog.text
    documents = query(tmp_path, "SELECT (SELECT count(*) FROM articles) + (SELECT count(*) FROM seed_documents)")
    with sqlite3.connect(index) as con:
        indexed = con.execute("SELECT count(*) FROM docs").fetchone()
    assert indexed == documents[0] and indexed[0] > 0
