"""Config validation: every bad config is one line naming file, key and problem; the CLI exits 2."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ConfigError
from core.settings import WarehouseSettings
from newsmon.config import load_config, parse_config
from newsmon.resources import bundled_seeds_dir

GOOD = """
warehouse: data/wh.duckdb
network:
  allow_hosts: ["127.0.0.1"]
  read_timeout: 5
feeds:
  - url: https://example.com/rss.xml
    name: Example
  - https://example.org/atom.xml
alerts:
  - name: pdd-pricing
    platforms: [pinduoduo]
    topics: [pricing]
    keywords: ["anti-involution", "/反内[巻卷]/"]
    notify: ["json://127.0.0.1:9/hook?token=${NEWSMON_TEST_TOKEN}"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "newsmon.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSMON_TEST_TOKEN", "s3cret")
    config = load_config(write(tmp_path, GOOD))
    assert config.warehouse == WarehouseSettings.embedded(tmp_path / "data" / "wh.duckdb")
    assert config.warehouse.catalog == str(tmp_path / "data" / "wh.duckdb" / "catalog.sqlite")
    assert config.seeds == bundled_seeds_dir()
    assert config.network.allow_hosts == ("127.0.0.1",) and config.network.read_timeout == 5
    assert [f.name for f in config.feeds] == ["Example", "https://example.org/atom.xml"]
    assert config.alerts[0].notify == ("json://127.0.0.1:9/hook?token=s3cret",)


ALERT = "warehouse: x.duckdb\nfeeds: []\nalerts:\n"


