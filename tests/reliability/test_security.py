"""Hostile links through a real pass: private addresses, metadata redirects and odd schemes are refused,
recorded and counted; no request reaches them; webhook secrets appear in no log, row or message."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from newsmon.flow import monitor_pass
from tests.helpers import open_lake, write_config

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]
SECRET = "hook-secret-7f3a9"
# 127.0.0.1 is allow-listed here (the feed is served from it), so loopback names are not in this list;
# tests/flows/test_http.py checks localhost and ::1 against an empty allow list.
HOSTILE = [
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.8/admin",
    "http://[::1]:9/internal",
    "file:///etc/passwd",
    "ftp://ftp.example.com/x",
    "gopher://example.com/",
]


def test_hostile_links_are_refused_recorded_and_counted(
    tmp_path: Path, httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    redirect = httpserver.url_for("/to-metadata")
    links = [*HOSTILE, redirect]
    items = "".join(
        f"<item><title>hostile {i}</title><link>{link}</link>"
        "<description>A feed may link anywhere at all.</description></item>"
        for i, link in enumerate(links)
    )
    httpserver.expect_request("/feed.xml").respond_with_data(
        f"<rss version='2.0'><channel><title>hostile</title>{items}</channel></rss>", content_type="application/rss+xml"
    )
    httpserver.expect_request("/to-metadata").respond_with_data(
        "", status=302, headers={"Location": "http://169.254.169.254/latest/api/token"}
    )
    feeds = [{"url": httpserver.url_for("/feed.xml"), "name": "hostile"}]
    config = write_config(
        tmp_path, feeds, alerts=[{"name": "all", "notify": [f"json://127.0.0.1:9/hook?token={SECRET}"]}]
    )
    with caplog.at_level(logging.DEBUG):
        summary = monitor_pass(str(config))
    con = open_lake(tmp_path)
    refused = dict(con.execute("SELECT url, reason FROM link_events WHERE outcome = 'refused'").fetchall())
    run = con.execute("SELECT links_refused, status FROM runs").fetchone()
    dump = str(con.execute("SELECT * FROM notifications").fetchall()) + str(
        con.execute("SELECT * FROM runs").fetchall()
    )
    con.close()
    http_links = [link for link in links if link.startswith("http")]
    assert set(http_links) <= set(refused)
    assert "non-public address 169.254.169.254" in refused[redirect]
    schemes = sorted(reason.split("'")[1] for url, reason in refused.items() if url not in http_links)
    assert schemes == ["file", "ftp", "gopher"]
    assert run == (len(links), "completed") and summary["links_refused"] == len(links)
    assert [request.path for request, _ in httpserver.log] == ["/feed.xml", "/to-metadata"]
    assert SECRET not in caplog.text and SECRET not in dump
