"""Alerts end to end: the real flow, Apprise's real json:// delivery, a real local webhook receiver."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsmon.demo import SiteServer, WebhookReceiver, demo_feeds, running, serve_site
from newsmon.flow import monitor_pass
from tests import helpers
from tests.conftest import CLI_PASSES
from tests.helpers import free_port, query

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]
TOKEN = "s3cr3t-t0ken-value"
PDD_TEMU = {"platforms": ["pinduoduo", "temu"], "topics": ["pricing", "cross-border"]}


@pytest.fixture
def site(site_copy: Path) -> Iterator[SiteServer]:
    with serve_site(site_copy) as server:
        yield server


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    with running(server):
        yield server


def write_config(tmp_path: Path, site: SiteServer, rules: list[dict[str, Any]]) -> Path:
    notifications = {"max_attempts": 3, "timeout_seconds": 5}
    return helpers.write_config(
        tmp_path, demo_feeds(site.site, site.base_url), alerts=rules, notifications=notifications
    )


def expected_titles(tmp_path: Path) -> set[str]:
    """The originals the PDD/Temu rule must list, computed from the warehouse independently of the outbox."""
    found = query(
        tmp_path,
        "SELECT title FROM articles WHERE duplicate_of IS NULL "
        "AND list_has_any(platforms, ['pinduoduo', 'temu']) AND list_has_any(topics, ['pricing', 'cross-border'])",
    )
    return {title for (title,) in found}


def listed_titles(message: dict[str, Any]) -> set[str]:
    return {line[2:] for line in str(message["message"]).splitlines() if line.startswith("• ")}


def test_one_digest_per_rule_and_a_rerun_sends_nothing(
    tmp_path: Path, site: SiteServer, receiver: WebhookReceiver
) -> None:
    hook = f"{receiver.apprise_url}?token={TOKEN}"
    config = write_config(
        tmp_path,
        site,
        [
            {"name": "pdd-temu", **PDD_TEMU, "notify": [hook]},
            {"name": "jd-anything", "platforms": ["jd"], "notify": [hook]},
            {"name": "nothing", "platforms": ["trendyol"], "languages": ["ko"], "notify": [hook]},
        ],
    )
    first = monitor_pass(str(config))
    titles = {m["title"].split(":")[0] for m in receiver.received}
    assert titles == {"[newsmon] pdd-temu", "[newsmon] jd-anything"}
    pdd = next(m for m in receiver.received if m["title"].startswith("[newsmon] pdd-temu"))
    assert listed_titles(pdd) == expected_titles(tmp_path) and len(listed_titles(pdd)) >= 3
    assert first["notifications_sent"] == len(query(tmp_path, "SELECT * FROM notifications WHERE status = 'sent'"))
    assert all(h.get("X-Newsmon-Digest") for h in receiver.headers_seen)
    count = len(receiver.received)
    second = monitor_pass(str(config), poll_all=True)
    assert len(receiver.received) == count and second["notifications_sent"] == 0
    # Secrets: the token is in no stored row, no run error and no channel label.
    dump = str(query(tmp_path, "SELECT * FROM notifications")) + str(query(tmp_path, "SELECT * FROM runs"))
    assert TOKEN not in dump


def test_receiver_down_then_delivered_on_the_next_pass(tmp_path: Path, site: SiteServer) -> None:
    port = free_port()
    down = WebhookReceiver.__new__(WebhookReceiver)  # not listening yet: connection refused
    url = f"json://127.0.0.1:{port}/hooks/newsmon"
    config = write_config(tmp_path, site, [{"name": "pdd-temu", **PDD_TEMU, "notify": [url]}])
    first = monitor_pass(str(config))
    assert first["status"] == "completed" and first["notifications_failed"] >= 3 and first["notifications_sent"] == 0
    failed = query(tmp_path, "SELECT DISTINCT status, attempts, last_error IS NOT NULL FROM notifications")
    assert failed == [("failed", 1, True)]
    del down
    receiver = WebhookReceiver.__new__(WebhookReceiver)
    WebhookReceiver.__init__(receiver)
    receiver.server_close()
    import http.server

    http.server.ThreadingHTTPServer.__init__(receiver, ("127.0.0.1", port), receiver.RequestHandlerClass)
    with running(receiver):
        second = monitor_pass(str(config))
    assert len(receiver.received) == 1
    assert listed_titles(receiver.received[0]) == expected_titles(tmp_path)
    assert second["notifications_sent"] == first["notifications_failed"]
    assert query(tmp_path, "SELECT DISTINCT status, attempts FROM notifications") == [("sent", 2)]


def test_attempts_are_capped_with_a_clear_status(tmp_path: Path, site: SiteServer) -> None:
    port = free_port()
    config = write_config(tmp_path, site, [{"name": "pdd-temu", **PDD_TEMU, "notify": [f"json://127.0.0.1:{port}/x"]}])
    for _ in range(4):
        monitor_pass(str(config), poll_all=True)
    assert query(tmp_path, "SELECT DISTINCT status, attempts FROM notifications") == [("failed", 3)]
    from newsmon.config import load_config
    from newsmon.status import render_status

    assert "gave up after 3 attempts" in render_status(load_config(config))


def test_digest_is_split_at_the_cap(tmp_path: Path, site: SiteServer, receiver: WebhookReceiver) -> None:
    config = write_config(
        tmp_path,
        site,
        [
            {"name": "everything", "max_per_message": 5, "notify": [receiver.apprise_url]},
        ],
    )
    monitor_pass(str(config))
    originals = query(tmp_path, "SELECT count(*) FROM articles WHERE duplicate_of IS NULL")[0][0]
    assert len(receiver.received) == -(-originals // 5)
    assert sum(len(listed_titles(m)) for m in receiver.received) == originals
    assert receiver.received[0]["title"].endswith(f"(part 1/{len(receiver.received)})")


@CLI_PASSES
def test_pass_killed_before_delivery_delivers_once_on_the_next_pass(
    tmp_path: Path, site: SiteServer, receiver: WebhookReceiver
) -> None:
    config = write_config(tmp_path, site, [{"name": "pdd-temu", **PDD_TEMU, "notify": [receiver.apprise_url]}])
    env = {**os.environ, "NEWSMON_FAULT_POINT": "before-delivery"}
    log = tmp_path / "killed-pass.log"
    with log.open("w") as output:  # a file, not a pipe: the pass's worker processes outlive the SIGKILL
        killed = subprocess.run(
            [sys.executable, "-m", "newsmon.cli", "run", "--config", str(config)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=300,
        )
    assert killed.returncode == -9, log.read_text()[-2000:]
    assert receiver.received == []
    assert query(tmp_path, "SELECT DISTINCT status FROM notifications") == [("pending",)]
    assert query(tmp_path, "SELECT status FROM runs") == [("running",)]
    second = monitor_pass(str(config))
    assert len(receiver.received) == 1 and listed_titles(receiver.received[0]) == expected_titles(tmp_path)
    assert second["articles_new"] == 0
    assert query(tmp_path, "SELECT status FROM runs ORDER BY started_at") == [("aborted",), ("completed",)]
    monitor_pass(str(config))
    assert len(receiver.received) == 1


def test_alerts_test_command_sends_a_sample(tmp_path: Path, site: SiteServer, receiver: WebhookReceiver) -> None:
    config = write_config(
        tmp_path, site, [{"name": "pdd-temu", **PDD_TEMU, "notify": [f"{receiver.apprise_url}?token={TOKEN}"]}]
    )
    ok = subprocess.run(
        [sys.executable, "-m", "newsmon.cli", "alerts", "test", "--config", str(config), "--rule", "pdd-temu"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0 and "sent" in ok.stdout and TOKEN not in ok.stdout + ok.stderr
    assert len(receiver.received) == 1 and "pdd-temu" in receiver.received[0]["title"]
    unknown = subprocess.run(
        [sys.executable, "-m", "newsmon.cli", "alerts", "test", "--config", str(config), "--rule", "nope"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert unknown.returncode == 2 and "no rule named 'nope'" in unknown.stderr