def test_postgres_catalog_with_a_shared_data_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSMON_TEST_PG", "pw")
    text = (
        "warehouse:\n  catalog: 'postgres:host=db dbname=newsmon user=nm password=${NEWSMON_TEST_PG}'\n"
        "  data_path: shared/lake\nmaintenance: {keep_snapshots_days: 2}\nfeeds: []\n"
    )
    config = load_config(write(tmp_path, text))
    assert config.warehouse.kind == "postgres"
    assert config.warehouse.catalog == "host=db dbname=newsmon user=nm password=pw"
    assert config.warehouse.data_path == str(tmp_path / "shared" / "lake") + "/"
    assert config.warehouse.local_dir == tmp_path / ".newsmon-local"
    assert config.maintenance.keep_snapshots_days == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("warehouse: x.duckdb\nfeeds: []\nbogus: 1\n", "bogus: unknown key"),
        ("feeds: []\n", "warehouse: missing"),
        ("warehouse: x.duckdb\n", "feeds: missing"),
        ("warehouse: x.duckdb\nfeeds:\n  - url: ftp://x/\n", "feeds[0].url: not an absolute http(s) URL"),
        ("warehouse: x.duckdb\nfeeds:\n  - name: x\n", "feeds[0].url: missing"),
        ("warehouse: x.duckdb\nfeeds:\n  - {url: 'https://a/', colour: red}\n", "feeds[0].colour: unknown key"),
        ("warehouse: x.duckdb\nfeeds: [https://a/, 'https://A/']\n", "feeds[1].url: duplicate feed"),
        ("warehouse: x.duckdb\nnetwork:\n  read_timeout: fast\nfeeds: []\n", "network.read_timeout: expected a number"),
        ("warehouse: x.duckdb\nnetwork:\n  retries: -1\nfeeds: []\n", "network.retries: must be at least 0"),
        ("warehouse: x.duckdb\nnetwork: {proxy: x}\nfeeds: []\n", "network.proxy: unknown key"),
        (
            "warehouse: x.duckdb\npipeline: {dask_address: 'scheduler:8786'}\nfeeds: []\n",
            "pipeline.dask_address: 'scheduler:8786' is not a Dask scheduler address",
        ),
        (
            f"{ALERT}  - {{name: a, notify: ['json://h/']}}\n  - {{name: a, notify: ['json://h/']}}\n",
            "duplicate rule name 'a'",
        ),
        (f"{ALERT}  - {{name: a}}\n", "alerts[a].notify: a rule needs at least one Apprise URL"),
        (
            f"{ALERT}  - {{name: a, platforms: [pdd], notify: ['json://h/']}}\n",
            "alerts[a].platforms: unknown platform 'pdd'",
        ),
        (
            f"{ALERT}  - {{name: a, topics: [prices], notify: ['json://h/']}}\n",
            "alerts[a].topics: unknown topic 'prices'",
        ),
        (f"{ALERT}  - {{name: a, languages: [Japanese], notify: ['json://h/']}}\n", "alerts[a].languages:"),
        (
            f"{ALERT}  - {{name: a, keywords: ['/(?=a)b/'], notify: ['json://h/']}}\n",
            "alerts[a].keywords: bad regular expression",
        ),
        (f"{ALERT}  - {{name: a, notify: ['nosuchscheme://tok3n@h/']}}\n", "alerts[a].notify[0]: not an Apprise URL"),
        (
            f"{ALERT}  - {{name: a, spike: {{sigma: x}}, notify: ['json://h/']}}\n",
            "alerts[a].spike.sigma: expected a number",
        ),
        (
            "warehouse: x.duckdb\nfeeds: []\nalerts:\n  - {name: a, notify: ['json://h/${NOPE_NOT_SET}']}\n",
            "alerts[a].notify: environment variable NOPE_NOT_SET is not set",
        ),
        ("warehouse: {path: w, data_path: /d}\nfeeds: []\n", "warehouse.data_path: goes with warehouse.catalog"),
        ("warehouse: {data_path: /d}\nfeeds: []\n", "warehouse: give either path"),
        ("warehouse: {catalog: 'mysql:x', data_path: /d}\nfeeds: []\n", "warehouse.catalog: 'mysql:x' is not"),
        ("warehouse: {catalog: 'postgres:dbname=x'}\nfeeds: []\n", "warehouse.data_path: missing"),
        (
            "warehouse: {catalog: 'postgres:dbname=x', data_path: 's3://b/x'}\nfeeds: []\n",
            "warehouse.data_path: 's3://b/x': object storage needs DuckDB's httpfs extension",
        ),
        (
            "warehouse: {catalog: 'postgres:dbname=x password=tok3n', data_path: /d}\nfeeds: []\n",
            "warehouse.catalog: a password written in the config",
        ),
        (
            "warehouse: {catalog: 'postgres:dbname=x password=${NOPE_NOT_SET}', data_path: /d}\nfeeds: []\n",
            "warehouse.catalog: environment variable NOPE_NOT_SET is not set",
        ),
        (
            "warehouse: w\nmaintenance: {keep_snapshots_days: -1}\nfeeds: []\n",
            "maintenance.keep_snapshots_days: must be",
        ),
        ("warehouse: [1, 2\n", "not valid YAML"),
        ("- just\n- a list\n", "expected a mapping"),
    ],
)
def test_bad_config_names_key_and_problem(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value) and message in str(info.value)
    assert "\n" not in str(info.value)
    assert "tok3n" not in str(info.value), "a webhook token must never be echoed"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yaml")


def test_cli_exits_2_with_one_line_and_writes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, "warehouse: wh.duckdb\nfeeds:\n  - url: https://a/\n    interval: 5\n")
    result = subprocess.run(
        [sys.executable, "-m", "newsmon.cli", "run", "--config", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "feeds[0].interval: unknown key" in lines[0] and str(path) in lines[0]
    assert not (tmp_path / "wh.duckdb").exists()


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
        max_leaves=20,
    )
)
def test_fuzzed_config_gives_config_errors_not_tracebacks(tree: object) -> None:
    with contextlib.suppress(ConfigError):
        parse_config(yaml.safe_dump(tree), Path("/tmp/fuzz.yaml"))


def test_timezone_is_an_iana_name(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("warehouse: w.duckdb\nfeeds: [https://a.example/rss]\ntimezone: Asia/Tokyo\n", encoding="utf-8")
    assert load_config(good).timezone == "Asia/Tokyo"
    bad = tmp_path / "bad.yaml"
    bad.write_text("warehouse: w.duckdb\nfeeds: [https://a.example/rss]\ntimezone: Mars/Olympus\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"timezone: unknown time zone 'Mars/Olympus'"):
        load_config(bad)
