"""`watch:` and `websub:` config keys: defaults, values, and one-line errors naming the bad key."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigError
from core.settings import Config
from newsmon.config import parse_config

BASE = "warehouse: wh.duckdb\nfeeds: [https://example.com/rss.xml]\n"


def parse(extra: str) -> Config:
    return parse_config(BASE + extra, Path("/srv/newsmon.yaml"))


def test_defaults_and_values() -> None:
    config = parse("")
    assert config.watch.schedule.min_interval_seconds == 300 and config.watch.batch_size == 100
    assert config.websub.enabled is False
    config = parse(
        "polling: {backoff_step_seconds: 60}\n"
        "watch: {min_interval_seconds: 360, max_interval_seconds: 3600, jitter: 0.2, factor: 2,\n"
        "        batch_size: 50, batch_wait_seconds: 1.5, listen: '0.0.0.0:9000', poll_concurrency: 4}\n"
        "websub: {enabled: true, callback_url: 'https://mon.example.com/websub/', lease_seconds: 86400,\n"
        "         allow_sha1: true, max_body_bytes: 2048, quiet_seconds: 600, retry_seconds: 60}\n"
    )
    watch, websub = config.watch, config.websub
    assert (watch.schedule.min_interval_seconds, watch.schedule.max_interval_seconds) == (360, 3600)
    assert (watch.schedule.jitter, watch.schedule.factor, watch.schedule.backoff_step_seconds) == (0.2, 2, 60)
    assert (watch.batch_size, watch.batch_wait_seconds, watch.poll_concurrency) == (50, 1.5, 4)
    assert (watch.bind_host, watch.bind_port) == ("0.0.0.0", 9000)
    assert websub.callback_url == "https://mon.example.com/websub" and websub.allow_sha1
    assert (websub.lease_seconds, websub.max_body_bytes, websub.quiet_seconds) == (86400, 2048, 600)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("watch: {min_interval: 5}\n", "watch.min_interval: unknown key"),
        ("watch: {min_interval_seconds: 0}\n", "watch.min_interval_seconds: must be at least 1"),
        (
            "watch: {min_interval_seconds: 7200, max_interval_seconds: 60}\n",
            "watch.min_interval_seconds: 7200 is above",
        ),
        ("watch: {jitter: 0.9}\n", "watch.jitter: must be at most 0.5"),
        ("watch: {batch_size: 0}\n", "watch.batch_size: must be at least 1"),
        ("watch: {listen: 8765}\n", "watch.listen: expected a string"),
        ("watch: {listen: 'localhost'}\n", "watch.listen: 'localhost' is not host:port"),
        ("watch: []\n", "watch: expected a mapping"),
        ("websub: {enabled: true}\n", "websub.callback_url: missing"),
        ("websub: {enabled: 'yes', callback_url: 'https://x.example/'}\n", "websub.enabled: expected true or false"),
        (
            "websub: {callback_url: 'ftp://x.example/'}\n",
            "websub.callback_url: 'ftp://x.example/' is not an http(s) URL",
        ),
        ("websub: {lease_seconds: 5}\n", "websub.lease_seconds: must be at least 60"),
        ("websub: {secret: abc}\n", "websub.secret: unknown key"),
    ],
)
def test_bad_keys_are_named(extra: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse(extra)
    assert message in str(error.value) and str(error.value).startswith("/srv/newsmon.yaml: ")
