"""The typed configuration and policies (config `network:`, `polling:`, `pipeline:`, `alerts:`, …).

Plain frozen dataclasses with safe defaults; a field's lower bound is in its metadata (`at_least`). No YAML
here: newsmon.config reads and validates the file (with core.validate).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

CatalogKind = Literal["sqlite", "postgres"]
CATALOG_FILE = "catalog.sqlite"
DATA_FOLDER = "data"


def at_least(minimum: float, default: Any) -> Any:
    """A settings field with a lower bound the config validator enforces (core.validate.read_section)."""
    return field(default=default, metadata={"minimum": minimum})


@dataclass(frozen=True)
class WarehouseSettings:
    """Where the warehouse (a DuckLake: a SQL catalog + Parquet data files) lives (config `warehouse:`).

    `catalog` is the SQLite catalog file, or a PostgreSQL libpq connection string (the password comes from
    PGPASSWORD or ~/.pgpass, never from the config). `local_dir` is this machine's folder for derived
    files (the near-duplicate index) and, for SQLite, the writers' lock files.

    The embedded layout (`warehouse: data/newsmon`) is one folder:
        data/newsmon/catalog.sqlite   the DuckLake catalog
        data/newsmon/data/            Parquet data files (main/<table>/ducklake-*.parquet)
        data/newsmon/lsh.sqlite       near-duplicate index (derived from the lake, rebuilt when missing)
        data/newsmon/writer.lock      writers hold it while they commit; passes/ holds one lock per pass
    """

    kind: CatalogKind
    catalog: str
    data_path: str
    local_dir: Path

    @classmethod
    def embedded(cls, folder: Path) -> WarehouseSettings:
        folder = folder.absolute()
        return cls("sqlite", str(folder / CATALOG_FILE), str(folder / DATA_FOLDER) + os.sep, folder)

    @classmethod
    def postgres(cls, dsn: str, data_path: str, local_dir: Path) -> WarehouseSettings:
        data = data_path if data_path.endswith(("/", os.sep)) else data_path + "/"
        return cls("postgres", dsn, data, local_dir.absolute())

    @property
    def uri(self) -> str:
        """What follows ATTACH: 'ducklake:sqlite:/…/catalog.sqlite' or 'ducklake:postgres:dbname=…'."""
        return f"ducklake:{self.kind}:{self.catalog}"

    @property
    def index_path(self) -> Path:
        return self.local_dir / "lsh.sqlite"

    def describe(self) -> str:
        return self.catalog if self.kind == "sqlite" else f"the PostgreSQL catalog '{self.catalog}'"


@dataclass(frozen=True)
class MaintenanceSettings:
    """Lake upkeep (config `maintenance:`): how long snapshots stay queryable with AT (VERSION => …)."""

    keep_snapshots_days: float = at_least(0, 7.0)


@dataclass(frozen=True)
class HttpPolicy:
    """Network settings (config `network:`), all with safe defaults."""

    allow_hosts: tuple[str, ...] = ()
    user_agent: str = "newsmon/0.1 (news monitoring; +https://github.com/newsmon/newsmon)"
    connect_timeout: float = at_least(0.1, 10.0)
    read_timeout: float = at_least(0.1, 20.0)
    deadline_seconds: float = at_least(1, 60.0)
    max_feed_bytes: int = at_least(1024, 10 * 1024 * 1024)
    max_page_bytes: int = at_least(1024, 5 * 1024 * 1024)
    max_redirects: int = 5
    retries: int = 2
    backoff_seconds: float = 0.5
    retry_after_cap_seconds: float = 10.0
    per_host_concurrency: int = at_least(1, 4)
    per_host_min_interval: float = 0.0
    max_connections: int = at_least(1, 32)


@dataclass(frozen=True)
class PollingPolicy:
    """When feeds are polled again (config `polling:`); see flows.polling."""

    min_interval_seconds: float = 0.0
    max_interval_seconds: float = 24 * 3600.0
    backoff_step_seconds: float = 15 * 60.0
    backoff_cap_seconds: float = 24 * 3600.0


@dataclass(frozen=True)
class FeedConfig:
    url: str
    name: str


@dataclass(frozen=True)
class SpikeSettings:
    """Notify when a platform's originals on the current day exceed mean + sigma x stdev of the days before."""

    days: int = at_least(2, 14)
    sigma: float = 3.0
    min_mentions: int = at_least(1, 5)


@dataclass(frozen=True)
class AlertRule:
    name: str
    platforms: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    include_duplicates: bool = False
    notify: tuple[str, ...] = ()
    max_per_message: int = at_least(1, 20)
    spike: SpikeSettings | None = None


@dataclass(frozen=True)
class NotificationSettings:
    max_attempts: int = at_least(1, 5)  # after this many failed deliveries a notification stays 'failed' (given up)
    timeout_seconds: float = at_least(1, 15.0)


@dataclass(frozen=True)
class PipelineSettings:
    batch_size: int = at_least(1, 100)
    max_entries_per_feed: int = at_least(1, 200)
    min_text_chars: int = 20
    max_text_chars: int = at_least(100, 100_000)
    extract_workers: int = 0  # 0: one per CPU core
    fetch_pages: bool = True  # False: store entries from their feed text only (paywalled sites, tests)
    dask_address: str | None = None  # tcp://scheduler:8786: extract on that Dask cluster, not local processes


@dataclass(frozen=True)
class Config:
    path: Path
    warehouse: WarehouseSettings
    seeds: Path
    taxonomy: Path | None
    network: HttpPolicy
    polling: PollingPolicy
    pipeline: PipelineSettings
    feeds: tuple[FeedConfig, ...]
    alerts: tuple[AlertRule, ...] = field(default=())
    notifications: NotificationSettings = field(default_factory=NotificationSettings)
    maintenance: MaintenanceSettings = field(default_factory=MaintenanceSettings)
    # (name, YAML text) of the bundled taxonomy and the user's `taxonomy:` file, merged in this order.
    taxonomy_sources: tuple[tuple[str, str], ...] = ()
