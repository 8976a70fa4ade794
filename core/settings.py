"""The typed configuration and policies (config `network:`, `polling:`, `pipeline:`, `alerts:`, …).

Plain frozen dataclasses with safe defaults; a field's lower bound is in its metadata (`at_least`). No YAML
here: newsmon.config reads and validates the file (with core.validate).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from core.records import FeedKind

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
    kind: FeedKind = "feed"  # feed (RSS/Atom/JSON Feed) or sitemap (a news sitemap or sitemap index)
    tags: tuple[str, ...] = ()  # from `tags:` or the OPML categories; stored on the feed's articles


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
    tags: tuple[str, ...] = ()  # any of the article's feed tags
    # 'story': the first matching article of a story notifies; later ones are updates, at most one message
    # per story every `story_updates` minutes, or with 'digest' only alongside the rule's next new stories.
    per: Literal["article", "story"] = "article"
    story_updates: int | str = 60


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
    max_sitemap_children: int = at_least(
        1, 10
    )  # a sitemap index fans out to at most this many child sitemaps, newest first


@dataclass(frozen=True)
class StoryPolicy:
    """How articles are grouped into stories (config `stories:`; extractors.stories). An article joins the
    best story whose closest member, published at most `window_hours` away, scores >= `threshold`:
    cosine of embeddings + platform_weight x Jaccard(platforms) + figure_weight x shared figures (full at
    `figures_for_full_weight`) + title_weight x Jaccard(title bigrams) - topic_penalty (topics disjoint).
    Defaults chosen on tests/data/stories (bench/RESULTS.md)."""

    enabled: bool = True
    window_hours: float = at_least(1, 72.0)
    threshold: float = 0.7
    platform_weight: float = 0.15
    figure_weight: float = 0.25
    title_weight: float = 0.3
    topic_penalty: float = 0.1
    figures_for_full_weight: int = at_least(1, 2)
    period_guard: bool = True  # never join articles naming only other reporting quarters than the story's
    candidates: int = at_least(1, 32)  # closest members (by cosine) scored in full per article


@dataclass(frozen=True)
class ScheduleSettings:
    """Config `watch:` scheduling keys (seconds); see flows.schedule."""

    min_interval_seconds: float = at_least(1, 300.0)
    max_interval_seconds: float = at_least(1, 86400.0)
    initial_interval_seconds: float = at_least(1, 900.0)  # a feed with no history yet
    factor: float = at_least(0.01, 1.0)  # Miniflux's "polling factor": x the frequency interval
    jitter: float = 0.1  # +/- this share of the interval (at most 0.5)
    smoothing: float = 0.3  # weight of the newest poll in the yield / 304 averages
    push_poll_interval_seconds: float = at_least(1, 6 * 3600.0)  # safety poll of a feed whose hub pushes
    backoff_step_seconds: float = 900.0
    backoff_cap_seconds: float = 86400.0


@dataclass(frozen=True)
class WebSubSettings:
    """Config `websub:`."""

    enabled: bool = False
    callback_url: str = ""  # public URL that reaches the watcher's /websub/ (watch.listen)
    lease_seconds: int = at_least(60, 10 * 86400)  # asked for; the hub decides
    max_body_bytes: int = at_least(1024, 5 * 1024 * 1024)
    allow_sha1: bool = False  # accept sha1 signatures (only for hubs that cannot sign otherwise)
    quiet_seconds: float = at_least(1, 24 * 3600.0)  # no push for this long: poll on the normal schedule again
    retry_seconds: float = at_least(1, 3600.0)  # a refused or unverified subscription is asked for again then


@dataclass(frozen=True)
class WatchSettings:
    """Config `watch:` (`newsmon watch`); the scheduling keys are in `schedule`."""

    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    batch_size: int = at_least(1, 100)  # a cycle starts at this many new entries ...
    # ... or when the first one has waited this long. 0.5 s: with 2 s, 200 polled feeds under 20 new
    # articles/s missed "interval + 3 s" (p95 16.5 s vs 13.5 s at 0.5 s; bench/watch.py --scenario polled).
    batch_wait_seconds: float = 0.5
    bind_host: str = "127.0.0.1"  # /websub/ callbacks, /healthz, /metrics (config `listen: host:port`)
    bind_port: int = 8765
    poll_concurrency: int = at_least(1, 16)  # feeds polled at once (per-host limits of `network:` still apply)


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
    opml: tuple[Path, ...] = ()  # OPML files whose subscriptions are in `feeds` too (config `opml:`)
    # What loading the OPML files left out or merged ("subs.opml: skipped 'X': …"), shown by status and the pass.
    source_notes: tuple[str, ...] = ()
    stories: StoryPolicy = field(default_factory=StoryPolicy)
    maintenance: MaintenanceSettings = field(default_factory=MaintenanceSettings)
    # (name, YAML text) of the bundled taxonomy and the user's `taxonomy:` file, merged in this order.
    taxonomy_sources: tuple[tuple[str, str], ...] = ()
    # IANA zone for times shown to people (status, report); None: TZ, else the machine's zone.
    timezone: str | None = None
    watch: WatchSettings = field(default_factory=WatchSettings)
    websub: WebSubSettings = field(default_factory=WebSubSettings)
